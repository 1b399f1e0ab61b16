"""The mood editor's writes, one function per use case, called by `curate/routes.py`.

Transactions (`curator.transaction`): the service function that performs a use case owns its transaction. It commits
when the use case succeeds and rolls back when it fails (a refused save writes nothing); views
never commit, and the helpers it calls (`curator.moods.store`, `curator.moods.history`) only add
and flush.
"""
from __future__ import annotations

from curator.engine import MoodDefinition, mood_to_dict
from curator.models.mood import Mood, MoodVersion
from curator.moods import history
from curator.moods.store import save_version
from curator.transaction import transaction


def create_mood(definition: MoodDefinition, *, author, note: str) -> MoodVersion:
    """A new mood with its first version; `Conflict` when the slug is taken."""
    with transaction():
        return save_version(mood_to_dict(definition), author=author, note=note or "Created", create=True)


def save_mood(definition: MoodDefinition, *, author, note: str, base_version_id: int) -> MoodVersion:
    """The mood's next version; `VersionConflict` when someone saved since `base_version_id`."""
    with transaction():
        return save_version(mood_to_dict(definition), author=author, note=note, base_version_id=base_version_id)


def rollback(slug: str, number: int, *, author, base_version_id: int) -> MoodVersion:
    """Version `number`'s data made current again as a new version."""
    with transaction():
        return history.rollback(slug, number, author=author, base_version_id=base_version_id)


def set_archived(slug: str, archived: bool, *, actor) -> Mood:
    """Hide a mood from listeners, or bring it back."""
    with transaction():
        return history.set_archived(slug, archived, actor=actor)
