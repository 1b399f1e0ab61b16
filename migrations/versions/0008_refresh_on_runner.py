"""refresh runs on the job runner, and calls counted per feature provider

Revision ID: 0008_refresh_on_runner
Revises: 0007_living_playlists
Create Date: 2026-12-05 08:00:00

`catalogue_refresh_runs.job_id` names the runner's job that runs a refresh started from the admin
page (its state says whether a worker took it, or died with it). `provider_calls` counts HTTP
calls per feature provider by its registered name ({"reccobeats": 3}), replacing the hard-wired
`reccobeats_calls`, so a new provider shows in reports without a change of schema.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_refresh_on_runner"
down_revision = "0007_living_playlists"
branch_labels = None
depends_on = None

runs = sa.table("catalogue_refresh_runs", sa.column("id", sa.Integer), sa.column("reccobeats_calls", sa.Integer),
                sa.column("provider_calls", sa.JSON))


def upgrade():
    with op.batch_alter_table("catalogue_refresh_runs") as batch:
        batch.add_column(sa.Column("job_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("provider_calls", sa.JSON(), nullable=True))
    conn = op.get_bind()
    for run_id, calls in conn.execute(sa.select(runs.c.id, runs.c.reccobeats_calls)).all():
        conn.execute(runs.update().where(runs.c.id == run_id)
                     .values(provider_calls={"reccobeats": calls} if calls else {}))
    with op.batch_alter_table("catalogue_refresh_runs") as batch:
        batch.alter_column("provider_calls", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("reccobeats_calls")


def downgrade():
    with op.batch_alter_table("catalogue_refresh_runs") as batch:
        batch.add_column(sa.Column("reccobeats_calls", sa.Integer(), nullable=False, server_default="0"))
    conn = op.get_bind()
    for run_id, calls in conn.execute(sa.select(runs.c.id, runs.c.provider_calls)).all():
        conn.execute(runs.update().where(runs.c.id == run_id)
                     .values(reccobeats_calls=int((calls or {}).get("reccobeats", 0))))
    with op.batch_alter_table("catalogue_refresh_runs") as batch:
        batch.drop_column("provider_calls")
        batch.drop_column("job_id")
