"""The moods' own use cases besides the editor's (`curator.curate.service`): the first run's
shipped moods and a moods file imported from the command line. Each owns its transaction: the
helpers in `store` and `io` only add and flush."""
from __future__ import annotations

from curator.moods import io, refit, store
from curator.transaction import transaction


def import_shipped_if_empty() -> str | None:
    """First run only: load config/moods.yaml when the database has no moods yet; what it did, or None."""
    with transaction():
        return store.add_shipped_if_empty()


def import_moods(plan: io.ImportPlan, source: str, *, actor=None) -> int:
    """Save every new and changed mood of `plan` as a new version, all or nothing; returns how many."""
    with transaction():
        return io.apply_import(plan, source, actor=actor)


def refit_moods(plan: refit.RefitPlan, source: str, *, actor=None) -> int:
    """Save every mood `plan` refitted (`flask moods calibrate`) as a new version, all or nothing."""
    with transaction():
        return refit.apply_refit(plan, source, actor=actor)
