"""A listener's taste in the web app: what they steer, what they did, what they shared.

* **Steering** (familiar <-> new, artists to avoid, a year range, explicit off) is remembered per
  listener: a request that leaves a setting out gets the remembered one (`resolve`), and every
  preview's request is remembered as the listener's last choice (`remember`).
* **Marks**: a track swapped out is never picked again for that listener until they undo it; a
  kept (locked) track counts for them. An artist swapped out twice is used less.
* **Shared Spotify data** (`taste_sync.py`) and saved playlists count for them too.

`engine_taste` turns all of it into the engine's `Taste` (a mask and a bonus over the catalogue's
rows). Helpers of `curator.playlists.service`: they add rows and never commit.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from curator.clock import utcnow
from curator.engine.taste import Taste, artists_starting
from curator.extensions import db
from curator.models.catalogue import join_list, split_list
from curator.models.listening import SAVE_DONE, PlaylistSave, Preview
from curator.models.taste import MARK_KEPT, MARK_NEVER, ListenerTaste, TasteItem, TasteMark
from curator.problems import Unprocessable

STEERING_KEYS = ("familiar", "avoid_artists", "years", "exclude_explicit")
DEFAULT_STEERING = {"familiar": 0, "avoid_artists": [], "years": {"from": None, "to": None},
                    "exclude_explicit": False}
MAX_AVOID = 50
MAX_ARTIST_NAME = 200
YEAR_RANGE = (1900, 2100)
# Saved playlists read for what the listener keeps (the newest ones).
SAVED_READ = 30
# An artist swapped out this many times is used less.
LESS_AFTER = 2


# -- steering -----------------------------------------------------------------------------

def parse_familiar(value) -> int:
    if isinstance(value, bool):
        raise Unprocessable("familiar is a whole number from 0 to 100.", field="familiar")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Unprocessable("familiar is a whole number from 0 to 100.", field="familiar") from None
    if not number.is_integer() or not 0 <= number <= 100:
        raise Unprocessable("familiar is a whole number from 0 to 100.", field="familiar")
    return int(number)


def parse_avoid(value, form: bool = False) -> list[str]:
    """Artist names: a JSON array, or (`form`) a form's text with one name per comma or line."""
    if form and isinstance(value, str):
        value = [part for line in value.splitlines() for part in line.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Unprocessable("avoid_artists is a list of artist names.", field="avoid_artists")
    names: dict[str, str] = {}
    for raw in value:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_ARTIST_NAME or any(ord(c) < 32 for c in name):
            raise Unprocessable("An artist's name is at most 200 characters of text.", field="avoid_artists")
        names.setdefault(name.casefold(), name)
    if len(names) > MAX_AVOID:
        raise Unprocessable(f"Avoid at most {MAX_AVOID} artists.", field="avoid_artists")
    return list(names.values())


def _year(value, end: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise Unprocessable(f"years.{end} is a year such as 1980.", field="years")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Unprocessable(f"years.{end} is a year such as 1980.", field="years") from None
    if not number.is_integer() or not YEAR_RANGE[0] <= number <= YEAR_RANGE[1]:
        raise Unprocessable(f"years.{end} is a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}.", field="years")
    return int(number)


def parse_years(value) -> dict:
    if value is None:
        return {"from": None, "to": None}
    if not isinstance(value, dict) or set(value) - {"from", "to"}:
        raise Unprocessable('years is {"from": 1980, "to": 2009}, either end optional.', field="years")
    lo, hi = _year(value.get("from"), "from"), _year(value.get("to"), "to")
    if lo is not None and hi is not None and lo > hi:
        raise Unprocessable("years.from comes before years.to.", field="years")
    return {"from": lo, "to": hi}


def _row(user_id: int, create: bool = False) -> ListenerTaste | None:
    # Held by the session for its life: the identity map alone keeps objects weakly, and a preview
    # reads this row three times (steering, engine view, remembering) with one SELECT.
    held = db.session.info.setdefault("listener_tastes", {})
    row = db.session.get(ListenerTaste, user_id)
    if row is None and create:
        _insert_if_absent(user_id)
        row = db.session.get(ListenerTaste, user_id)
        view = db.session.info.get("taste_views", {}).pop(user_id, None)
        if view is not None and row.engine_view is None:
            row.engine_view = view
    if row is not None:
        held[user_id] = row
    return row


def _insert_if_absent(user_id: int) -> None:
    """Make the listener's row unless it is there. Two first requests of a new listener (a double
    click, two tabs) both find no row: a plain INSERT made the second fail on the primary key. On
    SQLite and PostgreSQL an INSERT ... ON CONFLICT DO NOTHING waits for the other's commit and then
    adds nothing; elsewhere the INSERT runs in a savepoint and a duplicate is let go."""
    values = {"user_id": user_id, "steering": {}, "last_choice": {}, "shares": [], "sync_state": {},
              "updated_at": utcnow()}
    dialect = db.session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        db.session.execute(insert(ListenerTaste).values(**values).on_conflict_do_nothing(index_elements=["user_id"]))
        return
    try:
        with db.session.begin_nested():
            db.session.execute(ListenerTaste.__table__.insert().values(**values))
    except IntegrityError:
        pass


def remembered(user_id: int) -> dict:
    """The listener's steering, every key present (the defaults where nothing was set)."""
    row = _row(user_id)
    return {**DEFAULT_STEERING, **((row.steering if row else None) or {})}


def last_choice(user_id: int) -> dict:
    row = _row(user_id)
    return dict((row.last_choice if row else None) or {})


def remember(user_id: int, steering: dict, choice: dict) -> None:
    """Keep `steering` and the start form's `choice` as the listener's own (in the caller's transaction;
    nothing is written when both are as kept)."""
    row = _row(user_id, create=True)
    steering = {k: steering[k] for k in STEERING_KEYS}
    if row.steering != steering or row.last_choice != choice:
        row.steering = steering
        row.last_choice = dict(choice)
        row.updated_at = utcnow()


def changed(user_id: int) -> None:
    """Something the engine view is made of changed (a mark, a sync, a saved playlist)."""
    row = _row(user_id, create=True)
    if row.engine_view is not None:
        row.engine_view = None


# -- marks --------------------------------------------------------------------------------

def _mark(user_id: int, kind: str, track: dict) -> None:
    """Record a mark, and add it to the engine view as it is (no view: worked out at the next preview)."""
    track_id = str(track["id"])
    found = db.session.execute(select(TasteMark.id).where(
        TasteMark.user_id == user_id, TasteMark.kind == kind, TasteMark.track_id == track_id)).first()
    if found is not None:
        return
    artists = [str(a) for a in track.get("artists") or []]
    db.session.add(TasteMark(user_id=user_id, kind=kind, track_id=track_id, name=str(track.get("name") or ""),
                             artists=join_list(artists), created_at=utcnow()))
    row = _row(user_id, create=True)
    if row.engine_view is None:
        return
    view = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in row.engine_view.items()}
    primary = artists[0].casefold() if artists else ""
    if kind == MARK_NEVER:
        view["never"] = sorted({*view["never"], track_id})
        view["known_ids"] = [t for t in view["known_ids"] if t != track_id]
        if primary:
            view["removed"][primary] = view["removed"].get(primary, 0) + 1
    else:
        if track_id not in view["never"]:
            view["known_ids"] = sorted({*view["known_ids"], track_id})
        if artists:
            view["known_artists"] = sorted({*view["known_artists"], artists[0]})
    row.engine_view = view  # a new value: JSON columns see only assignments


def never_again(user_id: int, track: dict) -> None:
    """`track` (a preview's track row) is never picked again for the listener until undone."""
    _mark(user_id, MARK_NEVER, track)


def kept(user_id: int, track: dict, keep: bool = True) -> None:
    if keep:
        _mark(user_id, MARK_KEPT, track)
    else:
        changed(user_id)
        db.session.execute(delete(TasteMark).where(
            TasteMark.user_id == user_id, TasteMark.kind == MARK_KEPT, TasteMark.track_id == track["id"]))


def undo_never(user_id: int, track_id: str) -> bool:
    """The track may come back. Whether it was marked."""
    changed(user_id)
    return db.session.execute(delete(TasteMark).where(
        TasteMark.user_id == user_id, TasteMark.kind == MARK_NEVER, TasteMark.track_id == track_id)).rowcount > 0


def avoided_ids(catalogue, names) -> set[str]:
    """Track ids of the catalogue by the avoided artists (for the swap's own search)."""
    if not names:
        return set()
    from curator.engine.taste import taste_rows

    rows = taste_rows(catalogue, Taste(avoid_artists=frozenset(names))).blocked
    return set(catalogue.ids.take(rows))


def never_ids(user_id: int) -> frozenset[str]:
    return frozenset(db.session.execute(select(TasteMark.track_id).where(
        TasteMark.user_id == user_id, TasteMark.kind == MARK_NEVER)).scalars())


# -- what the engine reads ------------------------------------------------------------------

def _saved_tracks(user_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Preview.tracks).join(PlaylistSave, PlaylistSave.preview_id == Preview.id)
        .where(PlaylistSave.user_id == user_id, PlaylistSave.state == SAVE_DONE)
        .order_by(PlaylistSave.completed_at.desc()).limit(SAVED_READ)).scalars()
    return [t for tracks in rows for t in (tracks or ())]


