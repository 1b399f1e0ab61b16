"""Curator pages: the versioned mood editor, live preview and calibration."""
from flask import Blueprint

bp = Blueprint("curate", __name__, url_prefix="/curate")

from curator.curate import routes  # noqa: E402,F401
