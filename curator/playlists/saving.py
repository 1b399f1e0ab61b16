"""Saving a preview to Spotify exactly once.

A double click, a resubmitted form, a retry after a timeout or a crash half-way must never give
a second playlist nor a missing or doubled track. Every step is written down before and after it
happens, in one `PlaylistSave` row per preview (unique), and a retry resumes from that record:

    pending ──create──▶ creating ──▶ created(playlist_id) ──▶ adding(items_added) ──▶ done

- Only the request holding the row's lease talks to Spotify; the lease is taken with a
  conditional UPDATE, so two concurrent requests can't both create.
- `creating` means "POST /me/playlists may have been sent". Its answer can be lost (timeout,
  5xx), so before creating again we look for our playlist: its description carries a short
  random marker, found through GET /me/playlists.
- `adding`: a batch's answer can be lost too, so a resumed save first reads the playlist's
  items and adds only what is not there yet.
- The playlist id is committed the moment Spotify returns it.

Within one save, Spotify's bad minutes are ridden out: after a 5xx, a timeout or a broken
connection the save waits (backing off), settles what happened by reading back (the marker
among the listener's playlists, the playlist's items) and carries on, for at most
`SAVE_RETRY_BUDGET` seconds after the first failure; a 429 is waited out when its Retry-After
fits in the budget. A create or add that timed out may still reach Spotify late, so nothing is
sent again until the read-back shows it landed or twice `SPOTIFY_TIMEOUT` more seconds have
passed (the save keeps its lease until then, so a listener retrying at once cannot send it
a second time).
When the budget runs out the record keeps every step done, the error names the real cause,
and saving again ("finish saving") resumes.
"""
from __future__ import annotations

import base64
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

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
from curator.models.user import utcnow
from curator.playlists.errors import IdempotencyKeyReused, SaveInProgress
from curator.retrying import backoff
from curator.spotify.errors import SpotifyError, SpotifyRateLimited, SpotifyUnavailable
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
# A write we stopped waiting for after SPOTIFY_TIMEOUT is taken to land, if ever, within this
# many timeouts more; until then it is not sent again.
SETTLE_TIMEOUTS = 2


@dataclass(frozen=True)
class SaveOutcome:
    save: PlaylistSave
    replay: bool  # True when the playlist was already saved before this request


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


def unfinished(preview: Preview) -> PlaylistSave | None:
    """The preview's save when it was started and stopped before the end (saving again resumes it)."""
    save = preview.save
    if save is None or save.state == SAVE_DONE or save.attempts == 0 or save.last_error is None:
        return None
    return save


def _lease_seconds() -> float:
    cfg = current_app.config
    # Long enough for a whole save with its retries, short enough to recover from a crash.
    return max(60.0, cfg["SAVE_RETRY_BUDGET"] + cfg["SPOTIFY_TIMEOUT"] * (cfg["SPOTIFY_MAX_RETRIES"] + 1) * 3)


@dataclass
class _Attempt:
    """One request's run at a save: its retry budget, and the last write whose answer never came."""

    budget: float  # seconds for trying again, counted from the first failure
    settle_seconds: float  # how long an unanswered write may still reach Spotify
    failures: int = 0
    first_failure: float | None = None  # time.monotonic() of the first failure
    unanswered_at: float | None = None  # when we stopped waiting for a create's or add's answer
    unanswered_items: int = 0  # for an add: how many items the playlist holds once it landed
    last_unanswered: SpotifyError | None = None

    def failed(self) -> None:
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = time.monotonic()

    def left(self) -> float:
        """Seconds of the budget left for waiting and trying again."""
        if self.first_failure is None:
            return self.budget
        return self.first_failure + self.budget - time.monotonic()

    def settle_left(self) -> float:
        """Seconds until an unanswered write can no longer land (0 when there is none)."""
        if self.unanswered_at is None:
            return 0.0
        return max(0.0, self.unanswered_at + self.settle_seconds - time.monotonic())

    def settled(self) -> None:
        self.unanswered_at = None

    def wait_to_settle(self, error: SpotifyError) -> None:
        """Wait until an unanswered write can no longer land; `error` again when the budget is too short."""
        wait = self.settle_left()
        if wait > self.left():
            raise error
        time.sleep(wait)
        self.unanswered_at = None


def _may_land_late(exc: SpotifyUnavailable) -> bool:
    """We stopped waiting while Spotify may still be working on it (a read or gateway timeout).

    A broken connection is settled by the read-back at once: whatever Spotify did with the
    request, it did before the connection closed. A connect timeout never sent anything.
    """
    if exc.http_status is not None:
        return exc.http_status == 504
    cause = exc.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False
    return not isinstance(cause, requests.ConnectionError) or isinstance(cause, requests.Timeout)


