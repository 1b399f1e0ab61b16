"""Per-user Spotify tokens in the database, encrypted; a spotipy `CacheHandler` over them.

Reads use the request's own connection. A refreshed token is written at once, in a short
transaction of its own on that same connection (`remote_call.short_write`), before the call that
needed it goes on: with rotating refresh tokens the old one stops working the moment Spotify
answers, so a refreshed token that is not stored is a login lost. The write is tried again while
the database is busy; if it still fails, the token is kept in this process's memory (used, and
written again, on the listener's next call) and the request answers `SpotifyTokenNotStored`, never
"your login was revoked". The gateway calls this between transactions, so the commit never takes
anything of the view's with it.

Forgetting a token (a login that really was revoked) waits until after the view
(`deferred_writes`), like the call log.
"""
from __future__ import annotations

import threading

from flask import current_app, has_request_context
from spotipy.cache_handler import CacheHandler
from sqlalchemy import delete, insert, select, update

from curator import caching, deferred_writes, remote_call
from curator.clock import utcnow
from curator.crypto import TokenCipher
from curator.extensions import db
from curator.models.user import SpotifyToken
from curator.spotify.errors import SpotifyTokenNotStored

# Tokens Spotify renewed that the database would not take yet: user id -> token dict.
_unsaved: dict[int, dict] = {}
_unsaved_lock = threading.Lock()


def cipher() -> TokenCipher:
    key, secret = current_app.config["TOKEN_ENCRYPTION_KEY"], current_app.secret_key
    return caching.per_app("curator.token_cipher", (key, secret), lambda: TokenCipher(key, secret))


class DatabaseTokenCache(CacheHandler):
    """spotipy token cache for one of our users (keyed by `users.id`)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id

    def get_cached_token(self) -> dict | None:
        waiting = deferred_writes.pending(_key(self.user_id), _NOT_WAITING)
        if waiting is not _NOT_WAITING:
            return waiting
        with _unsaved_lock:
            unsaved = _unsaved.get(self.user_id)
        if unsaved is not None:
            save_token(self.user_id, unsaved)  # try again now; raises if the database still refuses
            return unsaved
        blob = _read(SpotifyToken.ciphertext, self.user_id)
        return cipher().decrypt(blob) if blob else None

    def save_token_to_cache(self, token_info: dict) -> None:
        save_token(self.user_id, token_info)


_NOT_WAITING = object()


def _key(user_id: int) -> tuple:
    return ("spotify-token", user_id)


def _read(column, user_id: int):
    """One column of the user's token row, on the request's connection (or a short one outside)."""
    query = select(column).where(SpotifyToken.user_id == user_id)
    if has_request_context():
        return db.session.scalar(query)
    with db.engine.connect() as conn:
        return conn.execute(query).scalar()


def save_token(user_id: int, token_info: dict) -> None:
    """Store `token_info` for `user_id` now, in a transaction of its own (see the module's docstring)."""
    blob = cipher().encrypt(token_info)
    scope = token_info.get("scope") or ""

    def run(session) -> None:
        changed = session.execute(
            update(SpotifyToken)
            .where(SpotifyToken.user_id == user_id)
            .values(ciphertext=blob, scope=scope, updated_at=utcnow())
        ).rowcount
        if not changed:
            session.execute(insert(SpotifyToken).values(
                user_id=user_id, ciphertext=blob, scope=scope, updated_at=utcnow()))

    try:
        remote_call.short_write(run, "a renewed Spotify token")
    except remote_call.WriteNotStored:
        with _unsaved_lock:
            _unsaved[user_id] = dict(token_info)
        raise SpotifyTokenNotStored(
            "Spotify renewed your login, but we could not store it just now. Your login is fine: please "
            "try again in a moment.", operation="POST /api/token") from None
    with _unsaved_lock:
        _unsaved.pop(user_id, None)


def granted_scopes(user_id: int) -> set[str]:
    waiting = deferred_writes.pending(_key(user_id), _NOT_WAITING)
    if waiting is not _NOT_WAITING:
        scope = (waiting or {}).get("scope")
    else:
        with _unsaved_lock:
            unsaved = _unsaved.get(user_id)
        scope = unsaved.get("scope") if unsaved else _read(SpotifyToken.scope, user_id)
    return set((scope or "").split())


def forget_token(user_id: int) -> None:
    with _unsaved_lock:
        _unsaved.pop(user_id, None)

    def run(conn) -> None:
        conn.execute(delete(SpotifyToken).where(SpotifyToken.user_id == user_id))

    deferred_writes.write(_key(user_id), run, value=None)
