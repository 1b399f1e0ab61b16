"""The playlist domain's background work on the job runner (`curator.jobs`): living playlists, a
save that ran out of its request's time, and the look for strays a late create may have left.

`living.refresh-due` runs every few minutes (RQ's scheduler with REDIS_URL, else `flask --app
curator jobs run-due` from cron): it claims every living playlist due by then and refreshes it in
place (`service.refresh_due`; the refresh journal makes each due time happen once, whatever runs
it). With RQ it also hands `living.refresh-open` to the other workers, which join in on the
refreshes claimed and not yet taken, so a large batch of due playlists is shared among them.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import current_app

from curator import jobs
from curator.playlists import service
from curator.spotify.errors import SpotifyError

log = logging.getLogger(__name__)

EVERY_MINUTES = 5
# How many other workers are asked to help with a batch of due playlists (RQ only).
HELPERS = 3


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


@jobs.every("living.refresh-due", minutes=EVERY_MINUTES)
def refresh_due(*, due_at: datetime) -> None:
    # Everything due by this tick, or by now when the tick runs late.
    now = max(_naive_utc(due_at), service.now())
    claimed = service.claim_due_refreshes(now)
    if claimed and current_app.config.get("REDIS_URL"):
        for helper in range(HELPERS):
            try:
                jobs.enqueue("living.refresh-open", unique=f"living.refresh-open:{helper}", at=now.isoformat())
            except jobs.QueueUnavailable:
                break
    service.run_open_refreshes(now)


@jobs.task("living.refresh-open")
def refresh_open(*, at: str) -> None:
    service.run_open_refreshes(datetime.fromisoformat(at))


@jobs.task("playlists.finish_save")
def finish_save(*, save_id: int) -> None:
    """Carry on with a save that ran out of request time (`service._finish_in_background`); what
    Spotify answered is recorded on the save, whose page then offers "Finish saving" if it stopped."""
    try:
        service.finish_save(save_id)
    except SpotifyError as exc:
        log.info("save %s could not be finished in the background: %s", save_id, exc)


@jobs.every("playlists.remove-strays", minutes=5)
def remove_strays(*, due_at: datetime) -> None:
    """Every finished save whose look for a stray playlist is due (`SAVE_STRAY_CHECK_SECONDS` after
    a lost create): the empty playlists a late create left are taken out of the listeners' accounts."""
    service.remove_strays()
