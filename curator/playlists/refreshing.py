"""Refreshing a living playlist in place, exactly once per due time, never half.

Each due time of a living playlist becomes one `PlaylistRefresh` row (unique per playlist and due
time), claimed with a conditional UPDATE that moves the playlist's `next_due_at` on: however many
workers run the schedule, one of them creates it. The refresh then runs as a journal, like the
save's (`saving.py`), each step committed before and after the call to Spotify:

    pending ──curate──▶ ready(tracks) ──PUT first 100──▶ adding(items_done) ──POST the rest──▶ done

- Only the run holding the row's lease talks to Spotify (a conditional UPDATE takes it; the save's
  heartbeat renews it while the process lives, `save_lease.py`): a worker killed with `kill -9`
  lets another take over seconds later, and two workers never refresh one playlist for one due time.
- `PUT /playlists/{id}/items` replaces everything with the first 100 tracks: sending it again gives
  the same playlist, so a PUT whose answer was lost is simply sent again. The playlist is never
  empty: it holds the old version until the PUT lands and the new one's first 100 after.
- Before each `POST` of a further 100, `sending_since` is committed. Whoever resumes with it still
  set reads the playlist back: when it holds a prefix of the new version (the POST landed, or not),
  it carries on from there; otherwise (changed meanwhile) it starts again from the PUT. So a crash,
  a 5xx, a 429 or a lost answer ends with the whole new version, in order, once.
- No transaction is open during a call to Spotify (`remote_call`): each step is committed first.
- Spotify's 429s pause every refresh together (`pace.py`, shared in Redis when it is set), and
  Retry-After is honoured; 5xx and timeouts back off and try again within `LIVING_RETRY_BUDGET`.
- The world changes: a 404 or 403 on the playlist (deleted in Spotify, or no longer theirs) stops
  it for good, with a line on history; a revoked login pauses all the listener's playlists until
  they log in again, then the due ones run once.
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from curator.clock import utcnow
from curator.engine import Edit
from curator.extensions import db
from curator.models.listening import PlaylistSave
from curator.models.living import (
    LIVING_ACTIVE,
    LIVING_GONE,
    LIVING_PAUSED,
    REFRESH_ADDING,
    REFRESH_CANCELLED,
    REFRESH_DONE,
    REFRESH_GONE,
    REFRESH_OPEN,
    REFRESH_PENDING,
    REFRESH_READY,
    REFRESH_REPLACING,
    LivingPlaylist,
    PlaylistRefresh,
)
from curator.models.user import User
from curator.playlists import creation, living, pace, save_lease
from curator.playlists.edits import locked_positions
from curator.playlists.preview_request import request_of
from curator.remote_call import commit_keeping_loaded
from curator.retrying import backoff
from curator.spotify.errors import (
    SpotifyAuthError,
    SpotifyError,
    SpotifyForbidden,
    SpotifyNotFound,
    SpotifyOutOfTime,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from curator.spotify.token_store import granted_scopes

log = logging.getLogger(__name__)

ITEMS_BATCH = 100  # the API's most URIs per PUT or POST /playlists/{id}/items
RECENT_VERSIONS = 3  # a refresh avoids the tracks of the playlist's last few versions
CLAIM_CHUNK = 50  # due playlists claimed per transaction
RETRY_MAX_WAIT = 5.0
# Whether a playlist is still in the listener's library is asked at most this often (one call), and
# only when their login lets Curator read it.
LIBRARY_CHECK_EVERY = timedelta(days=7)
LIBRARY_READ_SCOPES = {"playlist-read-private", "user-library-read", "user-follow-read"}
# A POST whose answer never came is taken to land, if ever, within this many timeouts after it was sent.
SETTLE_TIMEOUTS = 2


class LeaseLost(Exception):
    """Another run took the refresh over (or it was forgotten): stop before touching Spotify."""


@dataclass
class RunReport:
    claimed: int = 0
    refreshed: int = 0
    gone: int = 0
    paused: int = 0
    failed: int = 0
    cancelled: int = 0
    calls: int = 0
    lateness: list[float] = field(default_factory=list)  # seconds from due time to done


# -- claiming due times ----------------------------------------------------------------------

def resume_logged_in(now: datetime | None = None) -> int:
    """Playlists paused by a revoked login whose listener has logged in since: active again. A
    refresh left open by the pause runs once; otherwise a due time that passed runs once."""
    now = now or utcnow()
    rows = db.session.execute(
        select(LivingPlaylist).join(User, User.id == LivingPlaylist.user_id)
        .where(LivingPlaylist.status == LIVING_PAUSED, User.last_login_at > LivingPlaylist.paused_at)
    ).scalars().all()
    for row in rows:
        open_one = db.session.scalar(select(PlaylistRefresh.id).where(
            PlaylistRefresh.living_id == row.id, PlaylistRefresh.state.in_(REFRESH_OPEN)).limit(1))
        row.status, row.status_note, row.paused_at = LIVING_ACTIVE, None, None
        if open_one is not None and row.every != "off":
            row.next_due_at = living.next_due(row.every, row.hour, row.timezone, row.weekday, now)
    db.session.commit()
    return len(rows)


def claim_checkins(now: datetime) -> int:
    """"At each check-in": one refresh for the latest check-in (before listening) from the
    playlist's start mood since the last one it turned into a refresh; how many this run created."""
    from sqlalchemy import func

    from curator.models.listening import CheckIn, Preview

    latest = func.max(CheckIn.at)
    rows = db.session.execute(
        select(LivingPlaylist.id, LivingPlaylist.user_id, LivingPlaylist.checkin_seen_at, latest)
        .join(PlaylistSave, PlaylistSave.id == LivingPlaylist.save_id)
        .join(Preview, Preview.id == PlaylistSave.preview_id)
        .join(CheckIn, (CheckIn.user_id == LivingPlaylist.user_id) & (CheckIn.from_slug == Preview.from_slug))
        .where(LivingPlaylist.every == "check-in", LivingPlaylist.status == LIVING_ACTIVE,
               CheckIn.moment == "before", CheckIn.at <= now,
               or_(LivingPlaylist.checkin_seen_at.is_(None), CheckIn.at > LivingPlaylist.checkin_seen_at))
        .group_by(LivingPlaylist.id, LivingPlaylist.user_id, LivingPlaylist.checkin_seen_at)).all()
    db.session.commit()
    claimed = 0
    for living_id, user_id, seen, at in rows:
        seen_now = LivingPlaylist.checkin_seen_at.is_(None) if seen is None else LivingPlaylist.checkin_seen_at == seen
        taken = db.session.execute(
            update(LivingPlaylist).where(LivingPlaylist.id == living_id, seen_now)
            .values(checkin_seen_at=at).execution_options(synchronize_session=False)).rowcount
        if taken == 1:
            db.session.add(_new_refresh(living_id, user_id, at, "check-in"))
            claimed += 1
        db.session.commit()
    return claimed


