"""Previews: ask the engine for a playlist, explain it, and store it so reloads and the API agree.

`parse_request` turns form or JSON input into a `PreviewRequest` (or an `Unprocessable` naming
the field at fault); `create_preview` runs the engine and stores the result; `regenerate`,
`without_track` and `retarget` derive a new preview from an existing one. Helpers of
`curator.listen.service`: they add rows but never commit (the service does).
"""
from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import make_transient_to_detached

from curator.catalogue.matrix import current_catalogue, tracks_catalogue
from curator.engine import CatalogueEmpty, CurateOptions, EngineError, Length, LengthInvalid, curate
from curator.engine.arc import ARC_SHAPES, build_arc
from curator.engine.curate import MAX_MINUTES, MAX_TRACKS
from curator.errors import CuratorError, NotFound, Unprocessable
from curator.extensions import db
from curator.listen import care, editing
from curator.listen.records import saved_playlists
from curator.models.listening import CheckIn, Preview
from curator.moods.store import StoredMood, get_mood

# "Avoid tracks I was served in my last playlists" looks back this many saved playlists.
RECENT_PLAYLISTS = 3


class CatalogueNotReady(CuratorError):
    """The catalogue has no tracks yet: the listener sees a "being prepared" page."""

    status = 503
    code = "catalogue_empty"


@dataclass(frozen=True)
class PreviewRequest:
    from_slug: str
    to_slug: str
    tracks: int | None = None
    minutes: float | None = None
    exclude_explicit: bool = False
    avoid_recent: bool = False
    from_my_music: bool = False
    arc: str = "linear"
    seed: int | None = None
    before_rating: int | None = None
    insist: bool = False
    excluded_ids: tuple[str, ...] = field(default_factory=tuple)
    # "From music I know": the listener's tracks as read for the first preview of a chain, so
    # regenerate/remove/retarget reuse them instead of reading the library from Spotify again.
    library_ids: tuple[str, ...] = field(default_factory=tuple)
    # Edits (curator/listen/editing.py): the arc's accumulated nudges, tracks the listener locked
    # (kept by "try other tracks"), and the playlist's own name when the listener gave one.
    nudges: dict[str, float] = field(default_factory=dict)
    locked_ids: tuple[str, ...] = field(default_factory=tuple)
    name: str = ""

    def options_dict(self) -> dict:
        data = asdict(self)
        for key in ("from_slug", "to_slug", "tracks", "minutes", "seed", "before_rating"):
            data.pop(key)
        data["excluded_ids"] = list(self.excluded_ids)
        data["library_ids"] = list(self.library_ids)
        data["locked_ids"] = list(self.locked_ids)
        return data


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "on", "yes"}


