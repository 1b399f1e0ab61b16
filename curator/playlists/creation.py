"""A new preview: the engine's playlist for a request, explained and stored.

`plan_for` reads what a request needs and refuses a wrong one (unknown mood, a length the engine
can't make, no catalogue yet) before anything is written or Spotify is asked; `create_preview`
curates and adds the preview (the service owns the transaction). A listener's own music ("from
music I know") is read and imported by the service before the preview's transaction begins and
comes in as `library`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace

from sqlalchemy import select

from curator import demo
from curator.catalogue.matrix import current_catalogue, tracks_catalogue
from curator.engine import (
    CatalogueEmpty,
    CurateOptions,
    Edit,
    EngineError,
    Length,
    LengthInvalid,
    MoodDefinition,
    curate,
    wheel,
)
from curator.engine.catalogue import Catalogue
from curator.engine.moods import shifted
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack
from curator.models.listening import CheckIn, Preview
from curator.moods.store import StoredMood, active_moods, get_mood
from curator.playlists import care, preview_store, taste
from curator.playlists.errors import CatalogueNotReady
from curator.playlists.library import MyMusic
from curator.playlists.preview_request import PreviewRequest
from curator.problems import NotFound, Unprocessable


def stored_catalogue_empty() -> bool:
    """True while the catalogue has no track at all (one indexed row read, not a count)."""
    return db.session.execute(select(CatalogueTrack.id).limit(1)).first() is None


def catalogue_empty() -> bool:
    """True while there is no track to curate from: the catalogue has none, and it is not demo
    mode, whose made-up tracks stand in (catalogue/demo.py)."""
    return stored_catalogue_empty() and not demo.active()


def mood_of(slug: str, field_name: str) -> StoredMood:
    """A choosable mood by slug, or a point of the mood wheel made from them (engine/wheel.py);
    an unknown one is the listener's mistake, named by its field."""
    point = wheel.parse_point(slug)
    if point is not None:
        return StoredMood(slug, point_mood(*point), version_id=None, number=0, archived=False)
    try:
        return get_mood(slug)
    except NotFound:
        raise Unprocessable(f"There is no mood called “{slug}”.", field=field_name) from None


def point_mood(valence: float, arousal: float) -> MoodDefinition:
    """The mood at a point of the wheel, between the choosable moods as they are now."""
    try:
        return wheel.mood_at(valence, arousal, [m.definition for m in active_moods()])
    except wheel.PointInvalid as exc:
        raise Unprocessable(f"That point of the mood wheel can't be used: {exc}.", field="to") from None


@dataclass(frozen=True)
class Plan:
    """What a request resolves to before the engine runs."""

    start: StoredMood
    target: StoredMood
    start_def: MoodDefinition  # the moods with the listener's nudges applied
    target_def: MoodDefinition
    length: Length
    hold: care.HoldDecision
    catalogue: Catalogue  # the shared catalogue (a listener's own music gets its own)


def plan_for(req: PreviewRequest) -> Plan:
    """Resolve `req`'s moods, length and catalogue; `Unprocessable` or `CatalogueNotReady` if it can't be made."""
    start = mood_of(req.from_slug, "from")
    target = mood_of(req.to_slug, "to")
    # The listener's nudges shift the whole arc: both moods' targets move by the same amount.
    # (engine.moods.shifted: a mood's learned term and listener pull are folded into its targets
    # first, so the nudge moves what the engine scores against.)
    start_def, target_def = shifted(start.definition, req.nudges), shifted(target.definition, req.nudges)
    hold = care.hold_cap(target.definition, req.arc, req.tracks, req.minutes, req.insist)
    tracks, minutes = (hold.tracks, None) if hold.tracks is not None else (req.tracks, req.minutes)
    try:
        length = Length(tracks=tracks) if tracks is not None else Length(minutes=minutes)
    except LengthInvalid as exc:
        raise Unprocessable(str(exc), field="tracks" if tracks is not None else "minutes") from None
    catalogue = current_catalogue()  # cached per process, rebuilt when the catalogue changes
    if len(catalogue) == 0:
        raise CatalogueNotReady("The music catalogue is still being prepared.")
    return Plan(start, target, start_def, target_def, length, hold, catalogue)


def needs_library(req: PreviewRequest) -> bool:
    """Whether `req` needs the listener's library read from Spotify (the first preview of a chain)."""
    return req.from_my_music and not req.library_ids