def _send(attempt: _Attempt, call, items_after: int = 0):
    """A create or add; when it may still land late, remember when, so it is not sent again too soon."""
    try:
        return call()
    except SpotifyUnavailable as exc:
        if _may_land_late(exc):
            attempt.unanswered_at = time.monotonic()
            attempt.unanswered_items = items_after
            attempt.last_unanswered = exc
        raise


def plain_cause(exc: SpotifyError) -> str:
    """What went wrong, in the listener's words: a 503 is trouble at Spotify, a timeout is a timeout."""
    if isinstance(exc, SpotifyRateLimited):
        return "Spotify asked us to slow down"
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


def _row_for(user, preview: Preview, key: str | None, start_name: str, target_name: str) -> PlaylistSave:
    """The preview's save record, created on first use (unique per preview)."""
    if key is not None:
        other = db.session.scalar(select(PlaylistSave).where(
            PlaylistSave.user_id == user.id, PlaylistSave.idempotency_key == key))
        if other is not None and other.preview_id != preview.id:
            raise IdempotencyKeyReused()
    save = db.session.scalar(select(PlaylistSave).where(PlaylistSave.preview_id == preview.id))
    if save is not None:
        return save
    marker = new_marker()
    tracks = preview.tracks
    save = PlaylistSave(
        preview_id=preview.id, user_id=user.id, idempotency_key=key, state=SAVE_PENDING, marker=marker,
        name=preview.options.get("name") or playlist_name(start_name, target_name, utcnow()),
        description=playlist_description(start_name, target_name, len(tracks),
                                         round(preview.duration_ms / 60000), marker),
    )
    db.session.add(save)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request made the row first (or took the key): use theirs.
        db.session.rollback()
        save = db.session.scalar(select(PlaylistSave).where(PlaylistSave.preview_id == preview.id))
        if save is None:
            raise IdempotencyKeyReused() from None
    return save