def engine_taste(user_id: int, steering: dict) -> Taste:
    """The listener's taste as the engine reads it, with `steering`: one row read, unless something
    changed since the last preview (then worked out again and kept)."""
    row = _row(user_id)
    view = row.engine_view if row is not None else None
    if view is None:
        view = _engine_view(user_id)
        if row is not None:
            row.engine_view = view
        else:  # kept by the row `remember` makes at the end: no write before the engine has run
            db.session.info.setdefault("taste_views", {})[user_id] = view
    years = steering.get("years") or {}
    return Taste(
        familiar=int(steering.get("familiar") or 0), never_ids=frozenset(view["never"]),
        avoid_artists=frozenset(steering.get("avoid_artists") or ()),
        years=(years.get("from"), years.get("to")),
        known_ids=frozenset(view["known_ids"]), known_artists=frozenset(view["known_artists"]),
        less_artists=frozenset(a for a, n in view["removed"].items() if n >= LESS_AFTER),
    )


def _engine_view(user_id: int) -> dict:
    marks = db.session.execute(select(TasteMark.kind, TasteMark.track_id, TasteMark.artists).where(
        TasteMark.user_id == user_id)).all()
    items = db.session.execute(select(TasteItem.kind, TasteItem.item_id, TasteItem.name, TasteItem.artists).where(
        TasteItem.user_id == user_id)).all()
    never = {track_id for kind, track_id, _ in marks if kind == MARK_NEVER}
    removed = Counter(split_list(artists)[0].casefold() for kind, _, artists in marks
                      if kind == MARK_NEVER and artists)
    known_ids: set[str] = set()
    known_artists: set[str] = set()
    for kind, track_id, artists in marks:
        if kind == MARK_KEPT:
            known_ids.add(track_id)
            known_artists.update(split_list(artists)[:1])
    for t in _saved_tracks(user_id):
        known_ids.add(str(t.get("id")))
        known_artists.update((t.get("artists") or [])[:1])
    for kind, item_id, name, artists in items:
        if kind == "artist":
            known_artists.add(name)
        else:
            known_ids.add(item_id)
            known_artists.update(split_list(artists)[:1])
    return {"never": sorted(never), "known_ids": sorted(known_ids - never),
            "known_artists": sorted(a for a in known_artists if a), "removed": dict(removed)}


