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
"""
from __future__ import annotations

import base64
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from curator.errors import Conflict, Unprocessable
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
from curator.spotify.errors import SpotifyError, SpotifyUnavailable
from curator.spotify.token_store import granted_scopes

log = logging.getLogger(__name__)

# The API's maximum URIs per POST /playlists/{id}/items (a module constant so tests can shrink it).
ADD_BATCH = 100
# How many pages of GET /me/playlists (50 each) to search for a lost playlist.
MARKER_SEARCH_LIMIT = 1000  # playlists scanned for a lost create; 20 pages of 50
# How long another request waits for a save already under way before answering "in progress".
WAIT_FOR_OTHER_SECONDS = 8.0
DESCRIPTION_LIMIT = 300


class SaveInProgress(Conflict):
    def __init__(self):
        super().__init__("This playlist is being saved right now. Give it a moment and reload.",
                         code="save_in_progress")


class IdempotencyKeyReused(Unprocessable):
    def __init__(self):
        super().__init__("This Idempotency-Key was already used to save a different preview.",
                         field="Idempotency-Key", code="idempotency_key_reused")


@dataclass(frozen=True)
class SaveOutcome:
    save: PlaylistSave
    replay: bool  # True when the playlist was already saved before this request


def playlist_name(start_name: str, target_name: str, when) -> str:
    return f"{start_name} → {target_name} · {when.day} {when:%b %Y}"


def playlist_description(start_name: str, target_name: str, count: int, minutes: int, marker: str) -> str:
    """One line, at most 300 characters, ending in the marker that finds it again."""
    text = (f"A {count}-track, about {minutes}-minute journey from {start_name.lower()} to "
            f"{target_name.lower()}, made with Curator for mindful listening.")
    tail = f" ({marker})"
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


def _lease_seconds() -> float:
    cfg = current_app.config
    # Long enough for one create and a few batches with retries, short enough to recover a crash.
    return max(60.0, cfg["SPOTIFY_TIMEOUT"] * (cfg["SPOTIFY_MAX_RETRIES"] + 1) * 3)


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
    marker = "ref " + secrets.token_hex(4)
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


def _release(save: PlaylistSave, error: str | None = None) -> None:
    db.session.rollback()  # drop anything half-done in this session; the record is committed per step
    db.session.refresh(save)
    save.lease_until = None
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
        if save.lease_until is None:
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
    try:
        if save.state in (SAVE_PENDING, SAVE_CREATING):
            _ensure_playlist(gateway, save)
        _add_items(gateway, save, preview)
        save.state = SAVE_DONE
        save.completed_at = utcnow()
        db.session.commit()
    except SpotifyError as exc:
        _release(save, f"{type(exc).__name__}: {exc.message}")
        raise
    except BaseException:
        _release(save, "interrupted")
        raise
    _add_cover(gateway, save, user, colours)
    _release(save)
    return SaveOutcome(save, replay=False)


def _ensure_playlist(gateway, save: PlaylistSave) -> None:
    if save.state == SAVE_CREATING:
        found = _find_by_marker(gateway, save.marker)
        if found is not None:
            _record_playlist(save, found)
            return
    save.state = SAVE_CREATING
    db.session.commit()
    try:
        created = gateway.create_playlist(save.name, save.description, public=False)
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


def _add_items(gateway, save: PlaylistSave, preview: Preview) -> None:
    wanted = [f"spotify:track:{t['id']}" for t in preview.tracks]
    if save.state == SAVE_ADDING:
        # A batch may have landed without us hearing back: trust the playlist, not our notes.
        todo = remaining_uris(_existing_uris(gateway, save.playlist_id), wanted)
    else:
        todo = wanted
        save.state = SAVE_ADDING
        db.session.commit()
    for start in range(0, len(todo), ADD_BATCH):
        batch = todo[start:start + ADD_BATCH]
        gateway.add_items(save.playlist_id, batch)
        save.items_added = len(wanted) - len(todo) + start + len(batch)
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
    from curator.listen.cover import cover_jpeg

    try:
        gateway.upload_cover(save.playlist_id, base64.b64encode(cover_jpeg(*colours)).decode("ascii"))
        save.cover = "uploaded"
    except SpotifyError as exc:
        log.warning("cover upload for playlist %s failed: %s", save.playlist_id, exc)
        save.cover = "failed"
    db.session.commit()
