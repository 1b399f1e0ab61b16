"""Saving a preview to Spotify exactly once.

A double click, a resubmitted form, a retry after a timeout or a crash half-way must never give
a second playlist nor a missing or doubled track. Every step is written down before and after it
happens, in one `PlaylistSave` row per preview (unique), and a retry resumes from that record:

    pending ──create──▶ creating ──▶ created(playlist_id) ──▶ adding(items_added) ──▶ done

- Only the run holding the row's lease talks to Spotify. The lease is taken with a conditional
  UPDATE (two requests can't both create), is short (`SAVE_LEASE_SECONDS`) and is renewed by a
  heartbeat while the holder's process lives (`save_lease.py`): a save whose worker died can be
  finished seconds later. Every step is written only while the run still holds the lease.
- No transaction is open while Spotify is asked: each step is committed before the call and its
  outcome recorded after it (`curator.remote_call` refuses a call with writes pending), so a save
  waiting 9 s on Spotify holds no lock and no connection.
- Before a create or an add, `sending_since` is committed; it is cleared when the answer is
  recorded. Whoever resumes a save with it still set (after a lost answer, or in another process
  after a crash) knows the write may still land: it reads back first (the marker among the
  listener's playlists, the playlist's items) and sends again only once the read-back shows it
  landed or it can no longer land (`SETTLE_TIMEOUTS` timeouts after it was sent).
- `creating` means "POST /me/playlists may have been sent": the playlist's description carries a
  short random marker, found through GET /me/playlists. If a create lands even later than that,
  after the save made another, the late one is found by its marker and taken out of the listener's
  account when empty (`remove_strays`, `stray_check_at`): eventually one playlist.
- The playlist id is committed the moment Spotify returns it.

Within one save, Spotify's bad minutes are ridden out: after a 5xx, a timeout or a broken
connection the save waits (backing off), settles what happened by reading back and carries on, for
at most `SAVE_RETRY_BUDGET` seconds after the first failure; a 429 is waited out when its
Retry-After fits in that budget. When the budget runs out the record keeps every step done, the
error names the real cause, and saving again ("Finish saving") resumes.

In a web request the save also keeps to the request's time budget (`REQUEST_BUDGET_SECONDS`): when
what is left can't hold the next step, it stops with what it has done and answers so
(`SaveOutcome.finished` False); the job runner carries on in the background where one runs, and
"Finish saving" does otherwise.
"""
from __future__ import annotations

import base64
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from curator import caching
from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import (
    SAVE_ADDING,
    SAVE_CREATED,
    SAVE_CREATING,
    SAVE_DONE,
    SAVE_PENDING,
    PlaylistSave,
    Preview,
)
from curator.playlists import save_lease
from curator.playlists.errors import IdempotencyKeyReused, SaveInProgress
from curator.remote_call import commit_keeping_loaded
from curator.retrying import backoff
from curator.spotify.errors import SpotifyError, SpotifyOutOfTime, SpotifyRateLimited, SpotifyUnavailable
from curator.spotify.token_store import granted_scopes

log = logging.getLogger(__name__)

# The API's maximum URIs per POST /playlists/{id}/items (a module constant so tests can shrink it).
ADD_BATCH = 100
# How many of the listener's playlists to search for a lost create (GET /me/playlists: 20 pages of 50).
MARKER_SEARCH_LIMIT = 1000
# How long another request waits for a save already under way before answering "in progress".
WAIT_FOR_OTHER_SECONDS = 8.0
DESCRIPTION_LIMIT = 300
# Backoff between tries within one save: the one backoff of `curator.retrying`, capped lower so
# that five failures in a row fit in the default 10 s budget, each wait shortened by up to half
# at random so that many saves hit by the same outage do not all come back at once.
RETRY_MAX_WAIT = 2.0
# A write whose answer never came is taken to land, if ever, within this many timeouts after we
# stopped waiting for it; until then it is not sent again unless the read-back shows it landed.
SETTLE_TIMEOUTS = 2
# While a write whose answer never came may still land, look whether it has this often (seconds).
SETTLE_POLL_SECONDS = 2.0
# Seconds of a request's budget kept for answering after the save stops.
ANSWER_MARGIN = 0.5


@dataclass(frozen=True)
class SaveOutcome:
    save: PlaylistSave
    replay: bool  # True when the playlist was already saved before this request
    finished: bool = True  # False: the request's time ran out first (see `message`)
    continuing: bool = False  # ... and the job runner carries on with it in the background
    message: str = ""


