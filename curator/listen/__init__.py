"""The listener's journey: how do you feel → preview → save to Spotify → history."""
from flask import Blueprint

from curator.listen import way_back

bp = Blueprint("listen", __name__)
bp.add_app_template_global(way_back.way_back)  # the error pages' way back
bp.add_app_template_test(way_back.demo_track, "demo_track")

from curator.listen import routes  # noqa: E402,F401
