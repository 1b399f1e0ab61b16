"""Who commits: the service function that performs a use case owns its transaction.

It commits when the use case succeeds and rolls back when it fails. Views and API handlers never
commit, and the helpers a service calls only add and flush. `transaction()` is that rule as a
`with` block, so each service function says it in one line.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from curator.extensions import db


@contextmanager
def transaction() -> Iterator[None]:
    """Commit what the block wrote when it succeeds; roll it all back when it raises."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