def _new_refresh(living_id: int, user_id: int, due_at: datetime, kind: str) -> PlaylistRefresh:
    return PlaylistRefresh(living_id=living_id, user_id=user_id, due_at=due_at, kind=kind, state=REFRESH_PENDING,
                           tracks=[], new_count=0, items_done=0, sending_items=0, attempts=0, calls=0, failures=0)


def claim_due(now: datetime | None = None) -> int:
    """One refresh for each active living playlist due by `now`; how many this run created. Due
    times missed meanwhile become one refresh (the next due time is the first after `now`)."""
    now = now or utcnow()
    resume_logged_in(now)
    claimed, after_id = claim_checkins(now), 0
    while True:
        rows = db.session.execute(
            select(LivingPlaylist.id, LivingPlaylist.user_id, LivingPlaylist.next_due_at, LivingPlaylist.every,
                   LivingPlaylist.hour, LivingPlaylist.timezone, LivingPlaylist.weekday)
            .where(LivingPlaylist.status == LIVING_ACTIVE, LivingPlaylist.every.in_(("daily", "weekly")),
                   LivingPlaylist.next_due_at <= now, LivingPlaylist.id > after_id)
            .order_by(LivingPlaylist.id).limit(CLAIM_CHUNK)).all()
        db.session.commit()
        if not rows:
            return claimed
        for row in rows:
            upcoming = living.next_due(row.every, row.hour, row.timezone, row.weekday, now)
            taken = db.session.execute(
                update(LivingPlaylist)
                .where(LivingPlaylist.id == row.id, LivingPlaylist.next_due_at == row.next_due_at,
                       LivingPlaylist.status == LIVING_ACTIVE)
                .values(next_due_at=upcoming)
                .execution_options(synchronize_session=False)).rowcount
            if taken == 1:
                db.session.add(_new_refresh(row.id, row.user_id, row.next_due_at, "scheduled"))
                claimed += 1
            db.session.commit()  # each claim on its own: another worker waits for one row's lock, not 50
        after_id = rows[-1].id


