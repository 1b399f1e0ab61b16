"""The menu shows only what the user's roles may use (the server checks again on every route)."""
from __future__ import annotations

from flask import current_app, url_for

# (endpoint, label, role needed); entries whose blueprint isn't registered are skipped.
MENU = [
    ("listen.history", "History", "listener"),
    ("listen.settings", "Settings", "listener"),
    ("curate.moods", "Moods", "curator"),
    ("admin.dashboard", "Admin", "admin"),
]


def nav_extra(user):
    items = []
    for endpoint, label, role in MENU:
        if endpoint in current_app.view_functions and user.has_role(role):
            items.append({"url": url_for(endpoint), "label": label})
    return items


def init_app(app) -> None:
    app.jinja_env.globals["nav_extra"] = nav_extra
