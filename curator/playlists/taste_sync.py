"""The Spotify data a listener chose to share, synced into their taste (issue 21), on the job runner.

Each source is opt-in and asks for its own scope, with a one-line why:

* ``top``: top artists and top tracks (``user-top-read``), read again at most once a day (a top list
  is a ranking, not a history: it is replaced);
* ``saved``: saved tracks (``user-library-read``), newest first: the first sync pages through them
  all, later ones stop at the first track already seen (only the new pages);
* ``followed``: the artists they follow (``user-follow-read``). Spotify pages them by artist id,
  not by when they were followed (the ``after`` cursor is the last id read), so a new follow can
  land on any page and no cursor can ask for "what changed since": the list is read in one pass
  at most once a day, and only the difference is written (new follows added, unfollowed dropped);
* ``recent``: what they played lately (``user-read-recently-played``): the first sync pages back
  through the history Spotify keeps (the ``before`` cursor); later ones ask only for the plays
  after the newest one held (``after``, a time in ms), so a sync with nothing new is one call.

Three steps, which the service runs in transactions of their own so none is held across a call to
Spotify or a feature provider: `plan` reads what to ask (nothing written), `fetch` asks Spotify
(nothing written), `store` writes the items and where the sync stopped; the tracks' features are
then fetched once through the feature providers (`library.fetch_features`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from curator.clock import utcnow
from curator.extensions import db
from curator.models.catalogue import join_list
from curator.models.taste import TasteItem
from curator.playlists import taste
from curator.spotify.gateway import played_at_ms
from curator.spotify.token_store import granted_scopes

SOURCES = {"top": ("user-top-read",), "saved": ("user-library-read",), "followed": ("user-follow-read",),
           "recent": ("user-read-recently-played",)}
WHY = {
    "top": "Your top artists and tracks, so “familiar” knows the music you play most.",
    "saved": "Your saved tracks, so “familiar” knows the music you keep.",
    "followed": "The artists you follow, so “familiar” knows who you chose to hear more of.",
    "recent": "What you played lately, so “familiar” knows what you listen to now.",
}
# The synced items' source names of each shared source (TasteItem.source).
ITEMS = {"top": ("top_artists", "top_tracks"), "saved": ("saved",), "followed": ("followed",), "recent": ("recent",)}
TOP_EVERY = timedelta(days=1)
FOLLOWED_EVERY = timedelta(days=1)
TOP_LIMIT = 50
SAVED_LIMIT = 2000  # the newest saved tracks kept
FOLLOWED_LIMIT = 2000
RECENT_LIMIT = 500  # plays read in one sync, and distinct recent tracks kept (the latest played)


def missing_scopes(user_id: int, sources) -> list[str]:
    """The login scope names (`/login?scopes=...`) the listener has yet to grant for `sources`."""
    granted = granted_scopes(user_id)
    return [name for name in sources if name in SOURCES and not set(SOURCES[name]) <= granted]


def set_shares(user_id: int, sources) -> list[str]:
    """The sources the listener shares from now on (unknown names refused by the caller); the kept
    items of a source no longer shared are forgotten at once."""
    chosen = sorted({s for s in sources if s in SOURCES})
    row = taste._row(user_id, create=True)
    dropped = set(row.shares or ()) - set(chosen)
    row.shares = chosen
    for source in dropped:
        db.session.execute(delete(TasteItem).where(TasteItem.user_id == user_id,
                                                   TasteItem.source.in_(ITEMS[source])))
        state = dict(row.sync_state or {})
        state.pop(source, None)
        row.sync_state = state
    if dropped:
        taste.changed(user_id)
    return chosen


@dataclass
class Plan:
    user_id: int
    top: bool = False
    saved_after: str | None = None  # the newest added_at seen (ISO text, as Spotify gives it)
    saved: bool = False
    saved_ids: frozenset[str] = frozenset()  # saved tracks already held
    followed: bool = False  # the followed artists are due their daily pass
    recent: bool = False
    recent_after: int | None = None  # the newest play held (Unix ms); None: the first sync


@dataclass
class Fetched:
    top_artists: list[dict] | None = None
    top_tracks: list[dict] | None = None
    saved: list[dict] = field(default_factory=list)  # SavedTrackObjects, newest first
    followed: list[dict] | None = None  # ArtistObjects: every artist followed (None: not read)
    recent: list[dict] = field(default_factory=list)  # PlayHistoryObjects played since the last sync


def plan(user_id: int, now: datetime | None = None) -> Plan | None:
    """What this sync asks Spotify for (None: nothing shared, or nothing allowed)."""
    row = taste._row(user_id)
    if row is None or not row.shares:
        return None
    granted = granted_scopes(user_id)
    state = row.sync_state or {}
    now = now or utcnow()
    allowed = {source for source in row.shares if source in SOURCES and set(SOURCES[source]) <= granted}

    def due(source: str, every: timedelta) -> bool:
        """A source read whole at most once per `every`: shared, allowed, and not read within it."""
        last = state.get(source, {}).get("at")
        return source in allowed and (last is None or now - datetime.fromisoformat(last) >= every)

    out = Plan(user_id, top=due("top", TOP_EVERY), followed=due("followed", FOLLOWED_EVERY))
    if "saved" in allowed:
        out.saved = True
        out.saved_after = state.get("saved", {}).get("newest")
        out.saved_ids = frozenset(db.session.execute(select(TasteItem.item_id).where(
            TasteItem.user_id == user_id, TasteItem.source == "saved")).scalars())
    if "recent" in allowed:
        out.recent = True
        out.recent_after = state.get("recent", {}).get("newest")
    return out if (out.top or out.saved or out.followed or out.recent) else None


def fetch(p: Plan, gateway) -> Fetched:
    """Ask Spotify (nothing written). Saved tracks: newest first, up to the first one seen before."""
    got = Fetched()
    if p.top:
        got.top_artists = list(gateway.top_artists(limit=TOP_LIMIT))
        got.top_tracks = list(gateway.top_tracks(limit=TOP_LIMIT))
    if p.saved:
        for item in gateway.saved_tracks(limit=SAVED_LIMIT):  # pages are asked for as they are read
            added = (item or {}).get("added_at") or ""
            track_id = ((item or {}).get("track") or {}).get("id")
            if p.saved_after is not None and added <= p.saved_after and track_id in p.saved_ids:
                break  # the first one held already: everything after it was read before
            got.saved.append(item)
    if p.followed:
        got.followed = [a for a in gateway.followed_artists(limit=FOLLOWED_LIMIT) if a and a.get("id")]
    if p.recent:
        got.recent = [i for i in gateway.recently_played(after_ms=p.recent_after, limit=RECENT_LIMIT)
                      if i and (i.get("track") or {}).get("id")]
    return got


def _spotify_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def store(user_id: int, got: Fetched, now: datetime | None = None) -> list[dict]:
    """Write the items and where the sync stopped; the track objects that are new to the listener."""
    now = now or utcnow()
    row = taste._row(user_id, create=True)
    state = {k: dict(v) for k, v in (row.sync_state or {}).items()}
    tracks: list[dict] = []
    if got.top_artists is not None:
        db.session.execute(delete(TasteItem).where(TasteItem.user_id == user_id,
                                                   TasteItem.source.in_(("top_artists", "top_tracks"))))
        for rank, artist in enumerate(a for a in got.top_artists if a and a.get("id")):
            db.session.add(TasteItem(user_id=user_id, source="top_artists", kind="artist", item_id=artist["id"],
                                     name=str(artist.get("name") or ""), artists="", rank=rank))
        for rank, track in enumerate(t for t in got.top_tracks or () if t and t.get("id")):
            db.session.add(TasteItem(user_id=user_id, source="top_tracks", kind="track", item_id=track["id"],
                                     name=str(track.get("name") or ""), rank=rank,
                                     artists=join_list(a.get("name") or "" for a in track.get("artists") or ())))
            tracks.append(track)
        state["top"] = {"at": now.isoformat(), "artists": len(got.top_artists), "tracks": len(got.top_tracks or ())}
    if got.saved:
        seen = set(db.session.execute(select(TasteItem.item_id).where(
            TasteItem.user_id == user_id, TasteItem.source == "saved")).scalars())
        for item in got.saved:
            track = item.get("track") or {}
            if not track.get("id") or track["id"] in seen:
                continue
            seen.add(track["id"])
            db.session.add(TasteItem(user_id=user_id, source="saved", kind="track", item_id=track["id"],
                                     name=str(track.get("name") or ""), added_at=_spotify_time(item.get("added_at")),
                                     artists=join_list(a.get("name") or "" for a in track.get("artists") or ())))
            tracks.append(track)
        newest = max(i.get("added_at") or "" for i in got.saved)
        state["saved"] = {"newest": max(newest, state.get("saved", {}).get("newest") or "")}
    if got.followed is not None:
        held = set(db.session.execute(select(TasteItem.item_id).where(
            TasteItem.user_id == user_id, TasteItem.source == "followed")).scalars())
        following = {a["id"]: a for a in got.followed}
        gone = held - set(following)
        if gone:
            db.session.execute(delete(TasteItem).where(TasteItem.user_id == user_id, TasteItem.source == "followed",
                                                       TasteItem.item_id.in_(sorted(gone))))
        for artist_id, artist in following.items():
            if artist_id not in held:
                db.session.add(TasteItem(user_id=user_id, source="followed", kind="artist", item_id=artist_id,
                                         name=str(artist.get("name") or ""), artists="", added_at=now))
        state["followed"] = {"at": now.isoformat(), "artists": len(following)}
    if got.recent:
        tracks.extend(_store_recent(user_id, got.recent))
        newest = max(played_at_ms(i) for i in got.recent)
        state["recent"] = {"newest": max(newest, state.get("recent", {}).get("newest") or 0)}
    row.sync_state = state
    row.synced_at = now
    taste.changed(user_id)
    return tracks


def _store_recent(user_id: int, plays: list[dict]) -> list[dict]:
    """Each track played once (its latest play as added_at); the RECENT_LIMIT latest kept. The
    track objects new to the listener's recent tracks."""
    latest: dict[str, tuple[int, dict, str]] = {}
    for item in plays:
        track, at = item["track"], played_at_ms(item)
        if track["id"] not in latest or at > latest[track["id"]][0]:
            latest[track["id"]] = (at, track, str(item.get("played_at") or ""))
    held = {item.item_id: item for item in db.session.execute(select(TasteItem).where(
        TasteItem.user_id == user_id, TasteItem.source == "recent", TasteItem.item_id.in_(sorted(latest)))).scalars()}
    new = []
    for track_id, (_, track, played) in latest.items():
        when = _spotify_time(played)
        if track_id in held:
            if when is not None and (held[track_id].added_at is None or when > held[track_id].added_at):
                held[track_id].added_at = when
            continue
        db.session.add(TasteItem(user_id=user_id, source="recent", kind="track", item_id=track_id,
                                 name=str(track.get("name") or ""), added_at=when,
                                 artists=join_list(a.get("name") or "" for a in track.get("artists") or ())))
        new.append(track)
    db.session.flush()
    stale = db.session.execute(select(TasteItem.id).where(TasteItem.user_id == user_id, TasteItem.source == "recent")
                               .order_by(TasteItem.added_at.desc(), TasteItem.id.desc()).offset(RECENT_LIMIT)).scalars().all()
    if stale:
        db.session.execute(delete(TasteItem).where(TasteItem.id.in_(stale)))
    return new