class LeaseLost(Exception):
    """Another run took the save over (this one's lease ran out): stop before touching Spotify."""


class _OutOfTime(Exception):
    """The request's time budget can't hold the next step; the record keeps everything done."""


def playlist_name(start_name: str, target_name: str, when) -> str:
    return f"{start_name} → {target_name} · {when.day} {when:%b %Y}"


# The marker is written with characters that take no space when shown (zero-width space, non-joiner,
# joiner, word joiner: two bits each), so the listener reads the description, not a reference
# number, and the journal still finds its playlist by it.
_MARKER_ALPHABET = "\u200b\u200c\u200d\u2060"


def new_marker() -> str:
    """A random marker (32 bits) that is invisible in the playlist's description."""
    bits = secrets.randbits(32)
    return "".join(_MARKER_ALPHABET[(bits >> shift) & 3] for shift in range(0, 32, 2))


def playlist_description(start_name: str, target_name: str, count: int, minutes: int, marker: str) -> str:
    """One line, at most 300 characters, ending in the marker that finds it again."""
    text = (f"A {count}-track, about {minutes}-minute journey from {start_name.lower()} to "
            f"{target_name.lower()}, made with Curator for mindful listening.")
    # A marker of the older, visible kind ("ref 1a2b3c4d") keeps its brackets.
    tail = f" ({marker})" if marker.startswith("ref ") else marker
    text = " ".join(text.split())  # no newlines, single spaces
    return text[: DESCRIPTION_LIMIT - len(tail)] + tail


def remaining_uris(existing: list[str | None], wanted: list[str]) -> list[str]:
    """What still has to be added so the playlist holds `wanted`, in order, each once.

    `existing` is what the playlist holds now (None where Spotify did not say which item it
    is). When it is a prefix of `wanted`, the rest follows; if the listener has changed the
    playlist meanwhile, only the tracks not in it yet are appended.
    """
    if len(existing) <= len(wanted) and all(e is None or e == w for e, w in zip(existing, wanted)):
        return wanted[len(existing):]
    present = {e for e in existing if e}
    return [w for w in wanted if w not in present]


def running(save: PlaylistSave | None) -> bool:
    """Whether a run holds the save's lease right now (its process is alive and working on it)."""
    return (save is not None and save.state != SAVE_DONE and save.lease_until is not None
            and save.lease_until >= utcnow())


def unfinished(preview: Preview) -> PlaylistSave | None:
    """The preview's save when it was started, stopped before the end and is not running now:
    saving again ("Finish saving") resumes it."""
    save = preview.save
    if save is None or save.state == SAVE_DONE or save.attempts == 0 or running(save):
        return None
    return save


def _settle_seconds() -> float:
    """How long after it was sent a create or add whose answer never came may still land."""
    return current_app.config["SPOTIFY_TIMEOUT"] * (1 + SETTLE_TIMEOUTS)


@dataclass
class _Attempt:
    """One run at a save: its lease, its retry budget and the request's deadline."""

    holder: str
    budget: float  # seconds for trying again, counted from the first failure
    time_left: object  # () -> seconds left in the request's budget, or None (no request)
    failures: int = 0
    first_failure: float | None = None  # time.monotonic() of the first failure

    def failed(self) -> None:
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = time.monotonic()

    def retry_left(self) -> float:
        """Seconds of the retry budget left for waiting and trying again."""
        if self.first_failure is None:
            return self.budget
        return self.first_failure + self.budget - time.monotonic()

    def request_left(self) -> float:
        """Seconds the request may still wait before it must answer (infinite outside a request)."""
        left = self.time_left()
        return float("inf") if left is None else left - ANSWER_MARGIN

    def sleep(self, seconds: float) -> None:
        if seconds > self.request_left():
            raise _OutOfTime()
        time.sleep(seconds)


def _may_land_late(exc: SpotifyUnavailable) -> bool:
    """We stopped waiting while Spotify may still be working on it (a read or gateway timeout).

    A broken connection is settled by the read-back at once: whatever Spotify did with the
    request, it did before the connection closed. A connect timeout never sent anything, nor did
    a call our own deadline kept from starting.
    """
    if isinstance(exc, SpotifyOutOfTime):
        return exc.sent
    if exc.http_status is not None:
        return exc.http_status == 504
    cause = exc.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False
    return not isinstance(cause, requests.ConnectionError) or isinstance(cause, requests.Timeout)


