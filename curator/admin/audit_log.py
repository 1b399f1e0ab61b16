"""Reading the audit trail back: filters (action, actor, target, date range) and pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.problems import CuratorError

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None  # inclusive: the whole day

    def as_args(self) -> dict:
        """Query-string arguments that reproduce these filters (for pagination links)."""
        args = {"action": self.action, "actor": self.actor, "target": self.target,
                "since": self.since.isoformat() if self.since else "",
                "until": self.until.isoformat() if self.until else ""}
        return {k: v for k, v in args.items() if v}


def _date(value: str, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CuratorError(f"“{value}” is not a date; use YYYY-MM-DD.", field=field) from None


def filters_from(args) -> AuditFilters:
    """Filters from a query string; a malformed date is a CuratorError naming the field."""
    filters = AuditFilters(
        action=(args.get("action") or "").strip(),
        actor=(args.get("actor") or "").strip(),
        target=(args.get("target") or "").strip(),
        since=_date(args.get("since", ""), "since"),
        until=_date(args.get("until", ""), "until"),
    )
    if filters.since and filters.until and filters.since > filters.until:
        raise CuratorError("The “from” date is after the “to” date.", field="since")
    return filters


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(filters: AuditFilters, page: int = 1, per_page: int = PER_PAGE):
    """A Flask-SQLAlchemy pagination of matching events, newest first."""
    query = select(AuditEvent)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_label.ilike(f"%{escape_like(filters.actor)}%", escape="\\"))
    if filters.target:
        query = query.where(AuditEvent.target.ilike(f"%{escape_like(filters.target)}%", escape="\\"))
    if filters.since:
        query = query.where(AuditEvent.at >= datetime.combine(filters.since, datetime.min.time()))
    if filters.until and filters.until < date.max:  # the last day there is has no day after it
        query = query.where(AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), datetime.min.time()))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return db.paginate(query, page=max(1, page), per_page=per_page, error_out=False)


def actions() -> list[str]:
    """Every action name that has been recorded, for the filter's menu."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def recent(limit: int = 10) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))
