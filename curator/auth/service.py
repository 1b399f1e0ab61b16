"""Who is logging in: the Spotify login (PKCE) from its start to the user record, the admin role
that ADMIN_SPOTIFY_IDS grants, and the audit of both. The login routes keep only what belongs to
the browser (its session, the redirects); every call to Spotify and every write is here, and
`finish_login` asks Spotify before the user's transaction begins.

Admin granted by the environment is recorded in the audit trail with ADMIN_SPOTIFY_IDS as the
actor, and that record is how we later tell it apart from admin granted by hand: when an id
leaves the list, its next login revokes admin only if the environment gave it. Grants made by
an admin or the command line stay.
"""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select

from curator import audit, demo, request_budget, spotify
from curator.clock import utcnow
from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.models.user import User
from curator.playlists import service as playlists
from curator.problems import CuratorError
from curator.remote_call import between_transactions
from curator.spotify.errors import SpotifyError, SpotifyLoginFailed, SpotifyUnavailable
from curator.spotify.gateway import (
    BASE_SCOPES,
    COVER_SCOPES,
    LIBRARY_SCOPES,
    SEED_SCOPES,
    MemoryTokenCache,
    SpotifyGateway,
    authorize_url,
    exchange_code,
    pkce_pair,
)
from curator.spotify.token_store import granted_scopes, save_token
from curator.transaction import transaction

log = logging.getLogger(__name__)

ENV_ADMINS = "ADMIN_SPOTIFY_IDS"
# Scopes asked for only when a feature needs them (`/login?scopes=library,cover`).
EXTRA_SCOPES = {"library": LIBRARY_SCOPES, "cover": COVER_SCOPES, "seeds": SEED_SCOPES,
                # A listener's taste (issue 21): each shared source asks for its own.
                "top": ("user-top-read",), "saved": ("user-library-read",),
                "followed": ("user-follow-read",), "recent": ("user-read-recently-played",)}


class LoginFailed(CuratorError):
    """The login could not finish; `title` heads the page that says so."""

    def __init__(self, title: str, message: str, *, unavailable: bool = False):
        super().__init__(message)
        self.title = title
        self.unavailable = unavailable  # Spotify did not answer (try again later), not a refusal


def user_by_id(user_id: int) -> User | None:
    """The logged-in user (the session row brought it along, so this reads nothing more)."""
    return db.session.get(User, user_id)


def login_scopes(user: User | None, extra: list[str]) -> tuple[str, ...]:
    """The base scopes, those the user already granted, and the extra ones named in `extra`."""
    scopes = list(BASE_SCOPES)
    if user is not None:
        scopes += sorted(granted_scopes(user.id) - set(scopes))
    for name in extra:
        scopes += [s for s in EXTRA_SCOPES.get(name, ()) if s not in scopes]
    return tuple(scopes)


@dataclass(frozen=True)
class LoginStart:
    """What the browser's session keeps (state, PKCE verifier, scopes) and where it goes next."""

    state: str
    verifier: str
    scopes: tuple[str, ...]
    url: str


def start_login(user: User | None, extra: list[str]) -> LoginStart:
    """A new login at Spotify: `state` ties the callback to this browser and the PKCE verifier stays
    in its server-side session, so only the challenge goes to Spotify and a code is worth nothing
    in any other session. Asking for `extra` scopes shows Spotify's dialog again."""
    extra = [name for name in extra if name in EXTRA_SCOPES]
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    scopes = login_scopes(user, extra)
    return LoginStart(state, verifier, scopes,
                      authorize_url(spotify.settings(), state, scopes, challenge, show_dialog=bool(extra)))


def finish_login(code: str, verifier: str, scopes: tuple[str, ...]) -> User:
    """Trade Spotify's code for a token, learn who it is, and sign them in.

    `LoginFailed` says why in the listener's words when Spotify refuses or does not answer."""
    settings = spotify.settings()
    between_transactions()  # nothing of ours is held while Spotify answers
    try:
        token = exchange_code(settings, code, verifier, tuple(scopes))
        profile = SpotifyGateway(settings, MemoryTokenCache(token), deadline=request_budget.deadline,
                                 before_call=between_transactions).me()
    except SpotifyLoginFailed as exc:
        log.warning("token exchange failed: %s", exc)
        raise LoginFailed("Spotify login didn't finish", "Spotify did not accept this login (the link may have "
                          "been used already). Please try again.") from None
    except SpotifyUnavailable:
        raise LoginFailed("Spotify isn't answering", "Spotify's login service did not answer. Please try again "
                          "in a minute.", unavailable=True) from None
    except SpotifyError as exc:
        log.warning("login failed: %s", exc)
        raise LoginFailed("Spotify login didn't finish",
                          "Spotify could not tell us who you are. Please try again.") from None
    return sign_in(profile, token)