def plain_cause(exc: SpotifyError) -> str:
    """What went wrong, in the listener's words: a 503 is trouble at Spotify, a timeout is a timeout."""
    if isinstance(exc, SpotifyRateLimited):
        return "Spotify asked us to slow down"
    if isinstance(exc, SpotifyOutOfTime):
        return "Spotify is slow to answer right now"
    if isinstance(exc, SpotifyUnavailable):
        if exc.http_status == 504 or isinstance(exc.__cause__, requests.Timeout):
            return "Spotify didn't answer in time"
        if exc.http_status is not None and exc.http_status >= 500:
            return f"Spotify is having trouble right now (it answered {exc.http_status})"
        if isinstance(exc.__cause__, requests.ConnectionError):
            return "The connection to Spotify broke off"
        return "Spotify didn't answer in time"
    return exc.message.rstrip(".")


def _explain(exc: SpotifyError, save: PlaylistSave, total: int) -> None:
    """Say the real cause and where the save stands, on the error the listener will see: the page
    flashes this text and the API answers it, both unchanged."""
    again = None
    if isinstance(exc, SpotifyRateLimited):
        at = utcnow() + timedelta(seconds=exc.wait_seconds)
        again = f"please try again in {exc.wait_seconds} seconds (after {at:%H:%M:%S} UTC)"
    if save.playlist_id:
        where = f"Your playlist is in your Spotify account with {save.items_added} of {total} tracks so far. "
        where += (f"{again[0].upper()}{again[1:]}: choose “Finish saving” to add the rest; nothing will be doubled."
                  if again else "Choose “Finish saving” to add the rest; nothing will be doubled.")
    elif save.state == SAVE_CREATING:
        where = ("Spotify may still make the playlist without telling us: saving again finds it instead of "
                 "making a second one.") + (f" {again[0].upper()}{again[1:]}." if again else "")
    else:
        where = ("No playlist was made yet and your preview is kept: "
                 + (f"{again}." if again else "please try saving again in a minute."))
    if isinstance(exc, (SpotifyUnavailable, SpotifyRateLimited)):
        exc.message = f"{plain_cause(exc)}, so the playlist isn't saved yet. {where}"
    else:
        exc.message = f"{exc.message} {where}"
    exc.args = (exc.message,)


def progress_message(save: PlaylistSave, total: int, continuing: bool) -> str:
    """What a save that ran out of request time tells the listener."""
    if save.playlist_id:
        where = f"Your playlist is in your Spotify account with {save.items_added} of {total} tracks so far."
    else:
        where = "Your playlist isn't made yet, and it will be made only once."
    then = ("We're finishing it in the background: this page shows it when it's done."
            if continuing else "Choose “Finish saving” to carry on; nothing will be doubled.")
    return f"Spotify is slow to answer right now, so saving takes longer than usual. {where} {then}"


def _row_for(user, preview: Preview, key: str | None, start_name: str, target_name: str
             ) -> tuple[PlaylistSave, str | None]:
    """The preview's save record, created on first use (unique per preview) with its lease taken:
    (the record, the new holder's name when this call made it, else None)."""
    # One read finds both the preview's record and the one an Idempotency-Key names, if another.
    found = PlaylistSave.preview_id == preview.id
    if key is not None:
        found = or_(found, and_(PlaylistSave.user_id == user.id, PlaylistSave.idempotency_key == key))
    save = None
    for row in db.session.scalars(select(PlaylistSave).where(found)):
        if row.preview_id == preview.id:
            save = row
        elif row.user_id == user.id and row.idempotency_key == key:
            raise IdempotencyKeyReused()
    if save is not None:
        return save, None
    marker, now, holder = new_marker(), utcnow(), save_lease.new_holder()
    tracks = preview.tracks
    save = PlaylistSave(
        preview_id=preview.id, user_id=user.id, idempotency_key=key, state=SAVE_PENDING, marker=marker,
        attempts=1, lease_until=now + save_lease.lease_length(), lease_holder=holder,  # as `claim` takes it
        name=preview.options.get("name") or playlist_name(start_name, target_name, utcnow()),
        description=playlist_description(start_name, target_name, len(tracks),
                                         round(preview.duration_ms / 60000), marker),
    )
    db.session.add(save)
    try:
        commit_keeping_loaded(db.session())  # what was read and written here is still true after it
    except IntegrityError:
        # A concurrent request made the row first (or took the key): use theirs.
        db.session.rollback()
        save = db.session.scalar(select(PlaylistSave).where(PlaylistSave.preview_id == preview.id))
        if save is None:
            raise IdempotencyKeyReused() from None
        return save, None
    return save, holder


