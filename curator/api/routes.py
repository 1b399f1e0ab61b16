"""API v1 routes."""
from curator.api import bp  # noqa: F401
