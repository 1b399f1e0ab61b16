"""living playlists: when Spotify last said the playlist is still in the listener's library

Revision ID: 0009_living_library_check
Revises: 0008_refresh_on_runner
Create Date: 2026-12-05 08:25:00

A playlist its owner "deleted" in Spotify has only left their library, and Spotify still accepts
writes to it; a refresh looks (at most once a week) whether it is still there before replacing it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_living_library_check"
down_revision = "0008_refresh_on_runner"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("living_playlists") as batch:
        batch.add_column(sa.Column("library_checked_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("living_playlists") as batch:
        batch.drop_column("library_checked_at")
