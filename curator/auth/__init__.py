"""Spotify login, logout, and who the current user is."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from curator.auth import routes  # noqa: E402,F401
