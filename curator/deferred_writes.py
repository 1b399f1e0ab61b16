"""Writes that must outlive the view's transaction (a refreshed Spotify token, the call log).

A request holds at most one database connection: the ORM session's. A token refreshed halfway
through a view must be kept even when the view then rolls back, so it is not written at once on a
second connection; it waits here, and the session interface writes it right after the view's
transaction has ended, on that same connection, in a short transaction of its own (`flush`).

Outside a request (CLI commands, background jobs) writes happen at once on their own connection,
except within `held()`: a save thread holds its call log until the save has ended, then writes it
in one transaction instead of one per call to Spotify.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy.exc import SQLAlchemyError

from curator.extensions import db

Write = Callable[[object], None]  # receives a SQLAlchemy Session or Connection to execute on


def write(key, run: Write, value=None) -> None:
    """Run `run` now (no request) or after the view (in a request).

    A later write with the same `key` replaces an earlier one, so a token refreshed twice is
    written once; `value` is what `pending(key)` answers in the meantime.
    """
    if not _holding():
        with db.engine.begin() as conn:
            run(conn)
        return
    _queue()[key] = (run, value)


def pending(key, default=None):
    """The value of a write still waiting in this request, or `default`."""
    if not _holding():
        return default
    entry = _queue().get(key)
    return default if entry is None else entry[1]


def flush() -> None:
    """Write everything this request deferred, in one transaction on the ORM session.

    Call only after the view's own transaction has ended. A failed write (say, a token for an
    account whose creation rolled back) is logged and dropped rather than failing the response.
    """
    queue = g.pop("_deferred_writes", None)
    if not queue:
        return
    try:
        for run, _value in queue.values():
            run(db.session)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("could not write %d deferred record(s)", len(queue))


@contextmanager
def held():
    """Outside a request (a save thread, in an app context): hold the writes made in the block and
    write them when it ends, as a request does after its view. Whatever the block left uncommitted
    when it failed is rolled back first, never written with them."""
    g._deferred_writes = {}
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    finally:
        flush()


def _holding() -> bool:
    return has_request_context() or (has_app_context() and "_deferred_writes" in g)


def _queue() -> dict:
    if "_deferred_writes" not in g:
        g._deferred_writes = {}
    return g._deferred_writes
