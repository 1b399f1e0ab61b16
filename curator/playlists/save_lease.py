"""A running save's lease, kept alive by a heartbeat for as long as its process lives.

A save holds a short lease (`SAVE_LEASE_SECONDS`, default 6 s) on its journal row while it talks
to Spotify; one thread per process renews the leases of every save running in that process, in one
UPDATE, three times per lease. When the process dies (`kill -9`, an out-of-memory kill, a lost
machine) the beats stop and the lease runs out within `SAVE_LEASE_SECONDS`: the preview page then
offers "Finish saving" and the next attempt takes over. A lease is never tied to how long Spotify
takes: a 9 s answer is covered by the beats, not by a longer lease.

The heartbeat uses a connection of its own for a moment each beat (never the request's, which may
be between two steps of its own).
"""
from __future__ import annotations

import logging
import secrets
import threading
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import PlaylistSave

log = logging.getLogger(__name__)


def lease_length() -> timedelta:
    return timedelta(seconds=float(current_app.config["SAVE_LEASE_SECONDS"]))


def new_holder() -> str:
    """A name for one run at a save (unique across processes and tries)."""
    return secrets.token_hex(8)


class _Heartbeat:
    """This process's leases, renewed from one daemon thread (started when the first save runs)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # holder -> (the app whose database holds the lease, the journal table: saves or refreshes)
        self.held: dict[str, tuple[object, type]] = {}
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def hold(self, app, holder: str, model: type = PlaylistSave) -> None:
        with self.lock:
            self.held[holder] = (app, model)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="save-lease-heartbeat", daemon=True)
                self.thread.start()

    def drop(self, holder: str) -> None:
        with self.lock:
            self.held.pop(holder, None)

    def _run(self) -> None:
        while True:
            with self.lock:
                by_app: dict[tuple[object, type], list[str]] = {}
                for holder, (app, model) in self.held.items():
                    by_app.setdefault((app, model), []).append(holder)
            for (app, model), holders in by_app.items():
                with app.app_context():
                    self._renew(model, holders)
            beats = [float(app.config["SAVE_LEASE_SECONDS"]) / 3 for app, _model in by_app]
            self.wake.wait(min(beats, default=1.0))

    @staticmethod
    def _renew(model: type, holders: list[str]) -> None:
        try:
            db.session.execute(
                update(model)
                .where(model.lease_holder.in_(holders))
                .values(lease_until=utcnow() + lease_length())
                .execution_options(synchronize_session=False))
            db.session.commit()
        except Exception:  # noqa: BLE001 - a missed beat is tried again; the lease has two beats' slack
            db.session.rollback()
            log.warning("could not renew %d save lease(s)", len(holders), exc_info=True)
        finally:
            db.session.remove()


_heartbeat = _Heartbeat()


def hold(app, holder: str) -> None:
    """Renew `holder`'s lease from the heartbeat until `drop(holder)`."""
    _heartbeat.hold(app, holder)


def drop(holder: str) -> None:
    _heartbeat.drop(holder)


@contextmanager
def kept(holder: str, model: type = PlaylistSave):
    """Renew `holder`'s lease on a row of `model` (a save, or a living playlist's refresh) from the
    heartbeat while the block runs."""
    _heartbeat.hold(current_app._get_current_object(), holder, model)
    try:
        yield
    finally:
        _heartbeat.drop(holder)
