"""Mood editor routes."""
from curator.curate import bp  # noqa: F401