# Every column of a save, as an UPDATE ... RETURNING gives them back (attribute name, column).
_COLUMNS = [(attr.key, attr.columns[0]) for attr in PlaylistSave.__mapper__.column_attrs]


def claim(save: PlaylistSave) -> str | None:
    """Take the save's lease when nobody holds it; the new holder's name, or None."""
    now, holder = utcnow(), save_lease.new_holder()
    row = db.session.execute(
        update(PlaylistSave)
        .where(PlaylistSave.id == save.id, PlaylistSave.state != SAVE_DONE,
               or_(PlaylistSave.lease_until.is_(None), PlaylistSave.lease_until < now))
        .values(lease_until=now + save_lease.lease_length(), lease_holder=holder,
                attempts=PlaylistSave.attempts + 1)
        .returning(*(column for _, column in _COLUMNS))
        .execution_options(synchronize_session=False)
    ).first()
    commit_keeping_loaded(db.session())
    if row is None:
        db.session.refresh(save)  # who holds it, or that it is done
        return None
    for (name, _), value in zip(_COLUMNS, row):  # the record as taken, without reading it again
        set_committed_value(save, name, value)
    return holder


def _step(save: PlaylistSave, attempt: _Attempt, **values) -> None:
    """Record a step, committed at once, only while this run holds the lease (which it renews)."""
    values.setdefault("lease_until", utcnow() + save_lease.lease_length())
    written = db.session.execute(
        update(PlaylistSave)
        .where(PlaylistSave.id == save.id, PlaylistSave.lease_holder == attempt.holder)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    commit_keeping_loaded(db.session())
    if written != 1:
        raise LeaseLost()
    for name, value in values.items():
        set_committed_value(save, name, value)


def _release(save: PlaylistSave, holder: str, error: str | None = None) -> None:
    """Let other runs resume the save (if this run still held it)."""
    db.session.rollback()  # drop anything half-done in this session; the record is committed per step
    db.session.execute(
        update(PlaylistSave)
        .where(PlaylistSave.id == save.id, PlaylistSave.lease_holder == holder)
        .values(lease_until=None, lease_holder=None, last_error=error)
        .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(save)


def _wait_for_other(save: PlaylistSave, attempt_left) -> bool:
    """Wait briefly for the run holding the lease; True when it finished the save."""
    deadline = time.monotonic() + min(WAIT_FOR_OTHER_SECONDS, max(0.0, attempt_left() - 1.0))
    while time.monotonic() < deadline:
        time.sleep(0.2)
        db.session.commit()  # end our snapshot so we see the other run's commits
        db.session.refresh(save)
        if save.state == SAVE_DONE:
            return True
        if not running(save):
            return False
    return False


def save_to_spotify(user, preview: Preview, gateway, *, key: str | None = None,
                    start_name: str, target_name: str, colours: tuple[str, str] = ("#888888", "#444444"),
                    continue_later=None) -> SaveOutcome:
    """Save `preview` as a private playlist in `user`'s Spotify account, exactly once.

    Returns the record, whether it was a replay, and whether the save finished: in a request whose
    time budget runs out first it stops with what it has done and calls `continue_later(save)`
    (True when the job runner carries on with it). Spotify errors propagate (the record keeps what
    was done, so calling again resumes); `SaveInProgress` when another run is saving the same
    preview and did not finish within a few seconds; `IdempotencyKeyReused` when `key` already
    saved another preview.
    """
    save, holder = start(user, preview, key=key, start_name=start_name, target_name=target_name)
    if save.state == SAVE_DONE:
        return SaveOutcome(save, replay=True)
    if holder is None:
        if save.state == SAVE_DONE:
            return SaveOutcome(save, replay=True)
        if _wait_for_other(save, lambda: _request_left(gateway)):
            return SaveOutcome(save, replay=True)
        # The other run stopped (its error is recorded) or its process died: try to take over.
        holder = claim(save)
        if holder is None:
            raise SaveInProgress()
    return carry_on(user.id, save, preview.tracks, gateway, holder, colours=colours, continue_later=continue_later)


def start(user, preview: Preview, *, key: str | None = None, start_name: str, target_name: str
          ) -> tuple[PlaylistSave, str | None]:
    """The preview's save record and, unless it is done or another run holds it, its lease (the new
    holder's name; None otherwise). Quick: a few statements, nothing sent to Spotify. The caller then
    runs `carry_on` with the holder (in this thread or another one)."""
    save, holder = _row_for(user, preview, key, start_name, target_name)
    if holder is not None or save.state == SAVE_DONE:
        return save, holder
    return save, claim(save)


def between_steps() -> None:
    """End this thread's read-only transaction (nothing is pending between two steps): the request
    holds no database connection while a save thread carries on."""
    commit_keeping_loaded(db.session())


def wait_for_other(save: PlaylistSave, seconds: float) -> bool:
    """Wait at most `seconds` for the run holding the save's lease; True when it finished the save."""
    return _wait_for_other(save, lambda: seconds + 1.0)


def carry_on(user_id: int, save: PlaylistSave, tracks: list[dict], gateway, holder: str, *,
             colours: tuple[str, str] = ("#888888", "#444444"), continue_later=None) -> SaveOutcome:
    """Run the save whose lease `holder` holds to its end (or to the request's time budget): create
    or find the playlist, fill it with `tracks` (the preview's), add the cover; the lease is renewed
    by the heartbeat meanwhile and released at the end, whatever happens."""
    attempt = _Attempt(holder=holder, budget=current_app.config["SAVE_RETRY_BUDGET"], time_left=gateway.seconds_left)
    with save_lease.kept(holder):
        try:
            upload = not save.cover and COVER_SCOPE in _scopes(gateway, user_id)

            def finish() -> dict:
                """The last step: done, and unless a cover is to be uploaded, the lease given back."""
                values = {"state": SAVE_DONE, "completed_at": utcnow()}
                if not upload:
                    values.update(cover=save.cover or "skipped", lease_until=None, lease_holder=None,
                                  last_error=None)
                return values

            _run(gateway, save, tracks, attempt, finish)
            if save.state != SAVE_DONE:
                _step(save, attempt, **finish())
        except _OutOfTime:
            _release(save, holder)
            continuing = bool(continue_later and continue_later(save))
            return SaveOutcome(save, replay=False, finished=False, continuing=continuing,
                               message=progress_message(save, len(tracks), continuing))
        except LeaseLost:
            db.session.rollback()
            raise SaveInProgress() from None
        except SpotifyError as exc:
            _release(save, holder, f"{type(exc).__name__}: {plain_cause(exc)}")
            _explain(exc, save, len(tracks))
            raise
        except BaseException:
            _release(save, holder, "interrupted")
            raise
        if upload:
            _add_cover(gateway, save, holder, colours)
    return SaveOutcome(save, replay=False)


COVER_SCOPE = "ugc-image-upload"


def _scopes(gateway, user_id: int) -> set[str]:
    """The scopes the listener granted: those of the token the gateway holds (read once per save)."""
    scopes = gateway.granted_scopes()
    return granted_scopes(user_id) if scopes is None else scopes


def _request_left(gateway) -> float:
    left = gateway.seconds_left()
    return float("inf") if left is None else left


def _run(gateway, save: PlaylistSave, tracks: list[dict], attempt: _Attempt, finish) -> None:
    """Create (or find) the playlist and fill it, trying again after Spotify's passing errors; the
    last add's outcome is recorded with `finish()`'s values (the save done)."""
    while True:
        try:
            if save.state in (SAVE_PENDING, SAVE_CREATING):
                _ensure_playlist(gateway, save, attempt)
            _add_items(gateway, save, tracks, attempt, finish)
            return
        except SpotifyOutOfTime as exc:
            if exc.sent:
                attempt.failed()
            raise _OutOfTime() from exc
        except SpotifyRateLimited as exc:
            attempt.failed()
            error, wait = exc, exc.retry_after
        except SpotifyUnavailable as exc:
            attempt.failed()
            wait = min(backoff(attempt.failures), RETRY_MAX_WAIT)
            error, wait = exc, wait * random.uniform(0.5, 1.0)
        if wait > attempt.retry_left():
            raise error
        log.info("save %s: %s; trying again in %.1fs", save.id, plain_cause(error), wait)
        attempt.sleep(wait)


def _settle(save: PlaylistSave, attempt: _Attempt, landed) -> bool:
    """After a write whose answer never came (`sending_since`): wait until `landed()` shows it
    arrived or it can no longer arrive. True when it landed. Raises `_OutOfTime` when the wait
    doesn't fit in the request (the job runner or "Finish saving" settles it later)."""
    if landed():
        return True
    if save.sending_since is None:
        return False
    # Look again every few seconds rather than once at the end: a write that lands in 9 s (say, one
    # sent by a process that was killed meanwhile) is then found seconds after it landed.
    while True:
        wait = (save.sending_since - utcnow()).total_seconds() + _settle_seconds()
        if wait <= 0:
            return False
        attempt.sleep(min(wait, SETTLE_POLL_SECONDS))  # `_OutOfTime` once the request can't wait more
        if landed():
            return True


def _ensure_playlist(gateway, save: PlaylistSave, attempt: _Attempt) -> None:
    if save.state == SAVE_CREATING:
        # A create may have reached Spotify without us hearing back: look for it before creating.
        found: list[dict] = []

        def landed() -> bool:
            found[:] = [p for p in [_find_by_marker(gateway, save.marker)] if p is not None]
            return bool(found)

        unsure = save.sending_since is not None
        if _settle(save, attempt, landed):
            _record_playlist(save, attempt, found[0])
            return
        if unsure:
            # It did not land in time, but still might: look for a stray later (`remove_strays`).
            check_at = utcnow() + timedelta(seconds=current_app.config["SAVE_STRAY_CHECK_SECONDS"])
            _step(save, attempt, stray_check_at=max(check_at, save.stray_check_at or check_at))
    gateway.ready()  # the token in hand: "sending" is recorded moments before it is sent
    _step(save, attempt, state=SAVE_CREATING, sending_since=utcnow(), sending_items=0)
    try:
        created = gateway.create_playlist(save.name, save.description, public=False)
    except SpotifyUnavailable as exc:
        if not _may_land_late(exc):
            _step(save, attempt, sending_since=None)  # settled by the read-back at once
        raise  # ambiguous (timeout or 5xx): stay in "creating" so the retry looks first
    except SpotifyError:
        # Spotify answered and refused: nothing was created, a retry may simply create.
        _step(save, attempt, state=SAVE_PENDING, sending_since=None)
        raise
    _record_playlist(save, attempt, created)


def _record_playlist(save: PlaylistSave, attempt: _Attempt, playlist: dict) -> None:
    url = (playlist.get("external_urls") or {}).get("spotify") or \
        f"https://open.spotify.com/playlist/{playlist['id']}"
    _step(save, attempt, playlist_id=playlist["id"], url=url, state=SAVE_CREATED, sending_since=None)


def _find_by_marker(gateway, marker: str) -> dict | None:
    """Our playlist among the listener's, by the marker in its description (None if absent)."""
    for playlist in gateway.my_playlists(limit=MARKER_SEARCH_LIMIT):
        if playlist and marker in (playlist.get("description") or ""):
            return playlist
    return None


def _existing_uris(gateway, playlist_id: str) -> list[str | None]:
    uris: list[str | None] = []
    for entry in gateway.playlist_items(playlist_id):
        item = (entry or {}).get("item") or (entry or {}).get("track")
        uris.append(item.get("uri") if item else None)
    return uris


def _add_items(gateway, save: PlaylistSave, tracks: list[dict], attempt: _Attempt, finish) -> None:
    wanted = [f"spotify:track:{t['id']}" for t in tracks]
    if save.state == SAVE_ADDING:
        # A batch may have landed without us hearing back: trust the playlist, not our notes.
        existing: list[str | None] = []

        def landed() -> bool:
            existing[:] = _existing_uris(gateway, save.playlist_id)
            return save.sending_since is None or len(existing) >= save.sending_items

        _settle(save, attempt, landed)
        todo = remaining_uris(existing, wanted)
    else:
        todo = wanted
    done = len(wanted) - len(todo)
    if not todo:
        _step(save, attempt, items_added=done, sending_since=None, **finish())
        return
    # "Adding, this many there" is recorded with the first batch's "sending": one commit before the call.
    adding = {"state": SAVE_ADDING, "items_added": done}
    for start in range(0, len(todo), ADD_BATCH):
        batch = todo[start:start + ADD_BATCH]
        after = done + start + len(batch)
        gateway.ready()
        _step(save, attempt, sending_since=utcnow(), sending_items=after, **adding)
        adding = {}
        try:
            gateway.add_items(save.playlist_id, batch)
        except SpotifyUnavailable as exc:
            if not _may_land_late(exc):
                _step(save, attempt, sending_since=None)
            raise
        except SpotifyError:
            _step(save, attempt, sending_since=None)
            raise
        last = finish() if after == len(wanted) else {}
        _step(save, attempt, items_added=after, batches_done=save.batches_done + 1, sending_since=None, **last)


def _add_cover(gateway, save: PlaylistSave, holder: str, colours: tuple[str, str]) -> None:
    """A cover in the two moods' colours (the listener allowed image upload); never an error. Its
    outcome is recorded with the lease given back, in one statement."""
    try:
        gateway.upload_cover(save.playlist_id, _cover_base64(colours))
        cover = "uploaded"
    except SpotifyError as exc:
        log.warning("cover upload for playlist %s failed: %s", save.playlist_id, exc)
        cover = "failed"
    mine = PlaylistSave.lease_holder == holder
    values = {"cover": cover, "lease_until": case((mine, None), else_=PlaylistSave.lease_until),
              "lease_holder": case((mine, None), else_=PlaylistSave.lease_holder),
              "last_error": case((mine, None), else_=PlaylistSave.last_error)}
    db.session.execute(update(PlaylistSave).where(PlaylistSave.id == save.id).values(**values)
                       .execution_options(synchronize_session=False))
    commit_keeping_loaded(db.session())
    set_committed_value(save, "cover", cover)
    if save.lease_holder == holder:
        for name in ("lease_until", "lease_holder", "last_error"):
            set_committed_value(save, name, None)


def _cover_base64(colours: tuple[str, str]) -> str:
    """The cover's JPEG as base64, made once per pair of colours (a pure function of them: 45 ms of
    CPU each time otherwise)."""
    kept = caching.memo("playlists.cover", limit=64)
    found = kept.get(colours)
    if found is None:
        from curator.playlists.cover import cover_jpeg  # Pillow only once a cover is made

        found = kept[colours] = base64.b64encode(cover_jpeg(*colours)).decode("ascii")
    return found


# -- a create that landed late: eventually one playlist -------------------------------------------

def remove_strays(save: PlaylistSave, gateway) -> int:
    """Take out of the listener's account every empty playlist carrying this save's marker but its
    own (a create whose answer was lost and that landed after the save made another); how many.
    A stray that holds tracks is the listener's now and is left alone (logged)."""
    removed = 0
    for playlist in list(gateway.my_playlists(limit=MARKER_SEARCH_LIMIT)):
        if not playlist or save.marker not in (playlist.get("description") or "") or playlist.get("id") == save.playlist_id:
            continue
        if _empty(gateway, playlist):
            gateway.remove_playlist(playlist["id"])
            removed += 1
            log.info("save %s: removed a second, empty playlist %s left by a late create", save.id, playlist["id"])
        else:
            log.warning("save %s: playlist %s carries its marker but holds tracks; left alone", save.id, playlist["id"])
    return removed


def _empty(gateway, playlist: dict) -> bool:
    total = (playlist.get("items") or playlist.get("tracks") or {}).get("total")
    if total is not None:
        return total == 0
    return not any(True for _ in gateway.playlist_items(playlist["id"], limit=1))


def strays_due(user_id: int | None = None, now: datetime | None = None) -> list[PlaylistSave]:
    """Finished saves whose look for a stray playlist is due (a listener's, or everyone's)."""
    query = select(PlaylistSave).where(PlaylistSave.state == SAVE_DONE,
                                       PlaylistSave.stray_check_at <= (now or utcnow()))
    if user_id is not None:
        query = query.where(PlaylistSave.user_id == user_id)
    return list(db.session.scalars(query.order_by(PlaylistSave.stray_check_at).limit(100)))


def stray_checked(save: PlaylistSave) -> None:
    """The look for strays is done: don't look again."""
    db.session.execute(update(PlaylistSave).where(PlaylistSave.id == save.id)
                       .values(stray_check_at=None).execution_options(synchronize_session=False))
    db.session.commit()
    set_committed_value(save, "stray_check_at", None)