# -- what the listener sees -----------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    steering: dict
    never_again: list[dict]  # {"id", "name", "artists", "at"}
    kept: list[dict]
    shares: list[str]
    counts: dict[str, int]  # synced items per source
    synced_at: object
    less_artists: list[str]
    saved_tracks: int


def profile(user_id: int) -> Profile:
    marks = db.session.execute(select(TasteMark).where(TasteMark.user_id == user_id)
                               .order_by(TasteMark.created_at.desc(), TasteMark.id.desc())).scalars().all()

    def show(m: TasteMark) -> dict:
        return {"id": m.track_id, "name": m.name, "artists": split_list(m.artists), "at": m.created_at}

    counts: dict[str, int] = {}
    for source, in db.session.execute(select(TasteItem.source).where(TasteItem.user_id == user_id)):
        counts[source] = counts.get(source, 0) + 1
    removed = Counter(split_list(m.artists)[0] for m in marks if m.kind == MARK_NEVER and m.artists)
    row = _row(user_id)
    return Profile(
        steering=remembered(user_id),
        never_again=[show(m) for m in marks if m.kind == MARK_NEVER],
        kept=[show(m) for m in marks if m.kind == MARK_KEPT],
        shares=list(row.shares) if row else [],
        counts=counts, synced_at=row.synced_at if row else None,
        less_artists=sorted(a for a, n in removed.items() if n >= LESS_AFTER),
        saved_tracks=len({t.get("id") for t in _saved_tracks(user_id)}),
    )