def create_preview(user, req: PreviewRequest, *, plan: Plan | None = None, library: MyMusic | None = None,
                   parent_id: str | None = None, edit: Edit | None = None,
                   describe: Callable[[list[dict]], Mapping] | None = None) -> Preview:
    """Curate `req` for `user`, add it as a new preview (the service commits) and return it.

    `plan`: `plan_for(req)` when already made. `library`: the listener's own music, read when
    `needs_library(req)`. `edit`: how the new playlist relates to the one being edited (locked
    tracks pinned, one replaced, what still fits kept: `curator.engine.edits`), for the engine.
    `describe(rows)`: options the edit adds for the listener (what changed), read from the
    engine's tracks before the preview is stored; it may refuse them with `Unprocessable`.
    Raises `Unprocessable` (bad input) and `CatalogueNotReady` (no tracks yet).
    """
    p = plan or plan_for(req)
    rows, playlist, notices, req = curate_rows(user, req, p, library=library, edit=edit)
    options = req.options_dict()
    if describe is not None:  # first: an edit says in its own words why it can't be made
        options.update(describe(rows))
    if not playlist.tracks:
        raise Unprocessable(playlist.shortfall or "No tracks fit these choices; try fewer filters.",
                            field="from_my_music" if req.from_my_music else "to")
    if p.hold.note:
        options["hold_note"] = p.hold.note  # the page shows it beside the length, not among the notices
    preview = Preview(
        id=preview_store.new_id(), user_id=user.id, parent_id=parent_id,
        from_slug=p.start.slug, to_slug=p.target.slug,
        from_version_id=p.start.version_id, to_version_id=p.target.version_id,
        length_tracks=req.tracks, length_minutes=req.minutes,
        options=options,
        seed=playlist.seed, arc=playlist.arc, tracks=rows,
        stats=asdict(playlist.stats), shortfall=playlist.shortfall,
        notices=notices + list(playlist.notes) + ([p.hold.note] if p.hold.note else []),
        save=None,  # a new preview has no save: known now, not looked up when it is shown
    )
    preview_store.add(preview)  # the check-in refers to it
    if req.before_rating is not None:
        db.session.add(CheckIn(user_id=user.id, preview_id=preview.id, from_slug=p.start.slug,
                               to_slug=p.target.slug, moment="before", rating=req.before_rating))
    return preview


def curate_rows(user, req: PreviewRequest, p: Plan, *, library: MyMusic | None = None, edit: Edit | None = None,
                avoid: frozenset[str] = frozenset()):
    """The engine's tracks for `req` as stored rows, with the engine's playlist, the notices and the
    request as used: the one scoring path of a preview and of a living playlist's refresh (which
    pins the locked tracks through `edit` and `avoid`s the tracks of its last few versions)."""
    notices: list[str] = []
    catalogue, candidate_ids = p.catalogue, None
    if needs_library(req):
        if library is None:
            raise ValueError("the listener's library is read before the preview is made (service._my_music)")
        candidate_ids, catalogue = library.track_ids, library.catalogue
        req = replace(req, library_ids=tuple(sorted(library.track_ids)))
        if library.notice:
            notices.append(library.notice)
    elif req.from_my_music:
        candidate_ids = frozenset(req.library_ids)
        catalogue = tracks_catalogue(candidate_ids)  # a listener's own tracks are not in the shared one

    excluded = set(req.excluded_ids) | set(avoid)
    if req.avoid_recent:
        excluded |= preview_store.recent_track_ids(user.id)
    try:
        options = CurateOptions(
            exclude_explicit=req.exclude_explicit, exclude_ids=frozenset(excluded),
            candidate_ids=candidate_ids, seed=req.seed, arc=req.arc,
            taste=taste.engine_taste(user.id, req.steering),
        )
        playlist = curate(catalogue, p.start_def, p.target_def, p.length, options, edit=edit)
    except CatalogueEmpty:
        raise CatalogueNotReady("The music catalogue is still being prepared.") from None
    except EngineError as exc:
        raise Unprocessable(str(exc), field="arc") from None
    rows = [{
        "id": t.id, "name": t.name, "artists": list(t.artists), "duration_ms": t.duration_ms,
        "position": t.position, "reason": t.reason, "distance": t.distance,
        "position_target": t.position_target, "features": t.features,
        "album_image": t.album_image,
    } for t in playlist.tracks]
    return rows, playlist, notices, req
