"""the one look-up of a catalogue track's album cover, remembered

Revision ID: 0010_cover_lookups
Revises: 0009_living_library_check
Create Date: 2026-12-05 08:00:00

`catalogue_tracks.cover_looked_up_at` is when Curator asked Spotify (GET /tracks/{id}) for the cover
of a track that came without one (a dataset's track): set whatever the answer was, so that each
track is looked up once, ever (curator/catalogue/covers.py).
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_cover_lookups"
down_revision = "0009_living_library_check"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalogue_tracks") as batch:
        batch.add_column(sa.Column("cover_looked_up_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("catalogue_tracks") as batch:
        batch.drop_column("cover_looked_up_at")
