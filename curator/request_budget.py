"""Every web request has a time budget: `REQUEST_BUDGET_SECONDS` (default 20 s) from when it starts.

A proxy in front gives up after 30 or 60 s and shows an error while the work goes on, so a request
never waits longer than its budget on someone else: the Spotify gateway shortens a read's timeout to
what is left and does not start a write (whose answer might then be lost) that cannot finish in
time, and a save that runs out answers with what it has done ("Finish saving" carries on). Work
outside a request (the command line, background jobs) has no budget: `deadline()` is None.
"""
from __future__ import annotations

import time

from flask import current_app, g, has_app_context, has_request_context

DEFAULT_SECONDS = 20.0


def init_app(app) -> None:
    app.config.setdefault("REQUEST_BUDGET_SECONDS", DEFAULT_SECONDS)

    @app.before_request
    def _start_the_clock() -> None:
        g.request_deadline = time.monotonic() + float(current_app.config["REQUEST_BUDGET_SECONDS"])


def deadline() -> float | None:
    """When this request must have answered (time.monotonic()), or None outside a request."""
    if not (has_app_context() and has_request_context()):
        return None
    return g.get("request_deadline")


def seconds_left() -> float | None:
    """Seconds left in this request's budget (may be negative), or None outside a request."""
    end = deadline()
    return None if end is None else end - time.monotonic()
