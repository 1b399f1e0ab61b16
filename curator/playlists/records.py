"""The listener's own records: saved playlists, check-ins, and forgetting them on request.

Helpers of `curator.playlists.service`: they add and delete but never commit (the service does).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import SAVE_DONE, CheckIn, PlaylistSave, Preview
from curator.models.user import SpotifyToken, User, WebSession
from curator.problems import Unprocessable


@dataclass(frozen=True)
class SavedPlaylist:
    save: PlaylistSave
    preview: Preview


def saved_playlists(user_id: int, limit: int = 200) -> list[SavedPlaylist]:
    """The listener's playlists saved to Spotify, newest first."""
    rows = db.session.execute(
        select(PlaylistSave, Preview).join(Preview, Preview.id == PlaylistSave.preview_id)
        .where(PlaylistSave.user_id == user_id, PlaylistSave.state == SAVE_DONE)
        .order_by(PlaylistSave.completed_at.desc(), PlaylistSave.id.desc()).limit(limit)
    ).all()
    return [SavedPlaylist(save, preview) for save, preview in rows]


def record_checkin(user, *, rating, moment: str = "after", preview: Preview | None = None,
                   from_slug: str | None = None, to_slug: str | None = None) -> CheckIn:
    """Store how strongly the listener feels it (1-5), tied to a preview when there is one."""
    try:
        value = int(rating)
        if isinstance(rating, bool) or float(rating) != value:
            raise ValueError
    except (TypeError, ValueError, OverflowError):  # JSON's 1e400 arrives as infinity
        raise Unprocessable("Choose a rating from 1 to 5.", field="rating") from None
    if not 1 <= value <= 5:
        raise Unprocessable("Choose a rating from 1 to 5.", field="rating")
    if moment not in ("before", "after"):
        raise Unprocessable("A check-in is either before or after listening.", field="moment")
    if preview is not None:
        from_slug, to_slug = preview.from_slug, preview.to_slug
    if not from_slug or not to_slug:
        raise Unprocessable("Say which playlist (preview_id) this check-in is about.", field="preview_id")
    checkin = CheckIn(user_id=user.id, preview_id=preview.id if preview else None, from_slug=from_slug,
                      to_slug=to_slug, moment=moment, rating=value)
    db.session.add(checkin)
    db.session.flush()  # the API answers with its id
    return checkin


# The after-listening check-in is offered once the listener has had time to listen: when the
# playlist is over or CHECKIN_AFTER has passed since it was saved, whichever comes first (asked
# the moment it is saved, nobody has listened yet).
CHECKIN_AFTER = timedelta(minutes=20)


def checkin_opens_at(save: PlaylistSave, preview: Preview) -> datetime:
    """When a saved playlist's after-listening check-in is offered (UTC, naive like the columns)."""
    listened = timedelta(milliseconds=preview.duration_ms)
    return (save.completed_at or save.created_at or utcnow()) + min(listened, CHECKIN_AFTER)


def delete_history(user_id: int) -> int:
    """Forget previews, saves and check-ins (the playlists stay in Spotify). Returns previews removed."""
    db.session.execute(delete(CheckIn).where(CheckIn.user_id == user_id))
    db.session.execute(delete(PlaylistSave).where(PlaylistSave.user_id == user_id))
    return db.session.execute(delete(Preview).where(Preview.user_id == user_id)).rowcount


def delete_account(user: User) -> None:
    """Forget everything about the listener: history, Spotify tokens, sessions, the account row."""
    user_id = user.id
    delete_history(user_id)
    from curator.playlists import taste  # its helpers import records' neighbours; late to stay acyclic

    taste.forget(user_id)  # the taste profile and the synced library
    db.session.execute(delete(SpotifyToken).where(SpotifyToken.user_id == user_id))
    # Other browsers' sessions name the user too; a reused id must never inherit them.
    db.session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    db.session.execute(delete(User).where(User.id == user_id))


