"""save leases kept by a heartbeat, writes whose answer never came, strays to look for; rate limits
counted in the database

Revision ID: 0004_save_leases
Revises: 0003_history_indexes
Create Date: 2026-12-02 09:00:00

`playlist_saves.lease_holder` names the run that holds a save's lease (a heartbeat renews it while
its process lives, every journal step checks it); `sending_since` and `sending_items` record a
create or add sent to Spotify whose answer has not been recorded yet, so whoever resumes the save,
even in another process after a crash, knows it may still land; `stray_check_at` is when to look
for a second, empty playlist a create that landed late may have left. `rate_limit_hits` holds the
limits' moving windows when no Redis is shared by the processes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_save_leases"
down_revision = "0003_history_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("playlist_saves") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("sending_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sending_items", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("stray_check_at", sa.DateTime(), nullable=True))
        batch.create_index("ix_playlist_saves_stray_check_at", ["stray_check_at"], unique=False)
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hits")),
    )
    op.create_index("ix_rate_limit_hits_key_at", "rate_limit_hits", ["key", "at"], unique=False)


def downgrade():
    op.drop_index("ix_rate_limit_hits_key_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
    with op.batch_alter_table("playlist_saves") as batch:
        batch.drop_index("ix_playlist_saves_stray_check_at")
        batch.drop_column("stray_check_at")
        batch.drop_column("sending_items")
        batch.drop_column("sending_since")
        batch.drop_column("lease_holder")
