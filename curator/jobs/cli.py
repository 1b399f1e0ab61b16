"""`flask --app curator jobs ...`: run what is due (for cron or a systemd timer without Redis)."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="The job runner: run due schedules and delayed jobs.")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-12-05T07:00:00+00:00.",
                                 param_hint="--at") from None


@jobs_cli.command("run-due")
@click.option("--at", "at", metavar="ISO_TIME", help="The moment to run for (default now); a time without a "
              "zone is UTC.")
def run_due_command(at: str | None):
    """Run every periodic and delayed job due at that moment, once per due time, then exit.

    Safe to run from several servers at once: a due time runs on one of them. Exit status 1 if a
    job that ran here failed."""
    from curator.jobs import schedules

    failed = 0
    for name, due, status in schedules.run_due(_moment(at)):
        label = status or "already run or running elsewhere"
        click.echo(f"{name} due {due.isoformat()}: {label}")
        failed += status == "failed"
    if failed:
        raise SystemExit(1)


def register(app) -> None:
    app.cli.add_command(jobs_cli)