def _int(value, field_name: str, label: str) -> int:
    if isinstance(value, bool):
        raise Unprocessable(f"{label} must be a whole number.", field=field_name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Unprocessable(f"{label} must be a whole number.", field=field_name) from None
    if not math.isfinite(number) or not number.is_integer():
        raise Unprocessable(f"{label} must be a whole number.", field=field_name)
    return int(number)


def parse_request(data: Mapping) -> PreviewRequest:
    """Read a preview request from form fields or a JSON object.

    Keys: `from`, `to`, exactly one of `tracks` / `minutes` (a form may instead send `length`
    with `unit` = tracks|minutes), `exclude_explicit`, `avoid_recent`, `from_my_music`, `arc`,
    `seed`, `before_rating` (1-5), `insist`. Raises `Unprocessable` with the field at fault.
    """
    if not isinstance(data, Mapping):
        raise Unprocessable("Send a JSON object.", field=None)
    from_slug = str(data.get("from") or "").strip()
    to_slug = str(data.get("to") or "").strip()
    if not from_slug:
        raise Unprocessable("Choose how you feel now.", field="from")
    if not to_slug:
        raise Unprocessable("Choose how you want to feel.", field="to")

    tracks = data.get("tracks")
    minutes = data.get("minutes")
    if tracks in (None, "") and minutes in (None, "") and data.get("length") not in (None, ""):
        unit = data.get("unit", "tracks")
        if unit == "minutes":
            minutes = data.get("length")
        elif unit == "tracks":
            tracks = data.get("length")
        else:
            raise Unprocessable("Length is counted in tracks or minutes.", field="unit")
    tracks = None if tracks in (None, "") else tracks
    minutes = None if minutes in (None, "") else minutes
    if (tracks is None) == (minutes is None):
        raise Unprocessable("Give a length in tracks or in minutes (one of them).", field="tracks")
    if tracks is not None:
        tracks = _int(tracks, "tracks", "The number of tracks")
        if not 1 <= tracks <= MAX_TRACKS:
            raise Unprocessable(f"Choose between 1 and {MAX_TRACKS} tracks.", field="tracks")
    if minutes is not None:
        try:
            minutes = float(minutes) if not isinstance(minutes, bool) else math.nan
        except (TypeError, ValueError):
            minutes = math.nan
        if not (math.isfinite(minutes) and 1 <= minutes <= MAX_MINUTES):
            raise Unprocessable(f"Choose between 1 and {MAX_MINUTES} minutes.", field="minutes")

    arc = str(data.get("arc") or "linear")
    if arc not in ARC_SHAPES:
        raise Unprocessable(f"The arc is one of {', '.join(ARC_SHAPES)}.", field="arc")
    seed = data.get("seed")
    seed = None if seed in (None, "") else _int(seed, "seed", "The seed")
    if seed is not None and not 0 <= seed < 2**63:
        raise Unprocessable("The seed must be a non-negative whole number.", field="seed")
    rating = data.get("before_rating")
    rating = None if rating in (None, "") else _int(rating, "before_rating", "The rating")
    if rating is not None and not 1 <= rating <= 5:
        raise Unprocessable("Rate how strongly you feel it from 1 to 5.", field="before_rating")
    return PreviewRequest(
        from_slug=from_slug, to_slug=to_slug, tracks=tracks, minutes=minutes,
        exclude_explicit=_flag(data.get("exclude_explicit", False)),
        avoid_recent=_flag(data.get("avoid_recent", False)),
        from_my_music=_flag(data.get("from_my_music", False)),
        arc=arc, seed=seed, before_rating=rating, insist=_flag(data.get("insist", False)),
    )


def _mood(slug: str, field_name: str) -> StoredMood:
    try:
        return get_mood(slug)
    except NotFound:
        raise Unprocessable(f"There is no mood called “{slug}”.", field=field_name) from None


def recent_track_ids(user_id: int, playlists: int = RECENT_PLAYLISTS) -> frozenset[str]:
    """Track ids of the listener's last few playlists saved to Spotify."""
    return frozenset(t["id"] for saved in saved_playlists(user_id, limit=playlists) for t in saved.preview.tracks)


def create_preview(user, req: PreviewRequest, *, gateway=None, parent_id: str | None = None,
                   pinned: dict[int, dict] | None = None) -> Preview:
    """Curate `req` for `user`, add it as a new preview (flushed; the service commits) and return it.

    `pinned` (position -> stored track row) are locked tracks put back in their places.

    Raises `Unprocessable` (bad input), `CatalogueNotReady` (no tracks yet), and for
    `from_my_music` `ScopeRequired` or Spotify errors from reading the listener's library.
    """
    start = _mood(req.from_slug, "from")
    target = _mood(req.to_slug, "to")
    # The listener's nudges shift the whole arc: both moods' targets move by the same amount.
    start_def, target_def = editing.nudged(start.definition, req.nudges), editing.nudged(target.definition, req.nudges)
    notices: list[str] = []

    capped = care.hold_cap(target.definition, req.arc, req.tracks, req.minutes, req.insist)
    tracks, minutes = (capped.tracks, None) if capped.tracks is not None else (req.tracks, req.minutes)
    try:
        length = Length(tracks=tracks) if tracks is not None else Length(minutes=minutes)
    except LengthInvalid as exc:
        raise Unprocessable(str(exc), field="tracks" if tracks is not None else "minutes") from None

    catalogue = current_catalogue()  # cached per process, rebuilt when the catalogue changes
    if len(catalogue) == 0:
        raise CatalogueNotReady("The music catalogue is still being prepared.")

    candidate_ids = None
    if req.from_my_music and req.library_ids:
        candidate_ids = frozenset(req.library_ids)
        catalogue = tracks_catalogue(candidate_ids)  # a listener's own tracks are not in the shared one
    elif req.from_my_music:
        from curator.listen.library import my_music_candidates

        mine = my_music_candidates(user, gateway)
        candidate_ids = mine.track_ids
        catalogue = mine.catalogue
        req = replace(req, library_ids=tuple(sorted(mine.track_ids)))
        if mine.notice:
            notices.append(mine.notice)

    excluded = set(req.excluded_ids) | {row["id"] for row in (pinned or {}).values()}
    if req.avoid_recent:
        excluded |= recent_track_ids(user.id)
    try:
        options = CurateOptions(
            exclude_explicit=req.exclude_explicit, exclude_ids=frozenset(excluded),
            candidate_ids=candidate_ids, seed=req.seed, arc=req.arc,
        )
        playlist = curate(catalogue, start_def, target_def, length, options)
    except CatalogueEmpty:
        raise CatalogueNotReady("The music catalogue is still being prepared.") from None
    except EngineError as exc:
        raise Unprocessable(str(exc), field="arc") from None
    if not playlist.tracks:
        raise Unprocessable(playlist.shortfall or "No tracks fit these choices; try fewer filters.",
                            field="from_my_music" if req.from_my_music else "to")

    rows = []
    for t in playlist.tracks:
        rows.append({
            "id": t.id, "name": t.name, "artists": list(t.artists), "duration_ms": t.duration_ms,
            "position": t.position, "reason": t.reason, "distance": t.distance,
            "position_target": t.position_target, "features": t.features,
            "album_image": t.album_image,
        })
    if pinned:
        rows = editing.pin(rows, pinned)
        arc = build_arc(start_def, target_def, len(rows), playlist.arc)
        rows = editing.with_reasons(rows, arc, start_def.name, target_def.name)
    preview = Preview(
        id=secrets.token_urlsafe(12)[:16], user_id=user.id, parent_id=parent_id,
        from_slug=start.slug, to_slug=target.slug,
        from_version_id=start.version_id, to_version_id=target.version_id,
        length_tracks=req.tracks, length_minutes=req.minutes,
        options=req.options_dict(),
        seed=playlist.seed, arc=playlist.arc, tracks=rows,
        stats=asdict(playlist.stats), shortfall=playlist.shortfall,
        notices=notices + list(playlist.notes) + ([capped.note] if capped.note else []),
        save=None,  # a new preview has no save: known now, not looked up when it is shown
    )
    _write(preview)  # the check-in refers to it
    if req.before_rating is not None:
        db.session.add(CheckIn(user_id=user.id, preview_id=preview.id, from_slug=start.slug,
                               to_slug=target.slug, moment="before", rating=req.before_rating))
    return preview


def request_of(preview: Preview) -> PreviewRequest:
    """The request a stored preview was made from (to derive a new one)."""
    opts = preview.options
    return PreviewRequest(
        from_slug=preview.from_slug, to_slug=preview.to_slug,
        tracks=preview.length_tracks, minutes=preview.length_minutes,
        exclude_explicit=bool(opts.get("exclude_explicit")), avoid_recent=bool(opts.get("avoid_recent")),
        from_my_music=bool(opts.get("from_my_music")), arc=opts.get("arc", preview.arc),
        seed=preview.seed, insist=bool(opts.get("insist")),
        excluded_ids=tuple(opts.get("excluded_ids") or ()),
        library_ids=tuple(opts.get("library_ids") or ()),
        nudges=dict(opts.get("nudges") or {}), locked_ids=tuple(opts.get("locked_ids") or ()),
        name=str(opts.get("name") or ""),
    )


def locked_rows(preview: Preview) -> dict[int, dict]:
    """The preview's locked tracks by position."""
    locked = set(preview.options.get("locked_ids") or ())
    return {i: t for i, t in enumerate(preview.tracks) if t["id"] in locked}


def regenerate(user, preview: Preview, gateway=None) -> Preview:
    """The same choices with another seed."""
    seed = secrets.randbits(32)
    if seed == preview.seed:
        seed ^= 1
    return create_preview(user, replace(request_of(preview), seed=seed), gateway=gateway, parent_id=preview.id,
                          pinned=locked_rows(preview))


def _derived(user, preview: Preview, rows: list[dict], options: dict) -> Preview:
    """A new preview like `preview` with other track rows and options (a step the listener took)."""
    item = Preview(
        id=secrets.token_urlsafe(12)[:16], user_id=user.id, parent_id=preview.id,
        from_slug=preview.from_slug, to_slug=preview.to_slug,
        from_version_id=preview.from_version_id, to_version_id=preview.to_version_id,
        length_tracks=preview.length_tracks, length_minutes=preview.length_minutes,
        options=options, seed=preview.seed, arc=preview.arc, tracks=rows, stats=dict(preview.stats),
        shortfall=preview.shortfall, notices=list(preview.notices), save=None,
    )
    return _write(item)


def _write(item: Preview) -> Preview:
    """INSERT a new preview at once, with one Core statement, and keep it in the session as stored.

    The same row the ORM's flush would write, without its unit-of-work bookkeeping, which cost a
    preview more than the INSERT itself (0.6 against 0.15 ms). Columns the constructor left out
    get their defaults on the object first, so nothing of it is read back from the database."""
    table = Preview.__table__
    given = sa_inspect(item).dict
    for column in table.columns:
        if column.key not in given:
            default = column.default
            value = None if default is None else default.arg(None) if default.is_callable else default.arg
            setattr(item, column.key, value)
    db.session.connection().execute(table.insert(), {c.key: getattr(item, c.key) for c in table.columns})
    make_transient_to_detached(item)  # "stored, nothing pending": later changes are tracked as usual
    db.session.add(item)
    return item


def _position_of(preview: Preview, track_id: str) -> int:
    for i, t in enumerate(preview.tracks):
        if t["id"] == track_id:
            return i
    raise Unprocessable("That track is not in this playlist.", field="track_id")


def _editable(preview: Preview) -> None:
    if preview.saved:
        raise Unprocessable("This playlist is already saved to Spotify; make a new one to change it.",
                            field="track_id")
    if preview.save is not None:  # begun, not finished: an edit would leave that playlist half made
        raise Unprocessable("Saving this playlist has begun; finish saving it first, then make a new one "
                            "to change it.", field="track_id")


def without_track(user, preview: Preview, track_id: str, gateway=None) -> Preview:
    """`track_id` out, and in its place the track that best fits that point of the arc; every
    other track stays where it was. The new preview names the swap in `options["edit_notice"]`."""
    _editable(preview)
    position = _position_of(preview, track_id)
    req = request_of(preview)
    start = _mood(req.from_slug, "from").definition
    target = _mood(req.to_slug, "to").definition
    start, target = editing.nudged(start, req.nudges), editing.nudged(target, req.nudges)
    catalogue = current_catalogue()
    excluded = {*req.excluded_ids, track_id}
    if req.avoid_recent:
        excluded |= recent_track_ids(user.id)
    rows = list(preview.tracks)
    arc = build_arc(start, target, len(rows), preview.arc)
    try:
        row = editing.best_replacement(
            catalogue, arc, position, rows, exclude_ids=frozenset(excluded),
            candidate_ids=frozenset(req.library_ids) if req.from_my_music and req.library_ids else None,
            exclude_explicit=req.exclude_explicit)
    except editing.NoReplacement:
        raise Unprocessable(f"No other track fits this place, so “{rows[position]['name']}” stays.",
                            field="track_id") from None
    rows[position] = editing.track_row(catalogue, row, position, arc, catalogue.images[row])
    rows = editing.with_reasons(rows, arc, start.name, target.name)
    old_name, new_name = preview.tracks[position]["name"], rows[position]["name"]
    options = {**preview.options, "excluded_ids": sorted({*req.excluded_ids, track_id}),
               "edit_notice": f"“{old_name}” is out; “{new_name}” fits this point of the arc best.",
               "changed_positions": [position]}
    return _derived(user, preview, rows, options)


def set_lock(user, preview: Preview, track_id: str, locked: bool) -> Preview:
    """Lock (or unlock) a track so "try other tracks" and nudges keep it. Changes only options."""
    _editable(preview)
    _position_of(preview, track_id)
    ids = set(preview.options.get("locked_ids") or ())
    ids = ids | {track_id} if locked else ids - {track_id}
    options = {k: v for k, v in preview.options.items() if k not in ("edit_notice", "changed_positions")}
    preview.options = {**options, "locked_ids": sorted(ids)}  # a new dict: JSON change tracking
    db.session.flush()
    return preview


# Spotify allows long names; a playlist list reads best with short ones.
MAX_NAME = 100


def rename(user, preview: Preview, name: str) -> Preview:
    """The name the playlist will have in Spotify (empty: Curator's own "Anxious → Calm · date")."""
    _editable(preview)
    clean = " ".join(str(name or "").split())
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in clean):
        raise Unprocessable("The name has characters a playlist name can't hold.", field="name")
    if len(clean) > MAX_NAME:
        raise Unprocessable(f"Keep the name to {MAX_NAME} characters or fewer.", field="name")
    options = {k: v for k, v in preview.options.items() if k not in ("name", "edit_notice", "changed_positions")}
    if clean:
        options["name"] = clean
    preview.options = options
    db.session.flush()
    return preview


