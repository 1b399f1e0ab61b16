"""the job runner: a row per job, and the named leases moved out of the catalogue

Revision ID: 0005_jobs
Revises: 0004_save_leases
Create Date: 2026-12-05 07:40:00

`jobs` holds every job of the runner (curator/jobs/): its task name and arguments, its state,
progress and lease. `active_key` is a job's `unique` key while it is live (NULL after), so the
unique index lets one live job per key; `once_key` names a periodic schedule's due time or a
delayed job, claimed once forever. `leases` replaces `catalogue_locks` (the same rows, a longer
name): the lease is the runner's now, not the catalogue's.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_jobs"
down_revision = "0004_save_leases"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("module", sa.String(length=200), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("unique_key", sa.String(length=200), nullable=True),
        sa.Column("active_key", sa.String(length=200), nullable=True),
        sa.Column("once_key", sa.String(length=200), nullable=True),
        sa.Column("run_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("lease_holder", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("active_key", name=op.f("uq_jobs_active_key")),
        sa.UniqueConstraint("once_key", name=op.f("uq_jobs_once_key")),
    )
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"], unique=False)
    op.create_index(op.f("ix_jobs_created_at"), "jobs", ["created_at"], unique=False)
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.execute("INSERT INTO leases (name, holder, expires_at) SELECT name, holder, expires_at FROM catalogue_locks")
    op.drop_table("catalogue_locks")


def downgrade():
    op.create_table(
        "catalogue_locks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_catalogue_locks")),
    )
    op.execute("INSERT INTO catalogue_locks (name, holder, expires_at) "
               "SELECT substr(name, 1, 40), holder, expires_at FROM leases")
    op.drop_table("leases")
    op.drop_index(op.f("ix_jobs_created_at"), table_name="jobs")
    op.drop_index("ix_jobs_status_run_at", table_name="jobs")
    op.drop_table("jobs")