def _claim(save: PlaylistSave) -> bool:
    now = utcnow()
    taken = db.session.execute(
        update(PlaylistSave)
        .where(PlaylistSave.id == save.id, PlaylistSave.state != SAVE_DONE,
               or_(PlaylistSave.lease_until.is_(None), PlaylistSave.lease_until < now))
        .values(lease_until=now + timedelta(seconds=_lease_seconds()), attempts=PlaylistSave.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(save)
    return taken == 1


def _release(save: PlaylistSave, error: str | None = None, hold_seconds: float = 0.0) -> None:
    """Let other requests resume the save; `hold_seconds` keeps them off while a write may land."""
    db.session.rollback()  # drop anything half-done in this session; the record is committed per step
    db.session.refresh(save)
    save.lease_until = utcnow() + timedelta(seconds=hold_seconds) if hold_seconds > 0 else None
    save.last_error = error
    db.session.commit()


def _wait_for_other(save: PlaylistSave) -> bool:
    """Wait briefly for the request holding the lease; True when it finished the save."""
    deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.2)
        db.session.commit()  # end our snapshot so we see the other request's commits
        db.session.refresh(save)
        if save.state == SAVE_DONE:
            return True
        if save.lease_until is None or save.lease_until < utcnow():
            return False
    return False


def save_to_spotify(user, preview: Preview, gateway, *, key: str | None = None,
                    start_name: str, target_name: str, colours: tuple[str, str] = ("#888888", "#444444")) -> SaveOutcome:
    """Save `preview` as a private playlist in `user`'s Spotify account, exactly once.

    Returns the finished record and whether it was a replay. Spotify errors propagate (the
    record keeps what was done, so calling again resumes); `SaveInProgress` when another
    request is saving the same preview and did not finish within a few seconds;
    `IdempotencyKeyReused` when `key` already saved another preview.
    """
    save = _row_for(user, preview, key, start_name, target_name)
    if save.state == SAVE_DONE:
        return SaveOutcome(save, replay=True)
    if not _claim(save):
        if save.state == SAVE_DONE:
            return SaveOutcome(save, replay=True)
        if _wait_for_other(save):
            return SaveOutcome(save, replay=True)
        # The other request gave up (its error is recorded) or is still going: try to take over.
        if not _claim(save):
            raise SaveInProgress()
    cfg = current_app.config
    attempt = _Attempt(budget=cfg["SAVE_RETRY_BUDGET"], settle_seconds=SETTLE_TIMEOUTS * cfg["SPOTIFY_TIMEOUT"])
    try:
        _run(gateway, save, preview, attempt)
        save.state = SAVE_DONE
        save.completed_at = utcnow()
        db.session.commit()
    except SpotifyError as exc:
        _release(save, f"{type(exc).__name__}: {plain_cause(exc)}", hold_seconds=attempt.settle_left())
        _explain(exc, save, len(preview.tracks))
        raise
    except BaseException:
        _release(save, "interrupted", hold_seconds=attempt.settle_left())
        raise
    _add_cover(gateway, save, user, colours)
    _release(save)
    return SaveOutcome(save, replay=False)


def _run(gateway, save: PlaylistSave, preview: Preview, attempt: _Attempt) -> None:
    """Create (or find) the playlist and fill it, trying again after Spotify's passing errors."""
    while True:
        try:
            if save.state in (SAVE_PENDING, SAVE_CREATING):
                _ensure_playlist(gateway, save, attempt)
            _add_items(gateway, save, preview, attempt)
            return
        except SpotifyRateLimited as exc:
            attempt.failed()
            error, wait = exc, exc.retry_after
        except SpotifyUnavailable as exc:
            attempt.failed()
            wait = min(backoff(attempt.failures), RETRY_MAX_WAIT)
            error, wait = exc, wait * random.uniform(0.5, 1.0)
        if wait > attempt.left():
            raise error
        log.info("save %s: %s; trying again in %.1fs", save.id, plain_cause(error), wait)
        time.sleep(wait)
        db.session.commit()  # end the read snapshot before reading the record again


def _ensure_playlist(gateway, save: PlaylistSave, attempt: _Attempt) -> None:
    if save.state == SAVE_CREATING:
        # A create may have reached Spotify without us hearing back: look for it before creating.
        found = _find_by_marker(gateway, save.marker)
        if found is None and attempt.settle_left() > 0:
            attempt.wait_to_settle(attempt.last_unanswered)
            found = _find_by_marker(gateway, save.marker)
        attempt.settled()
        if found is not None:
            _record_playlist(save, found)
            return
    save.state = SAVE_CREATING
    db.session.commit()
    try:
        created = _send(attempt, lambda: gateway.create_playlist(save.name, save.description, public=False))
    except SpotifyUnavailable:
        raise  # ambiguous (timeout or 5xx): stay in "creating" so the retry looks first
    except SpotifyError:
        # Spotify answered and refused: nothing was created, a retry may simply create.
        save.state = SAVE_PENDING
        db.session.commit()
        raise
    _record_playlist(save, created)


def _record_playlist(save: PlaylistSave, playlist: dict) -> None:
    save.playlist_id = playlist["id"]
    save.url = (playlist.get("external_urls") or {}).get("spotify") or \
        f"https://open.spotify.com/playlist/{playlist['id']}"
    save.state = SAVE_CREATED
    db.session.commit()


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


def _add_items(gateway, save: PlaylistSave, preview: Preview, attempt: _Attempt) -> None:
    wanted = [f"spotify:track:{t['id']}" for t in preview.tracks]
    if save.state == SAVE_ADDING:
        # A batch may have landed without us hearing back: trust the playlist, not our notes.
        existing = _existing_uris(gateway, save.playlist_id)
        if len(existing) < attempt.unanswered_items and attempt.settle_left() > 0:
            attempt.wait_to_settle(attempt.last_unanswered)  # it may still land: don't send it twice
            existing = _existing_uris(gateway, save.playlist_id)
        attempt.settled()
        todo = remaining_uris(existing, wanted)
    else:
        todo = wanted
        save.state = SAVE_ADDING
        db.session.commit()
    done = len(wanted) - len(todo)
    save.items_added = done
    for start in range(0, len(todo), ADD_BATCH):
        batch = todo[start:start + ADD_BATCH]
        _send(attempt, lambda batch=batch: gateway.add_items(save.playlist_id, batch),
              items_after=done + start + len(batch))
        save.items_added = done + start + len(batch)
        save.batches_done += 1
        db.session.commit()
    save.items_added = len(wanted)


def _add_cover(gateway, save: PlaylistSave, user, colours: tuple[str, str]) -> None:
    """A cover in the two moods' colours when the listener allowed image upload; never an error."""
    if save.cover:
        return
    if "ugc-image-upload" not in granted_scopes(user.id):
        save.cover = "skipped"
        db.session.commit()
        return
    from curator.playlists.cover import cover_jpeg  # Pillow only once a cover is made

    try:
        gateway.upload_cover(save.playlist_id, base64.b64encode(cover_jpeg(*colours)).decode("ascii"))
        save.cover = "uploaded"
    except SpotifyError as exc:
        log.warning("cover upload for playlist %s failed: %s", save.playlist_id, exc)
        save.cover = "failed"
    db.session.commit()