def nudge(user, preview: Preview, direction: str, gateway=None) -> Preview:
    """The same choices with the whole arc shifted (gentler, more energy, brighter, darker);
    locked tracks stay. The new preview says what changed in `options["edit_notice"]`."""
    _editable(preview)
    req = request_of(preview)
    try:
        shift = editing.add_nudge(req.nudges, direction)
    except KeyError:
        raise Unprocessable("Choose gentler, more energy, brighter or less bright.", field="direction") from None
    if shift == req.nudges:
        raise Unprocessable(f"The arc is already as far as it goes that way ({editing.NUDGE_LABELS[direction].lower()}).",
                            field="direction")
    new = create_preview(user, replace(req, nudges=shift), gateway=gateway, parent_id=preview.id,
                         pinned=locked_rows(preview))
    changed = editing.changed_positions(preview.tracks, new.tracks)
    feature = "valence" if direction in ("brighter", "darker") else "energy"
    before, after = editing.mean_feature(preview.tracks, feature), editing.mean_feature(new.tracks, feature)
    label = "brightness (valence)" if feature == "valence" else "energy"
    moved = f" average {label} {before:.2f} → {after:.2f};" if before is not None and after is not None else ""
    new.options = {**new.options, "changed_positions": changed,
                   "edit_notice": f"{editing.NUDGE_LABELS[direction]}:{moved} "
                                  f"{len(changed)} of {len(new.tracks)} tracks changed."}
    db.session.flush()
    return new


def retarget(user, preview: Preview, to_slug: str, *, insist: bool | None = None, gateway=None) -> Preview:
    """The same start, ending at another mood (the care offer), or the same with `insist`."""
    req = replace(request_of(preview), to_slug=to_slug, seed=None, locked_ids=())  # another arc: locks lapse
    if insist is not None:
        req = replace(req, insist=insist, seed=preview.seed)
    return create_preview(user, req, gateway=gateway, parent_id=preview.id)


def get_preview(user, preview_id: str) -> Preview:
    """The user's own preview; anyone else's (or none) is NotFound: no hint that it exists."""
    preview = db.session.get(Preview, preview_id) if preview_id else None
    if preview is None or preview.user_id != user.id:
        raise NotFound("There is no such playlist preview.")
    return preview
