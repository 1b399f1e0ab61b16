"""Toy tasks and a schedule for the runner's tests: each run appends a line to a log file (named by
the app's TOY_LOG setting, or the CURATOR_TOY_LOG environment variable in a subprocess), so a test
counts runs across threads and processes. Registered by `register()` and forgotten by `forget()`,
so no other test's `run-due` sees them."""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from pathlib import Path

from flask import current_app

from curator import jobs
from curator.jobs import registry

NAMES = ("toy.echo", "toy.fail", "toy.wait", "toy.tick", "toy.slow-tick")
gate = threading.Event()  # toy.wait blocks on it


def _log(line: str) -> None:
    path = current_app.config.get("TOY_LOG") or os.environ["CURATOR_TOY_LOG"]
    with open(path, "a") as out:
        out.write(line + "\n")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def echo(*, text: str) -> None:
    jobs.progress(done=1, total=2, message=f"echoing {text}")
    _log(f"echo {text} {jobs.current_job_id()}")


def fail(*, why: str) -> None:
    raise RuntimeError(why)


def wait(*, text: str) -> None:
    assert gate.wait(10), "the test never opened the gate"
    _log(f"wait {text}")


def tick(*, due_at: datetime) -> None:
    _log(f"tick {due_at.isoformat()}")


def slow_tick(*, due_at: datetime) -> None:
    time.sleep(1.0)  # long enough for a second process to try the same due time meanwhile
    _log(f"slow-tick {due_at.isoformat()} {os.getpid()}")


def register() -> None:
    jobs.task("toy.echo")(echo)
    jobs.task("toy.fail")(fail)
    jobs.task("toy.wait")(wait)
    jobs.every("toy.tick", minutes=5)(tick)
    jobs.every("toy.slow-tick", hours=1)(slow_tick)


def forget() -> None:
    for name in NAMES:
        registry.unregister(name)


def create_app():
    """`flask --app tests.jobs.toys:create_app`: the app with the toys registered (subprocesses)."""
    from curator import create_app as make

    register()
    return make()


if os.environ.get("CURATOR_TOY_LOG"):  # a subprocess of a test (an RQ worker imports this module by name)
    register()
