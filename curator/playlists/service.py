"""The playlist domain's use cases, one function each, called alike by the listener's pages
(`curator.listen.routes`) and the JSON API (`curator.api.routes`), which only parse input, call
one of these and render. This module is the domain's one door: nothing outside `curator.playlists`
imports the modules behind it (`tests/test_architecture.py`).

Transactions (`curator.transaction`): the function that performs a use case owns its
transaction. It commits when the use case succeeds and rolls back when it fails; views and API
handlers never commit, and the helpers it calls (`creation`, `edits`, `records`, `preview_store`,
`curator.moods.store`) only add and flush. Two kinds of step commit on their own, each named
where it happens: the save journal (`saving.py`) commits each step the moment Spotify has done
it, so that a retry resumes instead of repeating; and a listener's own music is read from Spotify
and imported (`_my_music`) in transactions of its own before the preview's begins, so no write
waits on Spotify or on a feature provider.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from curator import demo, spotify
from curator.clock import utcnow
from curator.engine import MoodDefinition, wheel
from curator.extensions import db
from curator.models.listening import CheckIn, PlaylistSave, Preview
from curator.models.user import User
from curator.moods.store import StoredMood, active_moods, get_mood
from curator.playlists import (
    care,
    creation,
    edits,
    library,
    living,
    preview_store,
    records,
    refreshing,
    save_runner,
    saving,
    taste,
    taste_sync,
)
from curator.playlists.errors import CatalogueNotReady, IdempotencyKeyReused, SaveInProgress, ScopeRequired
from curator.playlists.preview_request import PreviewRequest, mood_choice, parse_request, request_of
from curator.problems import NotFound, Unprocessable
from curator.spotify.errors import SpotifyError, SpotifyRateLimited, SpotifyUnavailable
from curator.spotify.token_store import granted_scopes
from curator.transaction import transaction

log = logging.getLogger(__name__)

__all__ = [  # besides the use cases below: the problems a page tells apart
    "CatalogueNotReady", "IdempotencyKeyReused", "SaveInProgress", "ScopeRequired", "SAVE_STOPPED",
]

# A save that stopped on Spotify's side: the listener is told why and where it stands, and may try
# again ("finish saving"); other errors are the error page's (or a new login's).
SAVE_STOPPED = (SpotifyRateLimited, SpotifyUnavailable)
# Colours for a playlist cover when a mood has been removed since the preview was made.
MISSING_START_COLOUR, MISSING_TARGET_COLOUR = "#888888", "#444444"
COVER_SCOPE = "ugc-image-upload"
# The history page is bounded whatever the listener's total: a page of cards, a window of charts.
CHART_SESSIONS = records.CHART_SESSIONS


# -- moods as the listener sees them ---------------------------------------------------------

def mood_definition(slug: str) -> MoodDefinition | None:
    """A mood's current definition, archived ones included, or a point of the mood wheel's; None
    when it was removed since."""
    point = wheel.parse_point(slug)
    if point is not None:
        return creation.point_mood(*point)
    try:
        return get_mood(slug, include_archived=True).definition
    except NotFound:
        return None


def choosable_moods() -> list[StoredMood]:
    """The moods a listener can choose, in the curators' order, with their versions."""
    return active_moods()


def moods_by_slug() -> dict[str, MoodDefinition]:
    """The choosable moods' definitions by slug."""
    return {m.slug: m.definition for m in choosable_moods()}


def is_low_valence(mood: MoodDefinition) -> bool:
    """Whether the care rule treats `mood` as a low one (a gentle note when it is the target)."""
    return care.is_low_valence(mood)


def target_care(preview: Preview, target: MoodDefinition | None = None) -> care.TargetCare:
    """The care rule for a preview's target mood (``target``: its definition, when already read)."""
    target = target or mood_definition(preview.to_slug)
    if target is None or not care.is_low_valence(target):  # the other moods are read only when needed
        return care.NO_CARE
    return care.target_care(target, [m.definition for m in choosable_moods()])


# -- what the listener's pages ask besides -----------------------------------------------------

