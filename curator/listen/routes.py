"""Listener pages."""
from __future__ import annotations

from flask import g, render_template

from curator.listen import bp


@bp.get("/")
def home():
    if g.user is None:
        return render_template("listen/welcome.html")
    return render_template("listen/home.html")