def forget(user_id: int) -> None:
    """Everything Curator holds about the listener's taste (their steering and last choice too)."""
    db.session.execute(delete(TasteMark).where(TasteMark.user_id == user_id))
    db.session.execute(delete(TasteItem).where(TasteItem.user_id == user_id))
    db.session.execute(delete(ListenerTaste).where(ListenerTaste.user_id == user_id))
    db.session.info.get("listener_tastes", {}).pop(user_id, None)


def artist_suggestions(prefix: str, catalogue, user_id: int, limit: int = 10) -> list[str]:
    """Artist names starting with `prefix` (case-insensitive): the listener's library first, then the catalogue's."""
    wanted = " ".join(prefix.split()).casefold()
    if len(wanted) < 1:
        return []
    found: dict[str, str] = {}
    for name, artists in db.session.execute(select(TasteItem.name, TasteItem.artists).where(
            TasteItem.user_id == user_id)):
        for n in ([name] if not artists else split_list(artists)):
            if n and n.casefold().startswith(wanted):
                found.setdefault(n.casefold(), n)
    for name in artists_starting(catalogue, wanted, limit):
        found.setdefault(name.casefold(), name)
    return list(found.values())[:limit]


# -- what helps me: the listener's own before/after check-ins ---------------------------------------

HELPS_AFTER = 3  # check-ins of an arc (before and after) before anything is said about it
HELPS_READ = 400  # the latest check-ins read


@dataclass(frozen=True)
class Helped:
    """One arc the listener checked in on: how strongly they felt the start mood before and after."""

    from_slug: str
    to_slug: str
    times: int  # sessions with both a before and an after rating
    mean_change: float  # mean of (before - after): how much the start feeling eased, on the 1-5 scale
    low: int  # the smallest and largest single change
    high: int
    length: dict  # the last session's length ({"tracks": n} or {"minutes": m})

    @property
    def uncertainty(self) -> str:
        spread = f"single times ranged from {self.low:+d} to {self.high:+d}"
        if self.times < 6:
            return f"Only {self.times} times, so this may be chance; {spread}."
        return f"From {self.times} times; {spread}."


def what_helps(user_id: int) -> list[Helped]:
    """Arcs with at least HELPS_AFTER complete check-ins, the most eased first (descriptive only)."""
    from curator.models.listening import CheckIn

    rows = db.session.execute(
        select(CheckIn.preview_id, CheckIn.from_slug, CheckIn.to_slug, CheckIn.moment, CheckIn.rating)
        .where(CheckIn.user_id == user_id, CheckIn.preview_id.is_not(None))
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(HELPS_READ)).all()
    sessions: dict[str, dict] = {}
    for preview_id, from_slug, to_slug, moment, rating in reversed(rows):  # oldest first: the latest wins
        sessions.setdefault(preview_id, {"pair": (from_slug, to_slug)})[moment] = rating
    by_pair: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for preview_id, s in sessions.items():
        if s.get("before") is not None and s.get("after") is not None:
            by_pair.setdefault(s["pair"], []).append((preview_id, int(s["before"]) - int(s["after"])))
    found = []
    for (from_slug, to_slug), changes in by_pair.items():
        if len(changes) < HELPS_AFTER:
            continue
        values = [c for _, c in changes]
        last = db.session.get(Preview, changes[-1][0])
        length = ({"tracks": last.length_tracks} if last is not None and last.length_tracks is not None
                  else {"minutes": last.length_minutes} if last is not None and last.length_minutes else {"tracks": 20})
        found.append(Helped(from_slug, to_slug, len(values), sum(values) / len(values), min(values), max(values),
                            length))
    found.sort(key=lambda h: (-h.mean_change, -h.times))
    return found