# -- running refreshes -------------------------------------------------------------------------

def open_refreshes(now: datetime, after_id: int = 0, limit: int = 200) -> list[int]:
    """Open refreshes of active playlists, due by `now`, that no live run holds."""
    ids = db.session.scalars(
        select(PlaylistRefresh.id).join(LivingPlaylist, LivingPlaylist.id == PlaylistRefresh.living_id)
        .where(PlaylistRefresh.state.in_(REFRESH_OPEN), PlaylistRefresh.due_at <= now,
               PlaylistRefresh.id > after_id, LivingPlaylist.status == LIVING_ACTIVE,
               or_(PlaylistRefresh.lease_until.is_(None), PlaylistRefresh.lease_until < utcnow()))
        .order_by(PlaylistRefresh.id).limit(limit)).all()
    db.session.commit()
    return list(ids)


def run_open(now: datetime, gateway_for: Callable, report: RunReport | None = None,
             only: set[int] | None = None) -> RunReport:
    """Run every open refresh due by `now` that no other run holds (each at most once here)."""
    report = report or RunReport()
    after_id = 0
    while True:
        page = open_refreshes(now, after_id)
        if not page:
            return report
        after_id = page[-1]
        random.shuffle(page)  # two workers walking the same page meet less often
        for refresh_id in page:
            if only is not None and refresh_id not in only:
                continue
            run_refresh(refresh_id, gateway_for, report)


