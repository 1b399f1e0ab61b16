"""Core SQL the runner shares: an INSERT that skips a row whose unique key is taken, on SQLite or
PostgreSQL alike (the database decides a race between processes, not the caller)."""
from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def insert_ignoring_conflicts(conn: Connection, table: Table):
    """`INSERT ... ON CONFLICT DO NOTHING` for `table` (add `.returning(...)` to learn if it went in)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()