@dataclass(frozen=True)
class StartPage:
    moods: list[StoredMood]
    catalogue_empty: bool  # the page says music is being prepared
    library_access: bool  # "from music I know" needs no new login
    demo_set: bool = False  # previews come from the made-up demo tracks (demo mode, no catalogue yet)
    # The form as this listener left it: their last choice and their steering (issue 21), as field values.
    filled: dict = None  # type: ignore[assignment]
    returning: bool = False  # they made a playlist before (the form is their last choice)


def start_page(user) -> StartPage:
    """What the start form offers the listener (`user` None: a visitor before setup, demo mode)."""
    stored_empty = creation.stored_catalogue_empty()
    filled, returning = _filled(user)
    return StartPage(choosable_moods(), stored_empty and not demo.active(),
                     user is not None and library.has_library_access(user.id),
                     demo_set=stored_empty and demo.active(), filled=filled, returning=returning)


def _filled(user) -> tuple[dict, bool]:
    """The start form's values from the listener's last choice and remembered steering; the first
    time a sensible default (20 tracks to calm, steady) that leaves one question: how they feel now."""
    steering = taste.remembered(user.id) if user is not None else dict(taste.DEFAULT_STEERING)
    choice = taste.last_choice(user.id) if user is not None else {}
    years = steering.get("years") or {}
    values = {
        "familiar": str(steering.get("familiar") or 0),
        "avoid_artists": ", ".join(steering.get("avoid_artists") or ()),
        "years_from": "" if years.get("from") is None else str(years["from"]),
        "years_to": "" if years.get("to") is None else str(years["to"]),
        "exclude_explicit": "1" if steering.get("exclude_explicit") else "",
    }
    if choice:
        values.update({
            "from": choice.get("from", ""), "to": choice.get("to", ""), "arc": choice.get("arc", "linear"),
            "length": str(choice.get("tracks") or choice.get("minutes") or 20),
            "unit": "tracks" if choice.get("tracks") else "minutes",
            "avoid_recent": "1" if choice.get("avoid_recent") else "",
            "from_my_music": "1" if choice.get("from_my_music") else "",
        })
        return values, True
    values.update({"to": "calm", "length": "20", "unit": "tracks", "arc": "linear"})
    return values, False


def steering_summary(values: dict) -> str:
    """The steering in a few words, beside its heading (the form's field values)."""
    parts = [f"{values.get('familiar') or 0}% familiar"]
    avoided = [a for a in str(values.get("avoid_artists") or "").split(",") if a.strip()]
    if avoided:
        parts.append(f"avoiding {len(avoided)} artist{'s' if len(avoided) != 1 else ''}")
    lo, hi = values.get("years_from"), values.get("years_to")
    if lo or hi:
        parts.append(f"{lo or '…'}–{hi or 'now'}")
    if values.get("exclude_explicit"):
        parts.append("no explicit")
    return " · ".join(parts)


@dataclass(frozen=True)
class Permissions:
    cover: bool  # the listener let Curator give their playlists a cover
    library: bool  # ... and read their saved and top tracks ("from music I know")


def permissions(user) -> Permissions:
    """What the listener let Curator do in their Spotify account beyond the basics."""
    return Permissions(COVER_SCOPE in granted_scopes(user.id), library.has_library_access(user.id))


def point_slug_of(values: Mapping, key: str) -> str | None:
    """The wheel point a start form's `key` ("from"/"to") chose, as its slug; None if it chose none."""
    try:
        slug = mood_choice(values, key)
    except Unprocessable:
        return None
    return slug if wheel.parse_point(slug) else None


def point_of(slug: str) -> dict | None:
    """A mood-wheel point slug as {"valence", "arousal"}; None for a named mood."""
    point = wheel.parse_point(slug)
    return None if point is None else {"valence": point[0], "arousal": point[1]}


def own_preview(user, preview_id: str) -> Preview | None:
    """The listener's own preview, or None: an error page's way back, so it never raises."""
    return preview_store.own_or_none(user, preview_id)


# -- previews --------------------------------------------------------------------------------

def get_preview(user, preview_id: str) -> Preview:
    return preview_store.get_preview(user, preview_id)


