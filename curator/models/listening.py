"""Listener tables (previews, saved playlists, check-ins)."""
