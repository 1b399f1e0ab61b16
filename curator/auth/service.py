"""Who is logging in: the user record, the admin role that ADMIN_SPOTIFY_IDS grants, and the
audit of both. `sign_in` owns its transaction; the login callback only parses and redirects.

Admin granted by the environment is recorded in the audit trail with ADMIN_SPOTIFY_IDS as the
actor, and that record is how we later tell it apart from admin granted by hand: when an id
leaves the list, its next login revokes admin only if the environment gave it. Grants made by
an admin or the command line stay.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select

from curator import audit
from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.models.user import User, utcnow
from curator.spotify.token_store import save_token

ENV_ADMINS = "ADMIN_SPOTIFY_IDS"


def sign_in(profile: dict, token: dict) -> User:
    """Find or create the user behind a Spotify profile, apply ADMIN_SPOTIFY_IDS, keep the token."""
    spotify_id = profile["id"]
    user = db.session.scalar(select(User).where(User.spotify_id == spotify_id))
    if user is None:
        user = User(spotify_id=spotify_id)
        db.session.add(user)
    user.display_name = profile.get("display_name") or spotify_id
    user.country = profile.get("country")
    user.last_login_at = utcnow()
    sync_environment_admin(user, current_app.config.get("ADMIN_SPOTIFY_IDS") or [])
    db.session.commit()
    save_token(user.id, token)
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