def create_preview(user, data: Mapping, gateway=None) -> Preview:
    """A new preview from the start form's fields or a JSON object (see `parse_request`).

    Raises `Unprocessable` naming the field at fault, `CatalogueNotReady`, and with
    `from_my_music` `ScopeRequired` or Spotify's errors from reading the listener's library.
    """
    req = parse_request(data)
    if creation.needs_library(req):
        library.require_access(user)  # first of all: the start page then asks Spotify for the scope
    plan = creation.plan_for(req)  # a wrong choice is refused before Spotify is asked
    mine = _my_music(user, req, gateway)
    with transaction(keep_loaded=True):
        req = _steered(user, req)  # the steering it left out: the listener's remembered one
        preview = creation.create_preview(user, req, plan=plan, library=mine)
        taste.remember(user.id, req.steering, _choice_of(req))
        return preview


def _steered(user, req: PreviewRequest) -> PreviewRequest:
    """`req` with the listener's remembered steering wherever the request left a setting out."""
    missing = {"familiar", "avoid_artists", "years", "exclude_explicit"} - req.given
    if not missing:
        return req
    kept = taste.remembered(user.id)
    changes = {}
    if "familiar" in missing:
        changes["familiar"] = int(kept["familiar"])
    if "avoid_artists" in missing:
        changes["avoid_artists"] = tuple(kept["avoid_artists"])
    if "years" in missing:
        changes["years"] = (kept["years"].get("from"), kept["years"].get("to"))
    if "exclude_explicit" in missing:
        changes["exclude_explicit"] = bool(kept["exclude_explicit"])
    return replace(req, **changes)


def _choice_of(req: PreviewRequest) -> dict:
    """The start form's choice as the next visit fills it in."""
    choice = {"from": req.from_slug, "to": req.to_slug, "arc": req.arc, "from_my_music": req.from_my_music,
              "avoid_recent": req.avoid_recent}
    choice.update({"tracks": req.tracks} if req.tracks is not None else {"minutes": req.minutes})
    return choice


def _my_music(user, req: PreviewRequest, gateway) -> library.MyMusic | None:
    """The listener's own music when `req` needs it read: from Spotify first, with nothing pending,
    then imported in two short transactions of its own (tracks, then features), which stay even if
    the preview fails: they are the catalogue's, not the preview's."""
    if not creation.needs_library(req):
        return None
    gateway = gateway or spotify.user_gateway()
    tracks = library.read_library(user, gateway)
    with transaction():
        ids = library.store_tracks(tracks)
    with transaction():
        library.fetch_features(ids, gateway)
    return library.candidates(ids)


def regenerate(user, preview_id: str, gateway=None) -> Preview:
    """The same choices with another seed."""
    item = preview_store.get_preview(user, preview_id)
    mine = _my_music(user, request_of(item), gateway)
    with transaction(keep_loaded=True):
        return edits.regenerate(user, item, library=mine)


def remove_track(user, preview_id: str, track_id: str) -> Preview:
    with transaction(keep_loaded=True):
        return edits.without_track(user, preview_store.get_preview(user, preview_id), track_id)


def lock_track(user, preview_id: str, track_id: str, locked: bool = True) -> Preview:
    """Keep (or stop keeping) a track when the listener tries other tracks or nudges the arc (a new version)."""
    with transaction(keep_loaded=True):
        return edits.set_lock(user, preview_store.get_preview(user, preview_id), track_id, locked)


def rename(user, preview_id: str, name: str) -> Preview:
    """The name the playlist gets in Spotify when it is saved (empty: Curator's own; a new version)."""
    with transaction(keep_loaded=True):
        return edits.rename(user, preview_store.get_preview(user, preview_id), name)


def can_undo(preview: Preview) -> bool:
    """Whether `undo` can bring back the version `preview` was made from (not read here: a version
    since removed is said when undo is asked)."""
    return edits.can_undo(preview)


def undo(user, preview_id: str) -> Preview:
    """The version this preview was made from, back exactly (once)."""
    with transaction(keep_loaded=True):
        return edits.undo(user, preview_store.get_preview(user, preview_id))


def nudge(user, preview_id: str, direction: str, gateway=None) -> Preview:
    """The whole arc shifted one step (gentler, more-energy, brighter, darker); locks kept."""
    item = preview_store.get_preview(user, preview_id)
    mine = _my_music(user, request_of(item), gateway)
    with transaction(keep_loaded=True):
        return edits.nudge(user, item, direction, library=mine)


