"""Recording audit events, in the caller's transaction so the event and the change land together."""
from __future__ import annotations

import json

from curator.extensions import db
from curator.models.audit import AuditEvent


def record(actor, action: str, target: str = "", before=None, after=None) -> AuditEvent:
    """Add an audit event to the current session (the caller commits). `actor` may be None (CLI)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "spotify_id", None) or "command line",
        action=action,
        target=target,
        before=None if before is None else json.dumps(before, sort_keys=True, default=str),
        after=None if after is None else json.dumps(after, sort_keys=True, default=str),
    )
    db.session.add(event)
    return event