def _claim(refresh_id: int) -> str | None:
    now, holder = utcnow(), secrets.token_hex(8)
    taken = db.session.execute(
        update(PlaylistRefresh)
        .where(PlaylistRefresh.id == refresh_id, PlaylistRefresh.state.in_(REFRESH_OPEN),
               or_(PlaylistRefresh.lease_until.is_(None), PlaylistRefresh.lease_until < now))
        .values(lease_until=now + save_lease.lease_length(), lease_holder=holder,
                attempts=PlaylistRefresh.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return holder if taken == 1 else None


@dataclass
class _Run:
    refresh: PlaylistRefresh
    holder: str
    gateway: object = None
    calls_seen: int = 0
    budget: float = 60.0
    first_failure: float | None = None
    failures: int = 0

    def failed(self) -> None:
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = time.monotonic()

    def retry_left(self) -> float:
        if self.first_failure is None:
            return self.budget
        return self.first_failure + self.budget - time.monotonic()

    def new_calls(self) -> int:
        """Spotify calls made since the last step was recorded."""
        if self.gateway is None:
            return 0
        made = self.gateway.calls - self.calls_seen
        self.calls_seen = self.gateway.calls
        return made


def _step(run: _Run, **values) -> None:
    """Record a step, committed at once, only while this run holds the lease (renewing it)."""
    refresh = run.refresh
    values["lease_until"] = utcnow() + save_lease.lease_length()
    made = run.new_calls()
    if made:
        values["calls"] = refresh.calls + made
    written = db.session.execute(
        update(PlaylistRefresh)
        .where(PlaylistRefresh.id == refresh.id, PlaylistRefresh.lease_holder == run.holder)
        .values(**values)
        .execution_options(synchronize_session=False)).rowcount
    commit_keeping_loaded(db.session())
    if written != 1:
        raise LeaseLost()
    for name, value in values.items():
        set_committed_value(refresh, name, value)


def _release(run: _Run, **values) -> None:
    db.session.rollback()
    made = run.new_calls()
    if made:
        values["calls"] = run.refresh.calls + made
    db.session.execute(
        update(PlaylistRefresh)
        .where(PlaylistRefresh.id == run.refresh.id, PlaylistRefresh.lease_holder == run.holder)
        .values(lease_until=None, lease_holder=None, **values)
        .execution_options(synchronize_session=False))
    db.session.commit()


def run_refresh(refresh_id: int, gateway_for: Callable, report: RunReport | None = None) -> str | None:
    """Run one refresh if no other run holds it; how it ended (a state), or None when not taken."""
    report = report if report is not None else RunReport()
    holder = _claim(refresh_id)
    if holder is None:
        return None
    refresh = db.session.get(PlaylistRefresh, refresh_id)
    if refresh is None:
        return None
    run = _Run(refresh, holder, budget=float(current_app.config.get("LIVING_RETRY_BUDGET", 60)))
    row = refresh.living
    with save_lease.kept(holder, PlaylistRefresh):
        try:
            if row.status != LIVING_ACTIVE or (refresh.state in (REFRESH_PENDING, REFRESH_READY)
                                               and row.every == "off" and refresh.kind != "restore"):
                _step(run, state=REFRESH_CANCELLED, completed_at=utcnow(), lease_until=None, lease_holder=None)
                report.cancelled += 1
                return REFRESH_CANCELLED
            if refresh.state == REFRESH_PENDING:
                rows = _curate(row)
                # Chosen and about to be sent, in one step: the PUT may be sent again safely.
                _step(run, state=REFRESH_REPLACING, tracks=rows, new_count=living._new_count(row.tracks, rows),
                      started_at=utcnow(), sending_since=utcnow(), sending_items=min(len(rows), ITEMS_BATCH))
            elif refresh.started_at is None:
                _step(run, started_at=utcnow())
            run.gateway = gateway_for(row.user_id)
            run.calls_seen = run.gateway.calls
            if refresh.state in (REFRESH_READY, REFRESH_REPLACING):  # nothing of it in Spotify yet
                _check_still_theirs(run, row)
            _send(run, row)
            _finish(run, row)
        except LeaseLost:
            db.session.rollback()
            return None
        except (SpotifyNotFound, SpotifyForbidden) as exc:
            _gone(run, row, exc)
            report.gone += 1
            return REFRESH_GONE
        except SpotifyAuthError as exc:
            _pause(run, row, exc)
            report.paused += 1
            return "paused"
        except SpotifyError as exc:
            _release(run, last_error=f"{type(exc).__name__}: {exc.message}"[:500],
                     failures=refresh.failures + 1)
            _failed(row)
            report.failed += 1
            return "failed"
        except BaseException:
            _release(run, last_error="interrupted")
            raise
    report.refreshed += 1
    report.calls += refresh.calls
    if refresh.completed_at is not None:
        report.lateness.append((refresh.completed_at - refresh.due_at).total_seconds())
    return REFRESH_DONE


def _curate(row: LivingPlaylist) -> list[dict]:
    """The same arc and length, re-curated through the engine with a new seed: locked tracks in
    their places, the tracks of the last few versions avoided (less when the catalogue runs short)."""
    save = db.session.get(PlaylistSave, row.save_id)
    preview = save.preview
    user = db.session.get(User, row.user_id)
    req = replace(request_of(preview), seed=secrets.randbits(32), before_rating=None, avoid_recent=False)
    recent = [row.tracks] + [r.tracks for r in living.done_refreshes(row.id, RECENT_VERSIONS)]
    wanted = preview.length_tracks or len(row.tracks) or len(preview.tracks)
    plan = creation.plan_for(req)
    pinned = locked_positions(preview)
    edit = Edit(pinned=pinned) if pinned else None
    best: list[dict] = []
    for avoid in ({t["id"] for version in recent for t in version}, {t["id"] for t in row.tracks}, set()):
        rows, _playlist, _notices, _req = creation.curate_rows(user, req, plan, edit=edit,
                                                                avoid=frozenset(avoid) - set(pinned.values()))
        if len(rows) > len(best):
            best = rows
        if len(best) >= wanted:
            break
    db.session.commit()  # end the read-only transaction: the next step writes
    return best


def _settle_seconds() -> float:
    """How long after it was sent a POST whose answer never came may still land."""
    return float(current_app.config["SPOTIFY_TIMEOUT"]) * (1 + SETTLE_TIMEOUTS)


class NotInLibrary(SpotifyNotFound):
    """The listener took the playlist out of their library (Spotify's "delete")."""


def _check_still_theirs(run: _Run, row: LivingPlaylist) -> None:
    """A playlist its owner "deleted" in Spotify has only left their library, and Spotify still takes
    writes to it: once a week, when the listener's login lets Curator look (one call), ask whether
    it is still there before replacing it. Not being able to ask is no reason to stop."""
    now = utcnow()
    if row.library_checked_at is not None and now - row.library_checked_at < LIBRARY_CHECK_EVERY:
        return
    if not LIBRARY_READ_SCOPES & granted_scopes(row.user_id):
        return
    try:
        pace.wait_turn()
        [kept] = run.gateway.in_library([f"spotify:playlist:{row.playlist_id}"])
    except (SpotifyRateLimited, SpotifyUnavailable, SpotifyForbidden, ValueError) as exc:
        if isinstance(exc, SpotifyRateLimited):
            pace.slow_down(exc.retry_after)
        log.info("living playlist %s: could not check the library: %s", row.id, exc)
        return
    if not kept:
        raise NotInLibrary("The playlist is no longer in the listener's Spotify library.",
                           operation="GET /me/library/contains")
    db.session.execute(update(LivingPlaylist).where(LivingPlaylist.id == row.id)
                       .values(library_checked_at=now).execution_options(synchronize_session=False))
    commit_keeping_loaded(db.session())


def _uris(rows: list[dict]) -> list[str]:
    return [f"spotify:track:{t['id']}" for t in rows]


def _send(run: _Run, row: LivingPlaylist) -> None:
    """PUT the first 100, POST the rest, riding out Spotify's bad minutes within the budget."""
    while True:
        try:
            pace.wait_turn()
            _replace_and_add(run, row)
            return
        except SpotifyOutOfTime:
            raise  # a web request's time ran out (restoring a version): the schedule's next run carries on
        except SpotifyRateLimited as exc:
            pace.slow_down(exc.retry_after)  # every refresh waits, not only this one
            run.failed()
            error, wait = exc, 0.0
            if exc.retry_after > run.retry_left():
                wait = exc.retry_after
        except SpotifyUnavailable as exc:
            run.failed()
            error, wait = exc, min(backoff(run.failures), RETRY_MAX_WAIT) * random.uniform(0.5, 1.0)
        _step(run, failures=run.refresh.failures + 1, last_error=f"{type(error).__name__}: {error.message}"[:500])
        if wait > run.retry_left() or run.retry_left() <= 0:
            raise error
        log.info("refresh %s: %s; trying again in %.1fs", run.refresh.id, error.message, wait)
        time.sleep(wait)


def _read_back(run: _Run, playlist_id: str) -> list[str | None]:
    uris: list[str | None] = []
    for entry in run.gateway.playlist_items(playlist_id):
        item = (entry or {}).get("item") or (entry or {}).get("track")
        uris.append(item.get("uri") if item else None)
    return uris


def _replace_and_add(run: _Run, row: LivingPlaylist) -> None:
    refresh = run.refresh
    wanted = _uris(refresh.tracks)
    first = wanted[:ITEMS_BATCH]
    if refresh.state == REFRESH_ADDING and refresh.sending_since is not None:
        # A POST may have landed without us hearing back (or may still land: a worker killed while
        # Spotify worked on it): the playlist says how far it got, once the POST has landed or can
        # no longer land (`SETTLE_TIMEOUTS` timeouts after it was sent).
        existing = _read_back(run, row.playlist_id)
        settle = (refresh.sending_since - utcnow()).total_seconds() + _settle_seconds()
        if len(existing) < refresh.sending_items and settle > 0:
            time.sleep(settle)
            existing = _read_back(run, row.playlist_id)
        if len(first) <= len(existing) <= len(wanted) and existing == wanted[:len(existing)]:
            _step(run, items_done=len(existing), sending_since=None)
        else:  # changed meanwhile: the PUT puts the new version's start back
            _step(run, state=REFRESH_READY, items_done=0, sending_since=None)
    if refresh.state in (REFRESH_READY, REFRESH_REPLACING):
        if refresh.state == REFRESH_READY or refresh.sending_since is None:
            _step(run, state=REFRESH_REPLACING, sending_since=utcnow(), sending_items=len(first))
        run.gateway.replace_items(row.playlist_id, first)
        if len(wanted) == len(first):  # all of it in place: `_finish` records it with the refresh's end
            set_committed_value(refresh, "items_done", len(first))
            return
        _step(run, state=REFRESH_ADDING, items_done=len(first), sending_since=None)
    while refresh.items_done < len(wanted):
        batch = wanted[refresh.items_done:refresh.items_done + ITEMS_BATCH]
        after = refresh.items_done + len(batch)
        _step(run, sending_since=utcnow(), sending_items=after)
        try:
            run.gateway.add_items(row.playlist_id, batch)
        except SpotifyRateLimited:
            _step(run, sending_since=None)  # refused: nothing was added
            raise
        except SpotifyUnavailable:
            raise  # it may have landed: the next try reads the playlist back first
        except SpotifyError:
            _step(run, sending_since=None)
            raise
        _step(run, items_done=after, sending_since=None)


def _finish(run: _Run, row: LivingPlaylist) -> None:
    """The refresh is done and the playlist's record says which version is in Spotify, together."""
    refresh, now = run.refresh, utcnow()
    values = dict(state=REFRESH_DONE, completed_at=now, lease_until=None, lease_holder=None,
                  items_done=len(refresh.tracks), sending_since=None)
    made = run.new_calls()
    if made:
        values["calls"] = refresh.calls + made
    written = db.session.execute(
        update(PlaylistRefresh)
        .where(PlaylistRefresh.id == refresh.id, PlaylistRefresh.lease_holder == run.holder)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if written != 1:
        db.session.rollback()
        raise LeaseLost()
    restore = refresh.kind == "restore"
    db.session.execute(
        update(LivingPlaylist).where(LivingPlaylist.id == row.id)
        .values(tracks=refresh.tracks, previous_tracks=None if restore else row.tracks,
                refreshed_at=now, new_tracks=refresh.new_count, failures=0,
                restored_at=now if restore else None)
        .execution_options(synchronize_session=False))
    commit_keeping_loaded(db.session())
    for name, value in values.items():
        set_committed_value(refresh, name, value)


def _gone(run: _Run, row: LivingPlaylist, exc: SpotifyError) -> None:
    """Deleted in Spotify, or no longer the listener's: stop for good and say so on history."""
    now = utcnow()
    db.session.rollback()
    db.session.execute(
        update(PlaylistRefresh).where(PlaylistRefresh.id == run.refresh.id)
        .values(state=REFRESH_GONE, completed_at=now, lease_until=None, lease_holder=None,
                last_error=f"{type(exc).__name__}: {exc.message}"[:500])
        .execution_options(synchronize_session=False))
    reason = ("you removed it from your Spotify library" if isinstance(exc, NotInLibrary)
              else "it is no longer in your Spotify account" if isinstance(exc, SpotifyNotFound)
              else "Spotify no longer lets Curator change it (it isn't yours any more)")
    day = living.local_time(now, row.timezone)
    db.session.execute(
        update(LivingPlaylist).where(LivingPlaylist.id == row.id)
        .values(status=LIVING_GONE, next_due_at=None,
                status_note=f"Stopped refreshing on {day.day} {day:%b}: {reason}.")
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(PlaylistRefresh).where(PlaylistRefresh.living_id == row.id,
                                      PlaylistRefresh.state.in_((REFRESH_PENDING, REFRESH_READY)))
        .values(state=REFRESH_CANCELLED, completed_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    log.info("living playlist %s: %s; stopped", row.id, exc.message)


def _pause(run: _Run, row: LivingPlaylist, exc: SpotifyError) -> None:
    """The listener's login was revoked: all their playlists wait until they log in again."""
    _release(run, last_error=f"{type(exc).__name__}: {exc.message}"[:500])
    db.session.execute(
        update(LivingPlaylist).where(LivingPlaylist.user_id == row.user_id, LivingPlaylist.status == LIVING_ACTIVE)
        .values(status=LIVING_PAUSED, paused_at=utcnow(),
                status_note="Paused: your Spotify login has ended. Log in again and it carries on.")
        .execution_options(synchronize_session=False))
    db.session.commit()


def _failed(row: LivingPlaylist) -> None:
    db.session.execute(update(LivingPlaylist).where(LivingPlaylist.id == row.id)
                       .values(failures=LivingPlaylist.failures + 1).execution_options(synchronize_session=False))
    db.session.commit()


def forget(user_id: int) -> None:
    """Every living playlist and refresh of the listener (the service's transaction commits)."""
    from sqlalchemy import delete

    db.session.execute(delete(PlaylistRefresh).where(PlaylistRefresh.user_id == user_id))
    db.session.execute(delete(LivingPlaylist).where(LivingPlaylist.user_id == user_id))


# -- for the admin ---------------------------------------------------------------------------

def overview(now: datetime | None = None, late_after: timedelta = timedelta(minutes=15),
             since: timedelta = timedelta(days=1)) -> dict:
    """Due, late and failing refreshes, and the Spotify calls refreshes cost (those of the last day
    and those still open, failed tries included)."""
    from sqlalchemy import func

    now = now or utcnow()
    due = db.session.scalar(select(func.count()).select_from(LivingPlaylist).where(
        LivingPlaylist.status == LIVING_ACTIVE, LivingPlaylist.every != "off", LivingPlaylist.next_due_at <= now)) or 0
    open_ = db.session.scalar(select(func.count()).select_from(PlaylistRefresh).where(
        PlaylistRefresh.state.in_(REFRESH_OPEN))) or 0
    late = db.session.scalar(select(func.count()).select_from(PlaylistRefresh).where(
        PlaylistRefresh.state.in_(REFRESH_OPEN), PlaylistRefresh.due_at < now - late_after)) or 0
    failing = db.session.scalar(select(func.count()).select_from(LivingPlaylist).where(
        LivingPlaylist.failures > 0, LivingPlaylist.status == LIVING_ACTIVE)) or 0
    paused = db.session.scalar(select(func.count()).select_from(LivingPlaylist).where(
        LivingPlaylist.status == LIVING_PAUSED)) or 0
    gone = db.session.scalar(select(func.count()).select_from(LivingPlaylist).where(
        LivingPlaylist.status == LIVING_GONE)) or 0
    living_count = db.session.scalar(select(func.count()).select_from(LivingPlaylist).where(
        LivingPlaylist.every != "off")) or 0
    done = db.session.scalar(select(func.count()).select_from(PlaylistRefresh).where(
        PlaylistRefresh.state == REFRESH_DONE, PlaylistRefresh.completed_at >= now - since)) or 0
    calls = db.session.scalar(select(func.coalesce(func.sum(PlaylistRefresh.calls), 0)).where(
        or_(PlaylistRefresh.completed_at >= now - since, PlaylistRefresh.state.in_(REFRESH_OPEN)))) or 0
    return {"living": living_count, "due": due + open_, "late": late, "failing": failing, "paused": paused,
            "gone": gone, "refreshed": done, "calls": int(calls),
            "calls_per_refresh": round(int(calls) / done, 2) if done else None}