def retarget(user, preview_id: str, to_slug: str | None = None, *, insist: bool = False,
             gateway=None) -> Preview:
    """End at another mood (the care offer), or keep the full length at a low target (`insist`)."""
    item = preview_store.get_preview(user, preview_id)
    mine = _my_music(user, replace(request_of(item), to_slug=to_slug or item.to_slug), gateway)
    with transaction(keep_loaded=True):
        if insist:
            return edits.retarget(user, item, item.to_slug, insist=True, library=mine)
        return edits.retarget(user, item, to_slug or "", library=mine)


@dataclass(frozen=True)
class PreviewPage:
    preview: Preview
    start: MoodDefinition | None
    target: MoodDefinition | None
    care: care.TargetCare
    # The hold cap's note, when the preview was shortened by it: shown once beside the length.
    hold_note: str | None = None
    # A save that stopped half-way (its playlist may be in Spotify, not yet full): "finish saving".
    unfinished_save: PlaylistSave | None = None
    # A save running right now (in a request or in the background): the page says so.
    save_running: bool = False

    @property
    def hold_capped(self) -> bool:
        return self.hold_note is not None


def preview_page(user, preview_id: str) -> PreviewPage:
    """The listener's preview as the preview page and the API show it."""
    return describe(preview_store.get_preview(user, preview_id))


def describe(preview: Preview) -> PreviewPage:
    """A preview with its moods, care note, hold note and any unfinished save."""
    start, target = mood_definition(preview.from_slug), mood_definition(preview.to_slug)
    return PreviewPage(preview, start, target, target_care(preview, target), _hold_note(preview, target),
                       saving.unfinished(preview), saving.running(preview.save))


def _hold_note(preview: Preview, target: MoodDefinition | None) -> str | None:
    """The hold cap's note as stored when the preview was made (previews made before it was stored
    in options carry it only among their notices)."""
    if "hold_note" in preview.options or target is None:
        return preview.options.get("hold_note")
    note = care.hold_note(target)
    return note if note in preview.notices else None


# -- saving to Spotify -----------------------------------------------------------------------


def save_preview(user, preview_id: str, key: str | None = None, gateway=None) -> saving.SaveOutcome:
    """Save the listener's preview to their Spotify account, exactly once (see `saving`).

    The save runs on this process's save threads (`save_runner`) and the request waits for it at most
    `SAVE_ANSWER_SECONDS`; when it is still talking to Spotify then, the outcome is not `finished` and
    says it carries on in the background (`continuing`). With `SAVE_ANSWER_SECONDS` 0 (or a gateway
    given) it runs in the request, within the request's time budget: when that runs out first the
    outcome is not `finished`, and the job runner carries on where one runs."""
    preview = preview_store.get_preview(user, preview_id)
    answer_within = float(current_app.config["SAVE_ANSWER_SECONDS"])
    if gateway is not None or answer_within <= 0:
        return _save(user, preview, gateway or spotify.user_gateway(), key=key, continue_later=_finish_in_background)
    return _save_beside(user, preview, key, answer_within)


def _save_beside(user, preview: Preview, key: str | None, answer_within: float) -> saving.SaveOutcome:
    """Take the save's lease here, run it on a save thread, answer within `answer_within` seconds."""
    answer_by = time.monotonic() + answer_within
    start, target = mood_definition(preview.from_slug), mood_definition(preview.to_slug)
    save, holder = saving.start(user, preview, key=key, start_name=start.name if start else preview.from_slug,
                                target_name=target.name if target else preview.to_slug)
    total = len(preview.tracks)
    if save.state == saving.SAVE_DONE:
        return saving.SaveOutcome(save, replay=True)
    if holder is None:  # another run is at it (a double click, a retry, the background)
        if saving.wait_for_other(save, answer_within):
            return saving.SaveOutcome(save, replay=True)
        if saving.running(save):
            return saving.SaveOutcome(save, replay=False, finished=False, continuing=True,
                                      message=saving.progress_message(save, total, True))
        holder = saving.claim(save)  # it stopped (its error is recorded) or its process died
        if holder is None:
            raise SaveInProgress()
    saving.between_steps()  # the request holds no connection while it waits
    app = current_app._get_current_object()
    # What the save thread needs of the preview and the moods goes with it: read once, in this request.
    future = save_runner.submit(app, holder, _carry_on, save.id, holder, user.id, preview.tracks,
                                _colours(preview, start, target))
    try:
        save_runner.wait(app, future, max(0.0, answer_by - time.monotonic()))
    except FutureTimeout:
        saving.between_steps()  # a fresh look at the record: what the save thread has done so far
        db.session.refresh(save)
        return saving.SaveOutcome(save, replay=False, finished=False, continuing=True,
                                  message=saving.progress_message(save, total, True))
    saving.between_steps()  # the save thread only wrote the save (and the taste): the rest read here stands
    db.session.refresh(save)
    set_committed_value(save, "preview", preview)  # as it was read here: not read again for the answer
    return saving.SaveOutcome(save, replay=False)


