"""The job runner without Redis: a thread per job, `unique` keys, progress, failures, inline mode,
delayed jobs and periodic schedules through `flask jobs run-due`, once per due time even with two
processes running it at once."""
from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from curator import jobs
from curator.clock import utcnow
from curator.extensions import db
from curator.models.jobs import Job
from tests.helpers import in_app
from tests.jobs import toys
from tests.served import REPO, app_environment


def rows(app, name: str | None = None) -> list[Job]:
    def read():
        query = select(Job).order_by(Job.created_at)
        if name:
            query = query.where(Job.name == name)
        found = list(db.session.scalars(query))
        db.session.expunge_all()
        return found
    return in_app(app, read)


def test_a_job_runs_in_a_thread_and_reports_progress(app, toy_log):
    with app.app_context():
        job_id = jobs.enqueue("toy.echo", text="hello")
        assert jobs.wait_idle(timeout=10)
        assert toys.lines(toy_log) == [f"echo hello {job_id}"]
        shown = jobs.status(job_id)
    assert shown["status"] == "finished" and shown["done"] == 1 and shown["total"] == 2
    assert shown["message"] == "echoing hello" and shown["finished_at"]
    [row] = rows(app)
    assert row.backend == "thread" and row.kwargs == {"text": "hello"} and row.attempts == 1


def test_a_failing_job_is_recorded_failed_with_its_reason(app, toy_log):
    with app.app_context():
        job_id = jobs.enqueue("toy.fail", why="the disk is full")
        assert jobs.wait_idle(timeout=10)
        shown = jobs.status(job_id)
    assert shown["status"] == "failed" and "the disk is full" in shown["message"]


def test_unknown_tasks_and_arguments_that_are_not_json_are_refused_before_anything_is_recorded(app, toy_log):
    with app.app_context():
        with pytest.raises(jobs.registry.UnknownTask):
            jobs.enqueue("toy.nothing-by-that-name")
        with pytest.raises(TypeError, match="JSON"):
            jobs.enqueue("toy.echo", text=object())
    assert rows(app) == []


def test_unique_allows_one_live_job_per_key(app, toy_log):
    with app.app_context():
        first = jobs.enqueue("toy.wait", text="one", unique="toy:1")
        assert first is not None
        assert jobs.enqueue("toy.wait", text="two", unique="toy:1") is None  # queued or running: refused
        other = jobs.enqueue("toy.echo", text="other key", unique="toy:2")
        assert other is not None
        toys.gate.set()
        assert jobs.wait_idle(timeout=10)
        third = jobs.enqueue("toy.echo", text="three", unique="toy:1")  # the first has finished
        assert third is not None and jobs.wait_idle(timeout=10)
    assert [line.split()[:2] for line in toys.lines(toy_log)].count(["wait", "one"]) == 1
    assert not any(line.startswith("wait two") for line in toys.lines(toy_log))
    assert any(line.startswith("echo three") for line in toys.lines(toy_log))


def test_a_job_lost_with_its_process_frees_its_key_and_shows_interrupted(app, toy_log):
    with app.app_context():
        lost = jobs.records.create("toy.echo", {"text": "lost"}, backend="thread", unique="toy:lost",
                                   holder="a-process-that-died")
        jobs.records.claim(lost, "a-process-that-died")
        assert jobs.enqueue("toy.echo", text="blocked", unique="toy:lost") is None  # its lease still runs
        with db.engine.begin() as conn:  # ... until it runs out, as when its process was killed
            conn.execute(update(Job.__table__).where(Job.id == lost).values(lease_expires_at=utcnow()
                                                                            - timedelta(seconds=1)))
        assert jobs.status(lost)["status"] == "interrupted"
        again = jobs.enqueue("toy.echo", text="again", unique="toy:lost")
        assert again is not None and jobs.wait_idle(timeout=10)
        assert jobs.status(lost)["status"] == "cancelled"
        assert jobs.status(again)["status"] == "finished"


def test_a_running_jobs_lease_is_renewed_while_its_process_lives(app, toy_log):
    app.config["JOBS_LEASE_SECONDS"] = 0.6  # renewed every 0.2 s
    with app.app_context():
        job_id = jobs.enqueue("toy.wait", text="long")
        threading.Event().wait(1.5)  # well past one lease
        assert jobs.status(job_id)["status"] == "running"
        toys.gate.set()
        assert jobs.wait_idle(timeout=10)
        assert jobs.status(job_id)["status"] == "finished"


