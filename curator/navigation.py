"""The menu shows only what the user's roles may use (the server checks again on every route)."""
from __future__ import annotations

from flask import url_for

# (endpoint, label, role needed); every blueprint is always registered.
MENU = [
    ("listen.history", "History", "listener"),
    ("listen.settings", "Settings", "listener"),
    ("curate.moods", "Moods", "curator"),
    ("admin.dashboard", "Admin", "admin"),
]


def nav_extra(user):
    items = []
    for endpoint, label, role in MENU:
        if user.has_role(role):
            items.append({"url": url_for(endpoint), "label": label})
    return items


def init_app(app) -> None:
    app.jinja_env.globals["nav_extra"] = nav_extra