def _carry_on(save_id: int, holder: str, user_id: int, tracks: list[dict], colours: tuple[str, str]) -> bool:
    """On a save thread: run the save whose lease `holder` holds, for at most `SAVE_BACKGROUND_SECONDS`
    (then it stops with what it has done and the preview offers "Finish saving"); True when it
    finished."""
    end = time.monotonic() + float(current_app.config["SAVE_BACKGROUND_SECONDS"])
    save = db.session.get(PlaylistSave, save_id)
    gateway = spotify.gateway_for(user_id, deadline=lambda: end)
    outcome = saving.carry_on(user_id, save, tracks, gateway, holder, colours=colours)
    if outcome.finished:
        _saved(user_id, gateway)
    return outcome.finished


def _colours(preview: Preview, start=None, target=None) -> tuple[str, str]:
    start = start or mood_definition(preview.from_slug)
    target = target or mood_definition(preview.to_slug)
    return (start.colour if start else MISSING_START_COLOUR, target.colour if target else MISSING_TARGET_COLOUR)


def finish_save(save_id: int) -> saving.SaveOutcome | None:
    """Carry on with a save in the background (the job runner's `playlists.finish_save`); None when
    there is nothing left to do. Spotify's errors propagate, recorded on the save as in a request."""
    save = db.session.get(PlaylistSave, save_id)
    if save is None or save.state == saving.SAVE_DONE:
        return None
    preview, user = save.preview, db.session.get(User, save.user_id)
    return _save(user, preview, spotify.gateway_for(user.id))


def _save(user, preview: Preview, gateway, *, key: str | None = None, continue_later=None) -> saving.SaveOutcome:
    start, target = mood_definition(preview.from_slug), mood_definition(preview.to_slug)
    outcome = saving.save_to_spotify(
        user, preview, gateway, key=key,
        start_name=start.name if start else preview.from_slug,
        target_name=target.name if target else preview.to_slug, colours=_colours(preview, start, target),
        continue_later=continue_later)
    if outcome.finished and not outcome.replay:
        _saved(user.id, gateway)
    return outcome


def _saved(user_id: int, gateway) -> None:
    """What follows a save that has just finished (in a request, on a save thread or in a job)."""
    with transaction():
        taste.changed(user_id)  # a saved playlist counts for the listener's taste
    _remove_due_strays(user_id, gateway)


def _finish_in_background(save: PlaylistSave) -> bool:
    """Hand a save that ran out of request time to the job runner (`playlists.finish_save`, one at a
    time per save); False when no worker is there to take it (then the page offers "Finish saving")."""
    from curator import jobs

    if not jobs.worker_available():
        return False
    try:
        return jobs.enqueue("playlists.finish_save", save_id=save.id,
                            unique=f"playlists.finish_save:{save.id}") is not None
    except jobs.QueueUnavailable:
        return False


def _remove_due_strays(user_id: int, gateway) -> None:
    """The listener's earlier saves whose look for a late create's stray is due, done now while we
    talk to Spotify anyway (the job runner does it for everyone else, `remove_strays`)."""
    for save in saving.strays_due(user_id):
        try:
            saving.remove_strays(save, gateway)
        except SpotifyError as exc:  # tried again at the next save or by the job
            log.info("looking for strays of save %s: %s", save.id, exc)
            return
        saving.stray_checked(save)


