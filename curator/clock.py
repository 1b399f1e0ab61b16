"""The clock: one place that says what time it is.

Times are stored naive in UTC (SQLite keeps no zone); every module that needs "now"
for a database value imports it from here rather than from a model module.
"""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (the form every DateTime column stores)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