# --- The history page, bounded: one page of playlists and a window of check-ins, whatever the
# listener's total (3,000 saved playlists must not make a 1.4 MB page).
HISTORY_PAGE_SIZE = 12
CHART_SESSIONS = 20  # sessions drawn per mood pair: the most recent ones
CHART_PAIRS = 4  # mood pairs charted: the most recently used ones
CHART_CHECKINS = 200  # check-ins read for the charts, newest first (pairs × sessions × 2 moments is 160)


@dataclass(frozen=True)
class HistoryPage:
    playlists: list[SavedPlaylist]
    page: int
    pages: int
    total: int
    # preview id -> {"before": rating or None, "after": rating or None, "after_at": datetime or None,
    # "opens_at": when its after-listening check-in is offered}
    ratings: dict[str, dict]


def history_page(user_id: int, page: int = 1, per_page: int = HISTORY_PAGE_SIZE) -> HistoryPage:
    """One page of saved playlists, newest first, with the latest check-ins about each."""
    from sqlalchemy import func

    total = db.session.execute(
        select(func.count()).select_from(PlaylistSave)
        .where(PlaylistSave.user_id == user_id, PlaylistSave.state == SAVE_DONE)).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    # The page's ids first: sorting only narrow rows, not every preview's track list.
    page_ids = db.session.scalars(
        select(PlaylistSave.id).where(PlaylistSave.user_id == user_id, PlaylistSave.state == SAVE_DONE)
        .order_by(PlaylistSave.completed_at.desc(), PlaylistSave.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    rows = db.session.execute(
        select(PlaylistSave, Preview).join(Preview, Preview.id == PlaylistSave.preview_id)
        .where(PlaylistSave.id.in_(page_ids))
        .order_by(PlaylistSave.completed_at.desc(), PlaylistSave.id.desc())
    ).all() if page_ids else []
    playlists = [SavedPlaylist(save, preview) for save, preview in rows]
    ratings: dict[str, dict] = {p.preview.id: {"before": None, "after": None, "after_at": None,
                                               "opens_at": checkin_opens_at(p.save, p.preview)} for p in playlists}
    if ratings:
        for preview_id, moment, rating, at in db.session.execute(
                select(CheckIn.preview_id, CheckIn.moment, CheckIn.rating, CheckIn.at)
                .where(CheckIn.preview_id.in_(list(ratings))).order_by(CheckIn.at, CheckIn.id)):
            entry = ratings[preview_id]
            entry[moment] = rating  # later rows win: the latest check-in is the one shown
            if moment == "after":
                entry["after_at"] = at
    return HistoryPage(playlists, page, pages, total, ratings)


def recent_sessions_by_pair(user_id: int, *, checkins_read: int = CHART_CHECKINS, pairs: int = CHART_PAIRS,
                            sessions: int = CHART_SESSIONS) -> OrderedDict[tuple[str, str], list[dict]]:
    """Per (from, to) mood pair, one entry per listening session with its before/after ratings, over
    a window: the latest check-ins, the most recently used mood pairs first, each with its most
    recent sessions (oldest first, as the chart reads). A session is a preview; check-ins without
    a preview stand alone. The latest rating wins."""
    latest = db.session.execute(
        select(CheckIn.id, CheckIn.preview_id, CheckIn.from_slug, CheckIn.to_slug, CheckIn.moment, CheckIn.rating,
               CheckIn.at)
        .where(CheckIn.user_id == user_id)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(checkins_read)).all()
    grouped: OrderedDict[tuple[str, str], OrderedDict] = OrderedDict()
    for checkin_id, preview_id, from_slug, to_slug, moment, rating, at in reversed(latest):
        # Oldest first, so the latest rating of a session wins.
        per_pair = grouped.setdefault((from_slug, to_slug), OrderedDict())
        entry = per_pair.setdefault(preview_id or f"checkin-{checkin_id}",
                                    {"label": f"{at.day} {at:%b}", "at": at, "before": None, "after": None})
        entry[moment] = rating
    recent_first = sorted(grouped.items(), key=lambda item: max(s["at"] for s in item[1].values()), reverse=True)
    return OrderedDict((pair, list(s.values())[-sessions:]) for pair, s in recent_first[:pairs])
