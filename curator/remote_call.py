"""A call to another service (Spotify, ReccoBeats) is made between transactions, never inside one.

A transaction left open across a call that can take seconds keeps what it wrote locked for as long:
on SQLite the database's only write lock (every other writer queues behind it, then fails past the
busy timeout), on PostgreSQL the rows it touched. So right before each call, `between_transactions`:

- refuses writes not yet committed (`TransactionAcrossCall`, a bug in the caller: the save journal
  commits each step before it calls, and a use case writes after its calls);
- ends a transaction that only read, which also gives the connection back to the pool: a request
  waiting on Spotify holds no database connection at all. Loaded objects are kept as they are.

`short_write` is the other half: a write that must stand on its own (a refreshed Spotify token), made
at once in a transaction of its own on the same session, tried again while the database is busy,
and reported (`WriteNotStored`) rather than dropped when it still fails.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from curator.extensions import db

log = logging.getLogger(__name__)

WROTE = "curator.wrote"  # session.info flag: this transaction has written something
# Waits between tries of a short write (seconds); SQLite's busy timeout already waits inside each.
WRITE_RETRY_WAITS = (0.2, 0.5, 1.0)


class TransactionAcrossCall(RuntimeError):
    """A remote call was about to be made with uncommitted writes: they would stay locked for as long."""


class WriteNotStored(Exception):
    """A short write failed after its retries (the database stayed busy or unreachable)."""


@event.listens_for(Session, "do_orm_execute")
def _note_statement_writes(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session, _context) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


def pending_writes(session: Session) -> bool:
    return bool(session.new or session.deleted or session.info.get(WROTE)
                or any(session.is_modified(obj) for obj in session.dirty))


def between_transactions() -> None:
    """Make sure no transaction of this thread's session is open across the coming remote call."""
    session = db.session()
    if pending_writes(session):
        raise TransactionAcrossCall(
            "A call to another service was about to be made inside a transaction with uncommitted writes; "
            "commit them first (or make the call before writing).")
    if session.in_transaction():
        commit_keeping_loaded(session)


def short_write(run: Callable[[Session], None], what: str) -> None:
    """`run(session)` in a transaction of its own, committed at once; retried while the database is
    busy. Raises `WriteNotStored` when every try failed. Call with nothing pending on the session."""
    between_transactions()
    session = db.session()
    for attempt, wait in enumerate((*WRITE_RETRY_WAITS, None), start=1):
        try:
            run(session)
            commit_keeping_loaded(session)
            return
        except (OperationalError, DBAPIError) as exc:
            session.rollback()
            if wait is None:
                log.error("could not store %s after %d tries: %s", what, attempt, exc)
                raise WriteNotStored(what) from exc
            log.warning("could not store %s (try %d), trying again: %s", what, attempt, exc)
            time.sleep(wait)


def commit_keeping_loaded(session: Session) -> None:
    """Commit without expiring what the session loaded."""
    # Nothing was written, or only what is committed now: the loaded objects are still right, and
    # reading them all again after every call would cost a statement each.
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
