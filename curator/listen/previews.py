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

from sqlalchemy import select

from curator.catalogue.matrix import current_catalogue, tracks_catalogue
from curator.engine import CatalogueEmpty, CurateOptions, EngineError, Length, LengthInvalid, curate
from curator.engine.arc import ARC_SHAPES
from curator.engine.curate import MAX_MINUTES, MAX_TRACKS
from curator.errors import CuratorError, NotFound, Unprocessable
from curator.extensions import db
from curator.listen import care
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

    def options_dict(self) -> dict:
        data = asdict(self)
        for key in ("from_slug", "to_slug", "tracks", "minutes", "seed", "before_rating"):
            data.pop(key)
        data["excluded_ids"] = list(self.excluded_ids)
        data["library_ids"] = list(self.library_ids)
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


def position_label(index: int, count: int, start_name: str, target_name: str) -> str:
    """Where a track sits in the arc, in words: the prefix of its reason."""
    if count <= 1:
        return f"{target_name.lower()}"
    if index == 0:
        return f"{start_name.lower()} start"
    if index == count - 1:
        return f"{target_name.lower()} finish"
    fraction = index / (count - 1)
    if fraction < 0.34:
        return f"leaving {start_name.lower()}"
    if fraction < 0.67:
        return f"halfway to {target_name.lower()}"
    return f"nearing {target_name.lower()}"


def create_preview(user, req: PreviewRequest, *, gateway=None, parent_id: str | None = None) -> Preview:
    """Curate `req` for `user`, add it as a new preview (flushed; the service commits) and return it.

    Raises `Unprocessable` (bad input), `CatalogueNotReady` (no tracks yet), and for
    `from_my_music` `ScopeRequired` or Spotify errors from reading the listener's library.
    """
    start = _mood(req.from_slug, "from")
    target = _mood(req.to_slug, "to")
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

    excluded = set(req.excluded_ids)
    if req.avoid_recent:
        excluded |= recent_track_ids(user.id)
    try:
        options = CurateOptions(
            exclude_explicit=req.exclude_explicit, exclude_ids=frozenset(excluded),
            candidate_ids=candidate_ids, seed=req.seed, arc=req.arc,
        )
        playlist = curate(catalogue, start.definition, target.definition, length, options)
    except CatalogueEmpty:
        raise CatalogueNotReady("The music catalogue is still being prepared.") from None
    except EngineError as exc:
        raise Unprocessable(str(exc), field="arc") from None
    if not playlist.tracks:
        raise Unprocessable(playlist.shortfall or "No tracks fit these choices; try fewer filters.",
                            field="from_my_music" if req.from_my_music else "to")

    images = album_images([t.id for t in playlist.tracks])
    count = len(playlist.tracks)
    rows = []
    for t in playlist.tracks:
        prefix = position_label(t.position, count, start.definition.name, target.definition.name)
        rows.append({
            "id": t.id, "name": t.name, "artists": list(t.artists), "duration_ms": t.duration_ms,
            "position": t.position, "reason": f"{prefix}: {t.reason}", "distance": t.distance,
            "position_target": t.position_target, "features": t.features,
            "album_image": images.get(t.id),
        })
    preview = Preview(
        id=secrets.token_urlsafe(12)[:16], user_id=user.id, parent_id=parent_id,
        from_slug=start.slug, to_slug=target.slug,
        from_version_id=start.version_id, to_version_id=target.version_id,
        length_tracks=req.tracks, length_minutes=req.minutes,
        options=req.options_dict(),
        seed=playlist.seed, arc=playlist.arc, tracks=rows,
        stats=asdict(playlist.stats), shortfall=playlist.shortfall,
        notices=notices + list(playlist.notes) + ([capped.note] if capped.note else []),
    )
    db.session.add(preview)
    db.session.flush()  # the check-in refers to it
    if req.before_rating is not None:
        db.session.add(CheckIn(user_id=user.id, preview_id=preview.id, from_slug=start.slug,
                               to_slug=target.slug, moment="before", rating=req.before_rating))
    return preview


def album_images(track_ids: list[str]) -> dict[str, str]:
    """Album image URLs the catalogue knows for these tracks (CSV imports usually have none)."""
    from curator.models.catalogue import CatalogueTrack

    if not track_ids:
        return {}
    rows = db.session.execute(
        select(CatalogueTrack.id, CatalogueTrack.image_url).where(CatalogueTrack.id.in_(track_ids))
    ).all()
    return {track_id: url for track_id, url in rows if url}


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
    )


def regenerate(user, preview: Preview, gateway=None) -> Preview:
    """The same choices with another seed."""
    seed = secrets.randbits(32)
    if seed == preview.seed:
        seed ^= 1
    return create_preview(user, replace(request_of(preview), seed=seed), gateway=gateway, parent_id=preview.id)


def without_track(user, preview: Preview, track_id: str, gateway=None) -> Preview:
    """Same seed, excluding `track_id`: the engine fills its place with the next best track."""
    if track_id not in {t["id"] for t in preview.tracks}:
        raise Unprocessable("That track is not in this playlist.", field="track_id")
    req = request_of(preview)
    req = replace(req, excluded_ids=tuple(sorted({*req.excluded_ids, track_id})))
    return create_preview(user, req, gateway=gateway, parent_id=preview.id)


def retarget(user, preview: Preview, to_slug: str, *, insist: bool | None = None, gateway=None) -> Preview:
    """The same start, ending at another mood (the care offer), or the same with `insist`."""
    req = replace(request_of(preview), to_slug=to_slug, seed=None)
    if insist is not None:
        req = replace(req, insist=insist, seed=preview.seed)
    return create_preview(user, req, gateway=gateway, parent_id=preview.id)


def get_preview(user, preview_id: str) -> Preview:
    """The user's own preview; anyone else's (or none) is NotFound: no hint that it exists."""
    preview = db.session.get(Preview, preview_id) if preview_id else None
    if preview is None or preview.user_id != user.id:
        raise NotFound("There is no such playlist preview.")
    return preview