def test_inline_mode_runs_the_job_at_once_in_the_callers_context(app, toy_log):
    app.config["JOBS_INLINE"] = True
    with app.test_request_context():
        job_id = jobs.enqueue("toy.echo", text="now")
        assert toys.lines(toy_log) == [f"echo now {job_id}"]  # before enqueue returned, no thread
        assert jobs.status(job_id)["status"] == "finished"
        assert jobs.enqueue("toy.fail", why="inline failure") is not None  # recorded, not raised
    [failed] = rows(app, "toy.fail")
    assert failed.status == "failed" and failed.backend == "inline"


def run_due(runner, at: str):
    result = runner.invoke(args=["jobs", "run-due", "--at", at])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_due_runs_each_schedule_once_per_due_time(app, runner, toy_log):
    first = run_due(runner, "2026-12-05T07:03:00+00:00")
    assert "toy.tick due 2026-12-05T07:00:00+00:00: finished" in first
    assert "toy.slow-tick due 2026-12-05T07:00:00+00:00: finished" in first
    again = run_due(runner, "2026-12-05T07:04:59+00:00")  # the same due times: nothing runs twice
    assert "toy.tick due 2026-12-05T07:00:00+00:00: already run or running elsewhere" in again
    run_due(runner, "2026-12-05T07:05:00Z")  # the next due time of the five-minute schedule
    ticks = [line for line in toys.lines(toy_log) if line.startswith("tick")]
    assert ticks == ["tick 2026-12-05T07:00:00+00:00", "tick 2026-12-05T07:05:00+00:00"]
    assert len([line for line in toys.lines(toy_log) if line.startswith("slow-tick")]) == 1


def test_run_due_runs_delayed_jobs_once_when_they_are_due(app, runner, toy_log):
    with app.app_context():
        job_id = jobs.enqueue_at(datetime(2026, 12, 5, 8, 0, tzinfo=timezone.utc), "toy.echo", text="later",
                                 unique="toy:later")
        assert jobs.enqueue_at(datetime(2026, 12, 5, 9, 0), "toy.echo", text="dup", unique="toy:later") is None
        assert jobs.status(job_id)["status"] == "scheduled"
    run_due(runner, "2026-12-05T07:59:59+00:00")
    assert not any(line.startswith("echo") for line in toys.lines(toy_log))
    assert "toy.echo due 2026-12-05T08:00:00+00:00: finished" in run_due(runner, "2026-12-05T08:00:00+00:00")
    run_due(runner, "2026-12-05T09:00:00+00:00")
    assert [line for line in toys.lines(toy_log) if line.startswith("echo")] == [f"echo later {job_id}"]


def test_run_due_refuses_a_time_it_cannot_read(app, runner, toy_log):
    result = runner.invoke(args=["jobs", "run-due", "--at", "tomorrow-ish"])
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_run_due_exits_non_zero_when_a_job_failed(app, runner, toy_log):
    with app.app_context():
        jobs.enqueue_at(datetime(2026, 12, 5, 8, 0), "toy.fail", why="broken")
    result = runner.invoke(args=["jobs", "run-due", "--at", "2026-12-05T08:00:00+00:00"])
    assert result.exit_code == 1 and "toy.fail due 2026-12-05T08:00:00+00:00: failed" in result.output


def test_two_run_due_processes_at_once_run_a_due_time_once(app, app_config, pg_schema, toy_log):
    env = app_environment(app_config, pg_schema, "http://127.0.0.1:5000", CURATOR_TOY_LOG=str(toy_log))
    command = [sys.executable, "-m", "flask", "--app", "tests.jobs.toys:create_app", "jobs", "run-due",
               "--at", "2026-12-05T07:30:00+00:00"]
    processes = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    slow = [line for line in toys.lines(toy_log) if line.startswith("slow-tick")]
    assert len(slow) == 1 and slow[0].startswith("slow-tick 2026-12-05T07:00:00+00:00"), (slow, outputs)
    assert len([line for line in toys.lines(toy_log) if line.startswith("tick")]) == 1
    said = "\n".join(outputs)
    assert said.count("toy.slow-tick due 2026-12-05T07:00:00+00:00: finished") == 1
    assert said.count("toy.slow-tick due 2026-12-05T07:00:00+00:00: already run or running elsewhere") == 1
