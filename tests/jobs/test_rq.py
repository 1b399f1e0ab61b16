"""The job runner with Redis: jobs on RQ, delayed jobs and a periodic schedule through RQ's scheduler,
run by the Procfile's worker (`rq worker --with-scheduler --worker-class curator.jobs.worker.Worker`)
against the real Redis on 127.0.0.1:6379, each test on a queue of its own; and /healthz saying so
when no worker is there."""
from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis

from curator import jobs
from curator.jobs import registry, rq_backend, schedules
from tests.jobs import toys
from tests.served import REPO, app_environment

URL = "redis://127.0.0.1:6379/14"


def TICK() -> registry.Schedule:  # noqa: N802 (a constant once the toys are registered)
    return next(s for s in registry.schedules() if s.name == "toy.tick")


@pytest.fixture
def queue_name(app, toy_log):
    """REDIS_URL set for the test app, with a queue of this test's own (deleted afterwards)."""
    connection = redis.Redis.from_url(URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    name = f"curator-test-{uuid.uuid4().hex[:10]}"
    app.config.update(REDIS_URL=URL, JOBS_QUEUE=name)
    yield name
    with app.app_context():
        queue = rq_backend.queue()
        from rq.registry import ScheduledJobRegistry

        for job_id in ScheduledJobRegistry(queue=queue).get_job_ids():
            queue.connection.delete(f"rq:job:{job_id}")
        connection.delete(ScheduledJobRegistry(queue=queue).key)
        queue.delete(delete_jobs=True)


def worker(app_config, pg_schema, toy_log, queue_name: str) -> str:
    """The Procfile's worker, in burst mode: it runs what is queued or due, then exits; its log."""
    env = app_environment(app_config, pg_schema, "http://127.0.0.1:5000", REDIS_URL=URL, JOBS_QUEUE=queue_name,
                          CURATOR_TOY_LOG=str(toy_log))
    command = [str(Path(sys.executable).parent / "rq"), "worker", "--with-scheduler", "--worker-class",
               "curator.jobs.worker.Worker", "--burst", "--url", URL, queue_name]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_jobs_delayed_jobs_and_schedules_run_on_the_rq_worker(app, app_config, pg_schema, client, runner,
                                                              toy_log, queue_name):
    with app.app_context():
        now_id = jobs.enqueue("toy.echo", text="on rq", unique="toy:rq")
        assert jobs.enqueue("toy.echo", text="twice", unique="toy:rq") is None
        assert rq_backend.queue().count == 1
        later_id = jobs.enqueue_at(datetime.now(timezone.utc) - timedelta(seconds=1), "toy.echo", text="delayed")
        future_id = jobs.enqueue_at(datetime.now(timezone.utc) + timedelta(hours=1), "toy.echo", text="future")
        # A due time of the five-minute schedule that has passed (the chain's next one is put there too).
        due = rq_backend.schedule_next(TICK(), datetime.now(timezone.utc) - timedelta(minutes=6))
        assert due < datetime.now(timezone.utc)
        waiting = jobs.status(now_id)
    assert waiting["status"] == "queued" and "none is running" in waiting["message"]

    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["jobs"] == {"runner": "rq", "workers": 0, "scheduler": False}
    assert any("no RQ worker" in problem for problem in health["problems"])

    log = worker(app_config, pg_schema, toy_log, queue_name)
    lines = toys.lines(toy_log)
    assert f"echo on rq {now_id}" in lines and f"echo delayed {later_id}" in lines, log
    assert f"tick {due.isoformat()}" in lines, log
    assert not any("future" in line for line in lines)
    with app.app_context():
        assert jobs.status(now_id)["status"] == "finished" and jobs.status(later_id)["status"] == "finished"
        assert jobs.status(future_id)["status"] == "scheduled"
        from rq.registry import ScheduledJobRegistry

        scheduled = ScheduledJobRegistry(queue=rq_backend.queue()).get_job_ids()
    # The chain (and the worker as it started) put the schedule's next due time from now on RQ's
    # scheduler, skipping those missed meanwhile; the future job waits there too.
    upcoming = schedules.next_due(TICK(), datetime.now(timezone.utc))
    assert [rq_backend.periodic_id("toy.tick", upcoming, app)] == [i for i in scheduled if "toy_tick" in i]
    assert f"curator-{future_id}" in scheduled

    # The same due time asked again, by run-due or by a second hand-over to RQ, does not run twice.
    result = runner.invoke(args=["jobs", "run-due", "--at", due.isoformat()])
    assert f"toy.tick due {due.isoformat()}: already run or running elsewhere" in result.output
    with app.app_context():
        assert rq_backend.perform_periodic("toy.tick", due.isoformat()) is None
    assert [line for line in toys.lines(toy_log) if line.startswith("tick")] == [f"tick {due.isoformat()}"]


def test_a_job_is_not_started_twice_when_rq_hands_it_over_twice(app, toy_log, queue_name):
    with app.app_context():
        job_id = jobs.enqueue("toy.echo", text="once")
        assert rq_backend.perform(job_id, "tests.jobs.toys") == "finished"
        assert rq_backend.perform(job_id, "tests.jobs.toys") is None
    assert toys.lines(toy_log) == [f"echo once {job_id}"]


def test_a_queued_job_with_no_worker_is_replaced_after_a_minute(app, toy_log, queue_name):
    app.config["JOBS_STALE_QUEUED_SECONDS"] = 3
    with app.app_context():
        first = jobs.enqueue("toy.echo", text="first", unique="toy:stuck")
        assert jobs.enqueue("toy.echo", text="second", unique="toy:stuck") is None
        import time

        time.sleep(3.1)
        second = jobs.enqueue("toy.echo", text="second", unique="toy:stuck")
        assert second is not None
        assert jobs.status(first)["status"] == "cancelled"
        assert rq_backend.perform(first) is None  # a worker that comes later skips the cancelled one
        assert rq_backend.perform(second) == "finished"


def test_redis_not_answering_is_said_out_loud(app, client, toy_log):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert any(problem.startswith("jobs: Redis does not answer") for problem in health["problems"])
    with app.app_context():
        with pytest.raises(jobs.QueueUnavailable):
            jobs.enqueue("toy.echo", text="nowhere")
    assert toys.lines(toy_log) == []
