"""Admin dashboard, users and roles, audit log."""
from curator.admin import bp  # noqa: F401
