"""The runner's problems a person is told about."""
from __future__ import annotations

from curator.problems import CuratorError


class QueueUnavailable(CuratorError):
    """The job could not be handed to the queue (Redis did not answer); nothing was started."""
