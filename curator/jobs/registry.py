"""What the runner can run: tasks by their stable name, and periodic schedules.

A task registers at its module's import time (`@jobs.task("taste.sync")`); a schedule the same way
(`@jobs.every("living.refresh-due", minutes=5)`), and is a task of that name too, called with
`due_at`. The app imports every area's `tasks.py` and `jobs.py` when it starts (`discover`), so a
worker or `flask jobs run-due` knows them all; a job also carries its function's module, which a
worker imports if the name is still unknown.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from curator.problems import CuratorError


class UnknownTask(CuratorError):
    """A job names a task that no imported module registered (a typo, or a module not imported)."""


@dataclass(frozen=True)
class Task:
    name: str
    func: Callable[..., object]

    @property
    def module(self) -> str:
        return self.func.__module__


@dataclass(frozen=True)
class Schedule:
    """A periodic schedule: due at every whole multiple of `interval` since the Unix epoch (UTC),
    so every process computes the same due times without talking to another."""

    name: str
    interval: timedelta


_tasks: dict[str, Task] = {}
_schedules: dict[str, Schedule] = {}


def task(name: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the task `name` (keyword arguments only, JSON values)."""
    def register(func: Callable) -> Callable:
        existing = _tasks.get(name)
        if existing is not None and (existing.func.__module__, existing.func.__qualname__) != (
                func.__module__, func.__qualname__):
            raise ValueError(f"Two tasks are named {name!r}: {existing.module} and {func.__module__}.")
        _tasks[name] = Task(name, func)
        return func
    return register


def every(name: str, *, minutes: float = 0, hours: float = 0, days: float = 0) -> Callable[[Callable], Callable]:
    """Register the decorated function as a task run once per due time, called with `due_at`."""
    interval = timedelta(minutes=minutes, hours=hours, days=days)
    if interval < timedelta(minutes=1) or interval.total_seconds() % 60:
        raise ValueError(f"Schedule {name!r}: the interval must be whole minutes, at least one.")

    def register(func: Callable) -> Callable:
        task(name)(func)
        _schedules[name] = Schedule(name, interval)
        return func
    return register


def get(name: str, module: str | None = None) -> Task:
    """The task `name`, importing `module` first if the name is not registered yet."""
    if name not in _tasks and module:
        importlib.import_module(module)
    try:
        return _tasks[name]
    except KeyError:
        raise UnknownTask(f"No task is registered as {name!r}; is its module imported when the app starts "
                          "(an area's tasks.py or jobs.py)?") from None


def schedules() -> list[Schedule]:
    return sorted(_schedules.values(), key=lambda schedule: schedule.name)


def unregister(name: str) -> None:
    """Forget a task and its schedule (tests that register toys)."""
    _tasks.pop(name, None)
    _schedules.pop(name, None)


TASK_MODULES = ("tasks", "jobs")


def discover() -> None:
    """Import every `curator.<area>.tasks` and `curator.<area>.jobs` module, registering their tasks."""
    import curator

    for area in pkgutil.iter_modules(curator.__path__):
        if not area.ispkg or area.name == "jobs":
            continue
        for name in TASK_MODULES:
            dotted = f"curator.{area.name}.{name}"
            if importlib.util.find_spec(dotted) is not None:
                importlib.import_module(dotted)
