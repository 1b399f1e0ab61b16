"""Album covers for catalogue tracks that came without one: one GET /tracks/{id} per track, ever.

Most tracks bring their cover with them: wherever the catalogue learns a track from Spotify (search
results and album tracks in a seed refresh, a listener's own library) `store.track_row` keeps the
album's smallest image. A track imported from a dataset has none, so it is looked up here, in the
background: a batch at a time (`look_up_covers`), run by the job runner (`catalogue.covers` in
`tasks.py`, on a schedule) or by `flask --app curator catalog covers`.

- Once per track, ever: `cover_looked_up_at` is written with the answer, with or without a cover
  (a track Spotify no longer has too), and a looked-up track is never asked for again. A run that
  stops part-way (a 5xx, a lost connection, a process that died) leaves the rest unmarked, for the
  next run.
- Within Spotify's rate limits: at most `COVER_LOOKUPS_PER_MINUTE` calls, one after another, by
  the first admin who has logged in (the seed refresh's identity). A 429 goes through the gateway,
  which waits out a short Retry-After; a longer one ends the run and pauses every run until it has
  passed (a lease named `PAUSE`, held that long, seen by every process). One run at a time (`LOCK`).
- No transaction is held while Spotify answers: each answer is committed on its own (a step of
  this journal), and the catalogue's version is bumped once at the end when covers were found, so
  the engine's files are rebuilt once per batch, not per track.
- Covers are Spotify's CDN addresses (i.scdn.co), shown by the listener's browser as they are: the
  server never fetches, stores or proxies an image.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from curator.catalogue import matrix, store
from curator.clock import utcnow
from curator.extensions import db
from curator.jobs import lease
from curator.models.catalogue import CatalogueTrack
from curator.spotify.errors import SpotifyError, SpotifyNotFound, SpotifyRateLimited

log = logging.getLogger(__name__)

LOCK = "catalogue-covers"  # one run at a time, across processes
PAUSE = "catalogue-covers-paused"  # held while Spotify's Retry-After has not passed
BATCH = 200  # tracks looked up per run at most
# A run's lock lasts this long and is renewed as it goes (a dead run's lock runs out).
LOCK_LEASE = timedelta(minutes=5)

Progress = Callable[[int, int, str], None]


@dataclass
class CoverReport:
    looked_up: int = 0  # answers recorded (with or without a cover)
    found: int = 0  # covers found among them
    remaining: int = 0  # tracks still without a cover and never looked up
    stopped: str | None = None  # why the run ended early, in plain words
    paused_until: datetime | None = None  # no run asks Spotify before this (its Retry-After)

    def line(self) -> str:
        text = (f"{self.looked_up} track{'s' if self.looked_up != 1 else ''} looked up, {self.found} "
                f"cover{'s' if self.found != 1 else ''} found, {self.remaining} still to look up.")
        return f"{text} {self.stopped}" if self.stopped else text


def missing(limit: int) -> list[str]:
    """Ids of catalogue tracks without a cover that were never looked up (the oldest first)."""
    return list(db.session.scalars(
        select(CatalogueTrack.id)
        .where(CatalogueTrack.image_url.is_(None), CatalogueTrack.cover_looked_up_at.is_(None))
        .order_by(CatalogueTrack.added_at, CatalogueTrack.id).limit(limit)))


def count_missing() -> int:
    return db.session.scalar(
        select(func.count()).select_from(CatalogueTrack)
        .where(CatalogueTrack.image_url.is_(None), CatalogueTrack.cover_looked_up_at.is_(None))) or 0


def cover_of(track: dict | None) -> str | None:
    """The smallest image of a TrackObject's album (Spotify lists them largest first), as
    `store.track_row` keeps it."""
    images = ((track or {}).get("album") or {}).get("images") or []
    url = images[-1].get("url") if images else None
    return url if isinstance(url, str) and url.startswith("https://") else None


def look_up_as_admin(*, limit: int = BATCH, as_user: str | None = None, progress: Progress | None = None) -> CoverReport:
    """`look_up_covers` with the Spotify login the seed refresh uses (`as_user`, or the first
    admin who has logged in); raises `NoRefreshIdentity` (a `CuratorError`) when there is none."""
    from curator.catalogue.jobs import refresh_identity
    from curator.spotify import gateway_for

    return look_up_covers(gateway_for(refresh_identity(as_user).id), limit=limit, progress=progress)


def look_up_covers(gateway, *, limit: int = BATCH, per_minute: float | None = None,
                   sleep: Callable[[float], None] = time.sleep, progress: Progress | None = None) -> CoverReport:
    """Ask Spotify for the covers of up to `limit` tracks that have none, one GET /tracks/{id}
    each, at most `per_minute` (default COVER_LOOKUPS_PER_MINUTE) a minute. Commits as it goes;
    `progress(done, total, message)` after each answer."""
    report = CoverReport()
    paused = lease.held(PAUSE)
    if paused is not None:
        report.paused_until, report.remaining = paused[1], count_missing()
        report.stopped = "Spotify asked us to wait; the next run carries on after that."
        return report
    holder = uuid.uuid4().hex
    if not lease.acquire(LOCK, holder, LOCK_LEASE):
        report.stopped = "Another run is looking up covers right now."
        report.remaining = count_missing()
        return report
    per_minute = per_minute or float(current_app.config.get("COVER_LOOKUPS_PER_MINUTE") or 60)
    gap = 60.0 / per_minute
    try:
        ids = missing(limit)
        db.session.commit()  # the read ends here: nothing is held while Spotify answers
        last = None
        for track_id in ids:
            if last is not None:
                sleep(max(0.0, gap - (time.monotonic() - last)))
            last = time.monotonic()
            try:
                track = gateway.track(track_id)
            except SpotifyNotFound:
                track = None  # gone from Spotify: remembered too, never asked again
            except SpotifyRateLimited as exc:
                wait = max(1.0, float(exc.retry_after or 0))
                lease.acquire(PAUSE, holder, timedelta(seconds=wait))
                report.paused_until = utcnow() + timedelta(seconds=wait)
                report.stopped = f"Spotify asked us to wait {round(wait)} seconds; the next run carries on after that."
                break
            except SpotifyError as exc:  # nothing is remembered: the next run asks again
                report.stopped = f"Stopped: {exc} The next run carries on."
                break
            image = cover_of(track)
            db.session.execute(
                update(CatalogueTrack).where(CatalogueTrack.id == track_id)
                .values(image_url=func.coalesce(CatalogueTrack.image_url, image), cover_looked_up_at=utcnow()))
            db.session.commit()  # this track's answer, kept whatever happens next
            report.looked_up += 1
            report.found += image is not None
            if progress is not None:
                progress(report.looked_up, len(ids), f"{report.found} covers found")
            if report.looked_up % 25 == 0:
                lease.renew(LOCK, holder, LOCK_LEASE)
        if report.found:
            store.bump_version()
            db.session.commit()
            matrix.prepare()  # the engine's files for the new version, so no request builds them
        report.remaining = count_missing()
        db.session.commit()
    finally:
        lease.release(LOCK, holder)
    log.info("album covers: %s", report.line())
    return report
