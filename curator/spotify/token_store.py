"""Per-user Spotify tokens in the database, encrypted; a spotipy `CacheHandler` over them.

Reads use the request's own connection. A refreshed token must be kept even when the request that
triggered the refresh later rolls back, so writes go through `deferred_writes`: in a request they
wait until the view's transaction has ended and then land in one short transaction of their own
(meanwhile this request reads the new token from memory); outside a request they land at once.
"""
from __future__ import annotations

from flask import current_app, has_request_context
from spotipy.cache_handler import CacheHandler
from sqlalchemy import delete, insert, select, update

from curator import deferred_writes
from curator.crypto import TokenCipher
from curator.extensions import db
from curator.models.user import SpotifyToken, utcnow


def cipher() -> TokenCipher:
    app = current_app._get_current_object()
    cached = app.extensions.get("curator.token_cipher")
    if cached is None:
        cached = TokenCipher(app.config["TOKEN_ENCRYPTION_KEY"], app.secret_key)
        app.extensions["curator.token_cipher"] = cached
    return cached


class DatabaseTokenCache(CacheHandler):
    """spotipy token cache for one of our users (keyed by `users.id`)."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id

    def get_cached_token(self) -> dict | None:
        waiting = deferred_writes.pending(_key(self.user_id), _NOT_WAITING)
        if waiting is not _NOT_WAITING:
            return waiting
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
    blob = cipher().encrypt(token_info)
    scope = token_info.get("scope") or ""

    def run(conn) -> None:
        changed = conn.execute(
            update(SpotifyToken)
            .where(SpotifyToken.user_id == user_id)
            .values(ciphertext=blob, scope=scope, updated_at=utcnow())
        ).rowcount
        if not changed:
            conn.execute(insert(SpotifyToken).values(
                user_id=user_id, ciphertext=blob, scope=scope, updated_at=utcnow()))

    deferred_writes.write(_key(user_id), run, value=dict(token_info))


def granted_scopes(user_id: int) -> set[str]:
    waiting = deferred_writes.pending(_key(user_id), _NOT_WAITING)
    if waiting is not _NOT_WAITING:
        scope = (waiting or {}).get("scope")
    else:
        scope = _read(SpotifyToken.scope, user_id)
    return set((scope or "").split())


def forget_token(user_id: int) -> None:
    def run(conn) -> None:
        conn.execute(delete(SpotifyToken).where(SpotifyToken.user_id == user_id))

    deferred_writes.write(_key(user_id), run, value=None)
