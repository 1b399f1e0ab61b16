"""The listener's journey: how do you feel → preview → save to Spotify → history."""
from flask import Blueprint

bp = Blueprint("listen", __name__)

from curator.listen import pages, routes  # noqa: E402,F401  (pages: the error pages' way back)
