"""The tests' database: tables built once per pytest process (each xdist worker is one), and every
test starting on empty tables of its own.

Creating and dropping every table for every test was most of a test's own cost on PostgreSQL
(0.3-0.7 s; 18 tables and their indexes). Instead:

* SQLite: the tables are built once into a template file, and a test's new database file is a copy
  of it (a file per test, as before).
* PostgreSQL: the process's own schema keeps its tables, and each test starts by emptying them
  (DELETE and restarting the sequences: ~10 ms, where TRUNCATE takes ~200 ms on this many tables).
  A test that changed the tables themselves (migrations, drop_all) leaves a schema of another
  shape; the next test finds that out from the catalogue and rebuilds it.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from curator.extensions import db

# Every column, index and constraint of the current schema, one line each: the shape to compare.
_SHAPE = text("""
    SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace = current_schema()::text::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = current_schema()::text::regnamespace
    UNION ALL
    SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = current_schema()
    UNION ALL
    SELECT 'type ' || typname FROM pg_type
     WHERE typnamespace = current_schema()::text::regnamespace AND typtype IN ('e', 'd')
     ORDER BY 1
""")
_SEQUENCES = text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")


class FreshDatabase:
    """Hands each test's app an empty database with every table (see the module's docstring)."""

    def __init__(self, folder: Path, pg_schema: str | None):
        self.folder, self.pg_schema = folder, pg_schema
        self._template: Path | None = None
        self._shape: list[str] | None = None
        self._empty_statements = ""

    def prepare(self, engine: Engine) -> None:
        """Called with the test app's engine before the test uses it."""
        if engine.dialect.name == "sqlite":
            self._sqlite(engine)
        elif engine.dialect.name == "postgresql" and self.pg_schema:
            self._postgresql(engine)
        else:
            db.metadata.create_all(engine)

    def _sqlite(self, engine: Engine) -> None:
        path = make_url(engine.url).database
        if not path or path == ":memory:" or Path(path).exists():
            db.metadata.create_all(engine)
            return
        if self._template is None:
            template = self.folder / "template.sqlite"
            builder = create_engine(f"sqlite:///{template}")
            db.metadata.create_all(builder)
            builder.dispose()
            self._template = template
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._template, path)

    def _postgresql(self, engine: Engine) -> None:
        with engine.begin() as conn:
            if self._shape is not None and list(conn.scalars(_SHAPE)) == self._shape:
                conn.exec_driver_sql(self._empty_statements)
                return
        self._rebuild(engine)

    def _rebuild(self, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.pg_schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{self.pg_schema}"')
        db.metadata.create_all(engine)
        with engine.begin() as conn:
            self._shape = list(conn.scalars(_SHAPE))
            sequences = list(conn.scalars(_SEQUENCES))
        # Children before parents, so no foreign key stops a DELETE; sequences as if new.
        self._empty_statements = "; ".join(
            [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]
            + [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences])