def sign_in(profile: dict, token: dict) -> User:
    """Find or create the user behind a Spotify profile, apply ADMIN_SPOTIFY_IDS, keep the token."""
    spotify_id = profile["id"]
    with transaction():
        user = db.session.scalar(select(User).where(User.spotify_id == spotify_id))
        if user is None:
            user = User(spotify_id=spotify_id)
            db.session.add(user)
        user.display_name = profile.get("display_name") or spotify_id
        user.country = profile.get("country")
        user.last_login_at = utcnow()
        sync_environment_admin(user, current_app.config.get("ADMIN_SPOTIFY_IDS") or [])
    save_token(user.id, token)  # at once, in a short transaction of its own
    return user


DEMO_NAME = "Demo visitor"
# A demo visitor's previews are kept a day; older demo visitors are removed (a few at a time)
# whenever a new one arrives, so an open demo does not grow without end.
DEMO_KEEP = timedelta(days=1)
DEMO_CLEANUP_BATCH = 20


def start_demo_visit() -> User:
    """A new demo visitor (curator/demo.py): a user of their own, no roles, no Spotify token."""
    with transaction():
        stale = db.session.scalars(
            select(User).where(User.spotify_id.startswith(demo.DEMO_USER_PREFIX, autoescape=True),
                               User.created_at < utcnow() - DEMO_KEEP).limit(DEMO_CLEANUP_BATCH)).all()
        playlists.forget_visitors(stale)
        user = User(spotify_id=demo.DEMO_USER_PREFIX + secrets.token_urlsafe(12), display_name=DEMO_NAME)
        db.session.add(user)
    return user


def sync_environment_admin(user: User, admin_ids) -> None:
    """Grant admin to a listed id; take it back from an unlisted one whose admin came from the list."""
    listed = user.spotify_id in admin_ids
    has_admin = "admin" in user.roles
    if listed and not has_admin:
        _change(user, grant=True)
    elif not listed and has_admin and admin_granted_by_environment(user):
        _change(user, grant=False)


def _change(user: User, *, grant: bool) -> None:
    before = sorted(user.roles)
    if grant:
        user.grant("admin")
    else:
        user.revoke("admin")
    audit.record(None, "role.grant" if grant else "role.revoke", user.spotify_id,
                 {"roles": before}, {"roles": sorted(user.roles)}, actor_label=ENV_ADMINS)


def admin_granted_by_environment(user: User) -> bool:
    """Whether the last change to this user's admin role was a grant by ADMIN_SPOTIFY_IDS."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.target == user.spotify_id, AuditEvent.action.in_(("role.grant", "role.revoke")))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    for event in events:
        before = "admin" in ((event.before or {}).get("roles") or [])
        after = "admin" in ((event.after or {}).get("roles") or [])
        if before != after:
            return after and event.actor_label == ENV_ADMINS
    return False


# Characters browsers drop from a URL (tabs, CR, LF) or read as a slash (backslash): judged
# after removing them, "/\t/evil.example" is "//evil.example", another site.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f]")


def same_site_path(target: str | None) -> str | None:
    """`target` if it is a path on this site however a browser reads it, else None.

    Judged on every decoding of it (percent-encoding undone until nothing changes), so
    "/%09/evil", "/%5C/evil" and "/%252F%252Fevil" are refused like their plain forms."""
    if not target or len(target) > 2000 or not target.isascii():
        return None
    seen = target
    for _ in range(5):
        if _INVISIBLE.search(seen) or "\\" in seen:
            return None
        if not seen.startswith("/") or seen.startswith("//"):
            return None
        parts = urlsplit(seen)
        if parts.scheme or parts.netloc:
            return None
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return None  # encoded five times over: nobody needs that
