"""Per-user Spotify tokens in the database, encrypted; a spotipy `CacheHandler` over them.

Writes go through their own short transaction so a refreshed token is kept even when the
request that triggered the refresh later rolls back.
"""
from __future__ import annotations

from flask import current_app
from spotipy.cache_handler import CacheHandler
from sqlalchemy import delete, insert, select, update

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
        with db.engine.connect() as conn:
            blob = conn.execute(
                select(SpotifyToken.ciphertext).where(SpotifyToken.user_id == self.user_id)
            ).scalar()
        return cipher().decrypt(blob) if blob else None

    def save_token_to_cache(self, token_info: dict) -> None:
        save_token(self.user_id, token_info)


def save_token(user_id: int, token_info: dict) -> None:
    blob = cipher().encrypt(token_info)
    scope = token_info.get("scope") or ""
    with db.engine.begin() as conn:
        changed = conn.execute(
            update(SpotifyToken)
            .where(SpotifyToken.user_id == user_id)
            .values(ciphertext=blob, scope=scope, updated_at=utcnow())
        ).rowcount
        if not changed:
            conn.execute(insert(SpotifyToken).values(
                user_id=user_id, ciphertext=blob, scope=scope, updated_at=utcnow()))


def granted_scopes(user_id: int) -> set[str]:
    with db.engine.connect() as conn:
        scope = conn.execute(select(SpotifyToken.scope).where(SpotifyToken.user_id == user_id)).scalar()
    return set((scope or "").split())


def forget_token(user_id: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(delete(SpotifyToken).where(SpotifyToken.user_id == user_id))
