"""Due times of periodic schedules, and `run_due`: every job due at a moment, run here and now.

A schedule is due at each whole multiple of its interval since the Unix epoch (UTC), so every
process and server agrees on the due times without talking. A due time is claimed in the
database (`records.claim_once`: a row with a unique key per (name, due time)), so it runs once
however many workers, servers or cron entries ask; a run lost with its process (lease expired)
may be taken over by the next `run-due`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from curator.jobs import execution, heartbeat, records, registry


def aware(when: datetime) -> datetime:
    """`when` as an aware UTC datetime (a naive one is taken as UTC)."""
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def last_due(schedule: registry.Schedule, at: datetime) -> datetime:
    """The schedule's latest due time at or before `at`."""
    step = int(schedule.interval.total_seconds())
    seconds = int(aware(at).timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, timezone.utc)


def next_due(schedule: registry.Schedule, after: datetime) -> datetime:
    """The schedule's first due time strictly after `after`."""
    return last_due(schedule, after) + schedule.interval


def run_schedule(schedule: registry.Schedule, due: datetime, *, backend: str) -> str | None:
    """Run `schedule` for due time `due` here, unless that due time was claimed already.
    Its final status, or None when it ran (or runs) elsewhere."""
    due = aware(due)
    row = records.claim_once(schedule.name, execution.as_utc(due), {}, heartbeat.holder(), backend,
                             registry.get(schedule.name).module)
    if row is None:
        return None
    return execution.run_claimed(row)


def run_due(at: datetime | None = None) -> list[tuple[str, datetime, str | None]]:
    """Run, one after another, every periodic schedule's latest due time at or before `at` (default
    now) and every delayed job due by then; (name, due time, status or None if not ours) for each."""
    at = aware(at or datetime.now(timezone.utc))
    ran = []
    for schedule in registry.schedules():
        due = last_due(schedule, at)
        ran.append((schedule.name, due, run_schedule(schedule, due, backend="run-due")))
    for job_id in records.due(execution.as_utc(at)):
        row = records.get(job_id)
        status = execution.execute(job_id)
        ran.append((row["name"], aware(row["run_at"]), status))
    return ran
