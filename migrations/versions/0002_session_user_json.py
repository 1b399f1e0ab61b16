"""web sessions name their user; JSON kept in Text columns becomes the JSON type

Revision ID: 0002_session_user_json
Revises: 0001_initial
Create Date: 2026-12-01 14:20:00

`web_sessions.user_id` is filled from each stored session's data, so deleting an account finds its
sessions by index instead of `LIKE` on JSON. On PostgreSQL the Text columns become `json` in place
(`USING col::json`); on SQLite JSON is stored as text anyway, so batch mode only renames the type.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0002_session_user_json"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

# Every column that holds JSON, per table, with whether it may be NULL.
JSON_COLUMNS = {
    "previews": [("options", False), ("tracks", False), ("stats", False), ("notices", False)],
    "web_sessions": [("data", False)],
    "mood_versions": [("data", False)],
    "audit_events": [("before", True), ("after", True)],
    "catalogue_refresh_runs": [("report", True)],
    "catalogue_imports": [("problems", False)],
}

_BATCH = 500


def upgrade():
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_web_sessions_user_id_users"), "users", ["user_id"], ["id"],
                                    ondelete="CASCADE")
    _fill_session_users()
    _retype(sa.Text(), sa.JSON(), "json")


def downgrade():
    _retype(sa.JSON(), sa.Text(), "text")
    with op.batch_alter_table("web_sessions") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_web_sessions_user_id_users"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
        batch_op.drop_column("user_id")


def _fill_session_users():
    """Copy `user_id` out of each session's stored data (read in Python: works on every database).

    A session naming a user who no longer exists is left anonymous, as the app would treat it.
    """
    conn = op.get_bind()
    sessions = sa.table("web_sessions", sa.column("id", sa.String), sa.column("data", sa.Text),
                        sa.column("user_id", sa.Integer))
    users = sa.table("users", sa.column("id", sa.Integer))
    known = set(conn.execute(sa.select(users.c.id)).scalars())
    found = []
    for sid, data in conn.execute(sa.select(sessions.c.id, sessions.c.data)):
        try:
            user_id = json.loads(data or "{}").get("user_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(user_id, int) and not isinstance(user_id, bool) and user_id in known:
            found.append({"sid": sid, "uid": user_id})
    update = sessions.update().where(sessions.c.id == sa.bindparam("sid")).values(user_id=sa.bindparam("uid"))
    for start in range(0, len(found), _BATCH):
        conn.execute(update, found[start:start + _BATCH])


def _retype(old, new, pg_name):
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in JSON_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:  # one table rebuild per table on SQLite
            for column, nullable in columns:
                extra = {"postgresql_using": f'"{column}"::{pg_name}'} if postgres else {}
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=nullable, **extra)
