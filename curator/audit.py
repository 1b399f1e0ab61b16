"""Recording audit events, in the caller's transaction so the event and the change land together."""
from __future__ import annotations

import json

from curator.extensions import db
from curator.models.audit import AuditEvent


def record(actor, action: str, target: str = "", before=None, after=None, *, actor_label: str = "") -> AuditEvent:
    """Add an audit event to the current session (the caller commits). `actor` may be None: the
    command line, or the setting named by `actor_label` (e.g. "ADMIN_SPOTIFY_IDS")."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "spotify_id", None) or actor_label or "command line",
        action=action,
        target=target,
        before=_plain(before),
        after=_plain(after),
    )
    db.session.add(event)
    return event


def _plain(value):
    """`value` as plain JSON data (dates and other objects as text), or None."""
    return None if value is None else json.loads(json.dumps(value, default=str))
