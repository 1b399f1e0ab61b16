"""a listener's taste: steering and last choice, never-again and kept tracks, shared Spotify data;
a release year per catalogue track

Revision ID: 0006_taste
Revises: 0005_jobs
Create Date: 2026-12-05 08:00:00

`listener_tastes` holds one listener's steering (familiar <-> new, artists to avoid, years,
explicit), their last choice on the start form, the Spotify data they chose to share and where
its last sync stopped. `taste_marks` records tracks swapped out (never picked again until undone)
and kept. `taste_items` is the synced library (top artists and tracks, saved tracks, followed
artists, recently played). `catalogue_tracks.release_year` is read by the decade range.
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_taste"
down_revision = "0005_jobs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalogue_tracks") as batch:
        batch.add_column(sa.Column("release_year", sa.Integer(), nullable=True))
    op.create_table(
        "listener_tastes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("steering", sa.JSON(), nullable=False),
        sa.Column("last_choice", sa.JSON(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("sync_state", sa.JSON(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=True),
        sa.Column("engine_view", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_listener_tastes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_listener_tastes")),
    )
    op.create_table(
        "taste_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("artists", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_taste_marks_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taste_marks")),
        sa.UniqueConstraint("user_id", "kind", "track_id", name="uq_taste_marks_user_kind_track"),
    )
    op.create_index(op.f("ix_taste_marks_user_id"), "taste_marks", ["user_id"], unique=False)
    op.create_table(
        "taste_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("artists", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_taste_items_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taste_items")),
        sa.UniqueConstraint("user_id", "source", "item_id", name="uq_taste_items_user_source_item"),
    )
    op.create_index("ix_taste_items_user_source", "taste_items", ["user_id", "source"], unique=False)


def downgrade():
    op.drop_index("ix_taste_items_user_source", table_name="taste_items")
    op.drop_table("taste_items")
    op.drop_index(op.f("ix_taste_marks_user_id"), table_name="taste_marks")
    op.drop_table("taste_marks")
    op.drop_table("listener_tastes")
    with op.batch_alter_table("catalogue_tracks") as batch:
        batch.drop_column("release_year")
