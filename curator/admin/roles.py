"""Granting and revoking roles: one rule set for the admin page and the command line (both through
admin/service.py, which owns the transaction).

Every change is audited in the same transaction. Admins listed in ADMIN_SPOTIFY_IDS get the
admin role back at their next login, so revoking it from them is only temporary (we say so).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from curator import audit
from curator.extensions import db
from curator.models.user import ROLES, User
from curator.problems import CuratorError, NotFound

# Everyone is a listener; only these can be granted or revoked.
GRANTABLE = tuple(r for r in ROLES if r != "listener")


@dataclass(frozen=True)
class RoleChange:
    user: User
    role: str
    granted: bool
    changed: bool  # False when the user already had (or already lacked) the role
    message: str


def find_user(spotify_id: str) -> User:
    user = db.session.scalar(select(User).where(User.spotify_id == spotify_id))
    if user is None:
        raise NotFound(f"No user with Spotify id “{spotify_id}” has logged in to Curator yet.", field="spotify_id")
    return user


def check_role(role: str) -> str:
    if role == "listener":
        raise CuratorError("Everyone is a listener; that role can't be granted or revoked.", field="role")
    if role not in GRANTABLE:
        raise CuratorError(f"Unknown role “{role}”; roles are {', '.join(GRANTABLE)}.", field="role")
    return role


def apply_role_change(actor: User | None, user: User, role: str, *, grant: bool, from_web: bool) -> RoleChange:
    """Grant or revoke `role`, audited, in the caller's transaction (admin/service.py owns it). On the
    web, admins can't drop their own admin role."""
    check_role(role)
    if not grant and from_web and role == "admin" and actor is not None and actor.id == user.id:
        raise CuratorError("You can't revoke your own admin role here (you would lock yourself out). "
                           "Ask another admin, or use `flask --app curator roles revoke`.", field="role")
    before = sorted(user.roles)
    held = role in user.roles
    if grant == held:
        state = "already has" if grant else "doesn't have"
        return RoleChange(user, role, grant, False, f"{user.name} {state} the {role} role; nothing changed.")
    if grant:
        user.grant(role)
    else:
        user.revoke(role)
    audit.record(actor, "role.grant" if grant else "role.revoke", user.spotify_id,
                 {"roles": before}, {"roles": sorted(user.roles)})
    message = f"{'Granted' if grant else 'Revoked'} {role} {'to' if grant else 'from'} {user.name}."
    if not grant and role == "admin" and user.spotify_id in current_app.config.get("ADMIN_SPOTIFY_IDS", []):
        message += (" Their Spotify id is in ADMIN_SPOTIFY_IDS, so they get admin back at their next login;"
                    " remove it there to make this permanent.")
    return RoleChange(user, role, grant, True, message)


def users_with_roles(role: str | None = None) -> list[User]:
    """All users (or those holding `role`), admins and curators first, then by name."""
    users = list(db.session.scalars(select(User).order_by(User.spotify_id)))
    if role:
        users = [u for u in users if role in u.roles]
    return _by_rank(users)


def _by_rank(users) -> list[User]:
    return sorted(users, key=lambda u: ("admin" not in u.roles, "curator" not in u.roles, u.spotify_id))


def staff() -> list[User]:
    """Users holding a role beyond listener, admins first: only those rows are read (the
    dashboard must not load every listener)."""
    holders = db.session.scalars(select(User).where(func.coalesce(User.roles_text, "") != ""))
    return _by_rank(u for u in holders if "admin" in u.roles or "curator" in u.roles)


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
