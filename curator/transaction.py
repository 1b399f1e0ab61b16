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
def transaction(*, keep_loaded: bool = False) -> Iterator[None]:
    """Commit what the block wrote when it succeeds; roll it all back when it raises.

    ``keep_loaded``: objects keep the values they had at the commit instead of being read again on
    next use (SQLAlchemy expires them by default). For use cases whose result is only rendered
    afterwards, such as a new preview: re-reading the row just written cost a statement per request.
    """
    session = db.session()
    expire = session.expire_on_commit
    try:
        yield
        session.expire_on_commit = expire and not keep_loaded
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    except BaseException:
        session.rollback()
        raise
