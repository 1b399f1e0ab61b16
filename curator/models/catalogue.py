"""Catalogue tables (tracks, features, seeds, runs)."""
