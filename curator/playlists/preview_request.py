"""What a listener asks for: a `PreviewRequest`, read from the start form or a JSON object
(`parse_request`), or recovered from a stored preview to derive the next one (`request_of`)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from curator.engine import wheel
from curator.engine.arc import ARC_SHAPES
from curator.engine.curate import MAX_MINUTES, MAX_TRACKS
from curator.models.listening import Preview
from curator.playlists import taste
from curator.problems import Unprocessable


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
    # Edits (curator/playlists/edits.py): the arc's accumulated nudges, tracks the listener locked
    # (kept by "try other tracks"), and the playlist's own name when the listener gave one.
    nudges: dict[str, float] = field(default_factory=dict)
    locked_ids: tuple[str, ...] = field(default_factory=tuple)
    name: str = ""
    # Steering (issue 21): the share of known music (0-100), artists to avoid, a release-year range
    # (from, to; either None), beside exclude_explicit. `given`: which of the four the request
    # itself set (the others are the listener's remembered ones, filled in by the service).
    familiar: int = 0
    avoid_artists: tuple[str, ...] = field(default_factory=tuple)
    years: tuple[int | None, int | None] = (None, None)
    given: frozenset[str] = field(default_factory=frozenset)

    @property
    def steering(self) -> dict:
        """The four steering settings as the API echoes and the listener's record keeps them."""
        return {"familiar": self.familiar, "avoid_artists": list(self.avoid_artists),
                "years": {"from": self.years[0], "to": self.years[1]}, "exclude_explicit": self.exclude_explicit}

    def options_dict(self) -> dict:
        # Field by field: `asdict` deep-copies every value, which cost more than the rest of this.
        data = {name: getattr(self, name) for name in _OPTION_FIELDS}
        data["excluded_ids"] = list(self.excluded_ids)
        data["library_ids"] = list(self.library_ids)
        data["locked_ids"] = list(self.locked_ids)
        data["nudges"] = dict(self.nudges)
        data["avoid_artists"] = list(self.avoid_artists)
        data["years"] = {"from": self.years[0], "to": self.years[1]}
        return data


_OPTION_FIELDS = tuple(f.name for f in fields(PreviewRequest) if f.name not in (
    "from_slug", "to_slug", "tracks", "minutes", "seed", "before_rating", "given"))


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


def mood_choice(data: Mapping, key: str) -> str:
    """A named mood's slug, or a point of the mood wheel as its slug ("point:0.8,0.2"): given as
    `{"valence": v, "arousal": a}` (JSON), or as `point` with `<key>_valence` and `<key>_arousal`
    (the start form's wheel)."""
    value = data.get(key)
    if isinstance(value, Mapping):
        return _point(value.get("valence"), value.get("arousal"), key)
    text = str(value or "").strip()
    if text == "point":
        return _point(data.get(f"{key}_valence"), data.get(f"{key}_arousal"), key)
    if wheel.is_point(text):
        if wheel.parse_point(text) is None:
            raise Unprocessable("A point on the mood wheel has a valence and an arousal from 0 to 1.", field=key)
    return text


def _point(valence, arousal, key: str) -> str:
    try:
        values = [float(v) if isinstance(v, (int, float, str)) and not isinstance(v, bool) else math.nan
                  for v in (valence, arousal)]
        return wheel.point_slug(*values)
    except (ValueError, wheel.PointInvalid):
        raise Unprocessable("A point on the mood wheel has a valence and an arousal from 0 to 1.",
                            field=key) from None


def parse_request(data: Mapping) -> PreviewRequest:
    """Read a preview request from form fields or a JSON object.

    Keys: `from`, `to` (a mood's slug, or a point of the mood wheel: see `mood_choice`), exactly one of `tracks` / `minutes` (a form may instead send `length`
    with `unit` = tracks|minutes), `exclude_explicit`, `avoid_recent`, `from_my_music`, `arc`,
    `seed`, `before_rating` (1-5), `insist`. Raises `Unprocessable` with the field at fault.
    """
    if not isinstance(data, Mapping):
        raise Unprocessable("Send a JSON object.", field=None)
    from_slug = mood_choice(data, "from")
    to_slug = mood_choice(data, "to")
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
    # Steering: a JSON request sets what it names; the start form (which says `steering`) sets all
    # four, an unticked "explicit off" box being absent.
    form = _flag(data.get("steering", False))
    given = {k for k in ("familiar", "avoid_artists", "years", "exclude_explicit") if k in data}
    familiar = taste.parse_familiar(data["familiar"]) if "familiar" in data else 0
    avoid = tuple(taste.parse_avoid(data["avoid_artists"], form)) if "avoid_artists" in data else ()
    if form:
        given |= {"familiar", "avoid_artists", "years", "exclude_explicit"}
        years = taste.parse_years({"from": data.get("years_from"), "to": data.get("years_to")})
    else:
        years = taste.parse_years(data.get("years")) if "years" in data else {"from": None, "to": None}
    return PreviewRequest(
        from_slug=from_slug, to_slug=to_slug, tracks=tracks, minutes=minutes,
        familiar=familiar, avoid_artists=avoid, years=(years["from"], years["to"]), given=frozenset(given),
        exclude_explicit=_flag(data.get("exclude_explicit", False)),
        avoid_recent=_flag(data.get("avoid_recent", False)),
        from_my_music=_flag(data.get("from_my_music", False)),
        arc=arc, seed=seed, before_rating=rating, insist=_flag(data.get("insist", False)),
    )


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
        familiar=int(opts.get("familiar") or 0), avoid_artists=tuple(opts.get("avoid_artists") or ()),
        years=((opts.get("years") or {}).get("from"), (opts.get("years") or {}).get("to")),
    )
