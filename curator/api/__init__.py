"""JSON API v1 (same session login as the pages; CSRF token in X-CSRFToken for writes)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from curator.api import routes  # noqa: E402,F401
