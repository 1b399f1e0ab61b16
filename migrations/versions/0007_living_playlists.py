"""living playlists: how often each saved playlist is refreshed, and the journal of each refresh

Revision ID: 0007_living_playlists
Revises: 0006_taste
Create Date: 2026-12-05 07:40:00

`living_playlists` holds, per finished save, how often it is refreshed (off, daily or weekly at an
hour in the listener's time zone, at each check-in), its next due time and the version now in
Spotify (and the one before, restorable once). `playlist_refreshes` is one refresh's journal, unique
per playlist and due time, so a due time is refreshed exactly once.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_living_playlists'
down_revision = "0006_taste"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('living_playlists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('save_id', sa.Integer(), nullable=False),
    sa.Column('playlist_id', sa.String(length=64), nullable=False),
    sa.Column('every', sa.String(length=10), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('next_due_at', sa.DateTime(), nullable=True),
    sa.Column('checkin_seen_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('status_note', sa.Text(), nullable=True),
    sa.Column('paused_at', sa.DateTime(), nullable=True),
    sa.Column('tracks', sa.JSON(), nullable=False),
    sa.Column('previous_tracks', sa.JSON(), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(), nullable=True),
    sa.Column('new_tracks', sa.Integer(), nullable=False),
    sa.Column('restored_at', sa.DateTime(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['save_id'], ['playlist_saves.id'], name=op.f('fk_living_playlists_save_id_playlist_saves'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_living_playlists_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_living_playlists')),
    sa.UniqueConstraint('save_id', name=op.f('uq_living_playlists_save_id'))
    )
    with op.batch_alter_table('living_playlists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_living_playlists_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_living_playlists_user_id'), ['user_id'], unique=False)

    op.create_table('playlist_refreshes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('living_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('tracks', sa.JSON(), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('items_done', sa.Integer(), nullable=False),
    sa.Column('sending_since', sa.DateTime(), nullable=True),
    sa.Column('sending_items', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('lease_holder', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['living_id'], ['living_playlists.id'], name=op.f('fk_playlist_refreshes_living_id_living_playlists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_playlist_refreshes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playlist_refreshes')),
    sa.UniqueConstraint('living_id', 'due_at', name='uq_playlist_refreshes_living_due')
    )
    with op.batch_alter_table('playlist_refreshes', schema=None) as batch_op:
        batch_op.create_index('ix_playlist_refreshes_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_playlist_refreshes_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('playlist_refreshes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playlist_refreshes_user_id'))
        batch_op.drop_index('ix_playlist_refreshes_state_due')
    op.drop_table('playlist_refreshes')
    with op.batch_alter_table('living_playlists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_living_playlists_user_id'))
        batch_op.drop_index(batch_op.f('ix_living_playlists_next_due_at'))

    op.drop_table('living_playlists')
