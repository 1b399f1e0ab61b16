"""Mood definitions as stored in the database: the source of truth after the first run."""
