"""Admin pages: dashboard, roles, catalogue and seed lists, refresh runs."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from curator.admin import catalogue_routes, routes  # noqa: E402,F401