def remove_strays(gateway_for=None, now=None) -> int:
    """Every finished save whose look for a stray playlist is due (by `now`, default the present; the
    job runner, every few minutes): the empty playlists a late create left are taken out of the
    listeners' accounts. How many."""
    removed = 0
    for save in saving.strays_due(now=now):
        gateway = (gateway_for or spotify.gateway_for)(save.user_id)
        try:
            removed += saving.remove_strays(save, gateway)
        except SpotifyError as exc:
            log.info("looking for strays of save %s: %s", save.id, exc)
            continue
        saving.stray_checked(save)
    return removed


@dataclass(frozen=True)
class SavedPage:
    preview: Preview  # saved: its `save` is the finished record
    start: MoodDefinition | None
    target: MoodDefinition | None
    cover_offer: bool  # the listener could let Curator give it a cover
    checkin_opens_at: datetime | None = None  # when "how do you feel now?" is asked (after listening)
    fresh: Fresh | None = None  # "keep it fresh": how often, and the last refresh

    @property
    def checkin_open(self) -> bool:
        return self.checkin_opens_at is not None and utcnow() >= self.checkin_opens_at

    @property
    def minutes_to_checkin(self) -> int:
        """Whole minutes until the check-in is offered (0 once it is)."""
        if self.checkin_opens_at is None:
            return 0
        return max(0, -(-int((self.checkin_opens_at - utcnow()).total_seconds()) // 60))


def saved_page(user, preview_id: str) -> SavedPage:
    """A preview saved to Spotify, as the "saved" page shows it (check `preview.saved` first)."""
    item = preview_store.get_preview(user, preview_id)
    opens = records.checkin_opens_at(item.save, item) if item.saved else None
    fresh = _fresh(living.living_of(item.save)) if item.saved else None
    return SavedPage(item, mood_definition(item.from_slug), mood_definition(item.to_slug),
                     COVER_SCOPE not in granted_scopes(user.id), opens, fresh)


# -- the listener's records ------------------------------------------------------------------

def saved_playlists(user_id: int) -> list[records.SavedPlaylist]:
    return records.saved_playlists(user_id)


@dataclass(frozen=True)
class History:
    page: records.HistoryPage  # one page of saved playlists with their check-ins
    moods: dict[str, MoodDefinition]
    # (from, to) -> sessions with their before/after ratings, the most recent pairs first
    sessions_by_pair: dict[tuple[str, str], list[dict]]
    now: datetime | None = None  # the after-listening check-in is offered from each card's `opens_at`
    fresh: dict[int, Fresh] | None = None  # save id -> "keep it fresh" of that playlist


def history(user_id: int, page: int = 1) -> History:
    """The history page: saved playlists a page at a time, and how the listener felt, per mood pair."""
    found = records.history_page(user_id, page)
    pairs = records.recent_sessions_by_pair(user_id)
    moods = moods_by_slug()
    # Points of the mood wheel are named too (their names come from the moods they sit between).
    slugs = {s for row in found.playlists for s in (row.preview.from_slug, row.preview.to_slug)} | \
        {s for pair in pairs for s in pair}
    for slug in slugs:
        point = wheel.parse_point(slug)
        if point is not None and slug not in moods:
            moods[slug] = creation.point_mood(*point)
    by_save = living.living_by_save([row.save.id for row in found.playlists])
    fresh = {row.save.id: _fresh(by_save.get(row.save.id)) for row in found.playlists}
    return History(found, moods, pairs, utcnow(), fresh)


def record_checkin(user, *, rating, preview_id: str, moment: str = "after") -> CheckIn:
    """How strongly the listener feels it now, about one of their previews."""
    with transaction():
        item = preview_store.get_preview(user, preview_id)
        return records.record_checkin(user, rating=rating, moment=moment, preview=item)


def delete_history(user_id: int) -> int:
    """Forget previews, saves and check-ins (and stop keeping any playlist fresh); returns how many
    previews were removed."""
    with transaction():
        refreshing.forget(user_id)
        return records.delete_history(user_id)


def delete_account(user) -> None:
    """Forget everything; living playlists stop (a refresh running now loses its lease and stops)."""
    with transaction():
        refreshing.forget(user.id)
        records.delete_account(user)


def forget_visitors(users) -> None:
    """Everything kept about these users, in the caller's transaction (old demo visitors)."""
    for user in users:
        refreshing.forget(user.id)
        records.delete_account(user)


# -- living playlists: "keep it fresh" -------------------------------------------------------

@dataclass(frozen=True)
class Fresh:
    """A saved playlist's "keep it fresh", as the pages and the API show it."""

    every: str  # off, daily, weekly, check-in
    hour: int
    timezone: str
    status: str  # active, paused (login ended), gone (deleted in Spotify)
    schedule: str  # "Daily at 07:00 (Europe/Berlin)"
    line: str | None  # "Refreshed today at 07:00 · 20 new tracks", or why it stopped
    refreshed_at: datetime | None
    can_restore: bool
    json: dict

    @property
    def on(self) -> bool:
        return self.every != "off"


def _fresh(row) -> Fresh:
    return Fresh(row.every if row else "off", row.hour if row else living.DEFAULT_HOUR,
                 row.timezone if row else "UTC", row.status if row else "active", living.every_text(row),
                 living.summary(row), living.refreshed_at(row), living.restorable(row), living.freshness_json(row))


def freshness(saves) -> dict[int, Fresh]:
    """Save id -> its "keep it fresh" (for a list of finished saves, in one read)."""
    saves = list(saves)
    by_save = living.living_by_save([s.id for s in saves])
    return {s.id: _fresh(by_save.get(s.id)) for s in saves}


def set_freshness(user, playlist_id: str, data: Mapping) -> PlaylistSave:
    """Keep one of the listener's saved playlists fresh (`{"every", "hour", "timezone"}`), or stop
    ("off"). Only a playlist Curator made for this listener; NotFound otherwise."""
    with transaction():
        save = living.own_save(user, playlist_id)
        fresh = living.parse_freshness(data, living.living_of(save))
        living.set_freshness(user, save, fresh)
        return save


def restore_previous(user, playlist_id: str) -> PlaylistSave:
    """Bring back the version before the last refresh (once): it is put in place by the next run
    of the schedule, and here at once when Spotify answers in time."""
    with transaction():
        save = living.own_save(user, playlist_id)
        refresh = living.restore_previous(user, save)
        refresh_id = refresh.id
    try:
        refreshing.run_refresh(refresh_id, lambda _user_id: spotify.user_gateway())
    except SpotifyError as exc:  # the journal keeps it; the schedule's next run finishes it
        log.info("restoring playlist %s: %s", playlist_id, exc)
    return save


def now() -> datetime:
    """The present as the journal's columns hold it (UTC, naive)."""
    return utcnow()


def refresh_due(now: datetime | None = None, gateway_for=None) -> refreshing.RunReport:
    """Claim every living playlist due by `now` (default the present) and refresh it in place,
    with the refreshes other runs left unfinished (the job runner's `living.refresh-due`)."""
    now = now or utcnow()
    report = refreshing.RunReport()
    report.claimed = refreshing.claim_due(now)
    return refreshing.run_open(now, gateway_for or spotify.job_gateway, report)


def claim_due_refreshes(now: datetime) -> int:
    """One refresh for each living playlist due by `now` (once per due time); how many."""
    return refreshing.claim_due(now)


def run_open_refreshes(now: datetime, gateway_for=None) -> refreshing.RunReport:
    """Run the refreshes claimed and due by `now` that no other run holds (or that a dead one left)."""
    return refreshing.run_open(now, gateway_for or spotify.job_gateway)


def living_overview(now: datetime | None = None) -> dict:
    """For the admin: how many refreshes are due, late, failing, and what they cost in calls."""
    return refreshing.overview(now)


# -- the listener's taste (issue 21) ------------------------------------------------------------

def steering_of(preview: Preview) -> dict:
    """The steering a preview was made with (familiar, avoid_artists, years, exclude_explicit)."""
    return request_of(preview).steering


def remembered_steering(user) -> dict:
    """The listener's steering as the start form shows it (the defaults for a new listener)."""
    return taste.remembered(user.id)


def last_choice(user) -> dict:
    """The listener's last start-form choice (empty the first time)."""
    return taste.last_choice(user.id)


def taste_profile(user) -> taste.Profile:
    """What Curator holds about the listener's taste."""
    return taste.profile(user.id)


def forget_taste(user) -> None:
    """Forget the listener's taste: steering, never-again and kept tracks, the synced library."""
    with transaction():
        taste.forget(user.id)


def bring_back(user, track_id: str) -> bool:
    """Undo a never-again: the track may be picked again. Whether it was marked."""
    with transaction():
        return taste.undo_never(user.id, str(track_id))


def artist_suggestions(user, prefix: str) -> list[str]:
    """Artist names for the "avoid" type-ahead: the listener's library, then the catalogue."""
    from curator.catalogue.matrix import current_catalogue

    return taste.artist_suggestions(str(prefix or "")[:100], current_catalogue(), user.id)


def what_helps(user) -> list[taste.Helped]:
    """The arcs the listener checked in on at least three times, the most eased first."""
    return taste.what_helps(user.id)


def helps_suggestion(user) -> taste.Helped | None:
    """The one arc the start page suggests: the one that eased the start feeling most (if it did)."""
    helped = taste.what_helps(user.id) if user is not None else []
    return helped[0] if helped and helped[0].mean_change > 0 else None


def again_values(preview: Preview) -> dict:
    """A past preview's choices as the start form's fields, to make it again in one tap."""
    req = request_of(preview)
    values = {"from": req.from_slug, "to": req.to_slug, "arc": req.arc, "steering": "1",
              "length": str(req.tracks if req.tracks is not None else req.minutes),
              "unit": "tracks" if req.tracks is not None else "minutes",
              "familiar": str(req.familiar), "avoid_artists": ", ".join(req.avoid_artists)}
    if req.years[0] is not None:
        values["years_from"] = str(req.years[0])
    if req.years[1] is not None:
        values["years_to"] = str(req.years[1])
    for flag in ("exclude_explicit", "avoid_recent", "from_my_music"):
        if getattr(req, flag):
            values[flag] = "1"
    return values


# -- the Spotify data a listener shares for their taste (issue 21) ---------------------------------

TASTE_SOURCES = taste_sync.WHY  # source -> the one line that says why Curator asks


def share_taste(user, sources) -> list[str]:
    """Share these sources from now on (the others stop, their items forgotten). Answers the login
    scope names still to allow (`/login?scopes=...`); when none, the first sync is queued."""
    with transaction():
        chosen = taste_sync.set_shares(user.id, sources)
    missing = taste_sync.missing_scopes(user.id, chosen)
    if chosen and not missing:
        _queue_taste_sync(user.id)
    return missing


def shared_sources(user) -> list[str]:
    return taste.profile(user.id).shares


def sync_taste_if_due(user) -> None:
    """Queue the listener's sync when something they share is due (never run inside the request)."""
    if taste_sync.plan(user.id) is not None:
        _queue_taste_sync(user.id)


def _queue_taste_sync(user_id: int) -> None:
    from curator import jobs

    try:
        jobs.enqueue("taste.sync", user_id=user_id, unique=f"taste.sync:{user_id}")
    except jobs.QueueUnavailable:  # the next periodic run picks it up
        log.info("taste sync of listener %s not queued: no job runner", user_id)


def sync_taste(user_id: int, gateway=None) -> int:
    """One incremental sync of what the listener shares (the job runner's `taste.sync`): Spotify is
    asked with nothing pending, then the items are stored and the new tracks' features fetched once
    through the providers, each in a transaction of its own. How many tracks were new."""
    with transaction():
        plan = taste_sync.plan(user_id)
    if plan is None:
        return 0
    gateway = gateway or spotify.gateway_for(user_id)
    got = taste_sync.fetch(plan, gateway)
    with transaction():
        tracks = taste_sync.store(user_id, got)
    if tracks:
        with transaction():
            ids = library.store_tracks(tracks)
        with transaction():
            library.fetch_features(ids, gateway)
    return len(tracks)


def taste_syncs_due() -> list[int]:
    """Listeners whose shared data is due a sync (the periodic job queues one each)."""
    from sqlalchemy import select

    from curator.models.taste import ListenerTaste

    with transaction():
        # JSON has no equality operator on PostgreSQL, so the "shares anything" test runs here.
        rows = db.session.execute(select(ListenerTaste.user_id, ListenerTaste.shares)).all()
        return [i for i, shares in rows if shares and taste_sync.plan(i) is not None]
