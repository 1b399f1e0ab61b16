"""Previews in the database: find the listener's own, and add a new one in one statement.

Previews are never edited in place: each step the listener takes (an undo too) is a new row
whose `parent_id` names the one it came from, so "back", undo and the API see every step. Helpers of `curator.playlists.service`: they add rows but never commit.
"""
from __future__ import annotations

import secrets

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import make_transient_to_detached

from curator.extensions import db
from curator.models.listening import Preview
from curator.playlists.records import saved_playlists
from curator.problems import NotFound

# "Avoid tracks I was served in my last playlists" looks back this many saved playlists.
RECENT_PLAYLISTS = 3


def new_id() -> str:
    return secrets.token_urlsafe(12)[:16]


def get_preview(user, preview_id: str) -> Preview:
    """The user's own preview; anyone else's (or none) is NotFound: no hint that it exists."""
    preview = db.session.get(Preview, preview_id) if preview_id else None
    if preview is None or preview.user_id != user.id:
        raise NotFound("There is no such playlist preview.")
    return preview


def own_or_none(user, preview_id: str) -> Preview | None:
    """Like `get_preview`, None instead of an error, even when the session is broken (for error pages)."""
    try:
        return get_preview(user, str(preview_id)[:64])
    except NotFound:
        return None
    except Exception:  # noqa: BLE001 - an error page must render even when the session is broken
        db.session.rollback()
        return None


def recent_track_ids(user_id: int, playlists: int = RECENT_PLAYLISTS) -> frozenset[str]:
    """Track ids of the listener's last few playlists saved to Spotify."""
    return frozenset(t["id"] for saved in saved_playlists(user_id, limit=playlists) for t in saved.preview.tracks)


def add_derived(user, preview: Preview, rows: list[dict], options: dict, *, parent_id: str | None = None) -> Preview:
    """A new preview like `preview` with other track rows and options (a step the listener took),
    made from `parent_id` (default: `preview` itself)."""
    item = Preview(
        id=new_id(), user_id=user.id, parent_id=parent_id or preview.id,
        from_slug=preview.from_slug, to_slug=preview.to_slug,
        from_version_id=preview.from_version_id, to_version_id=preview.to_version_id,
        length_tracks=preview.length_tracks, length_minutes=preview.length_minutes,
        options=options, seed=preview.seed, arc=preview.arc, tracks=rows, stats=dict(preview.stats),
        shortfall=preview.shortfall, notices=list(preview.notices), save=None,
    )
    return add(item)


def add(item: Preview) -> Preview:
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
