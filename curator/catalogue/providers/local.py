"""`local`: features already stored (dataset imports, earlier fetches); never asks anyone."""
from __future__ import annotations

from sqlalchemy import select

from curator.catalogue import store
from curator.catalogue.providers.base import FeatureProvider
from curator.extensions import db
from curator.models.catalogue import FEATURE_COLUMNS, CatalogueTrack


class LocalProvider(FeatureProvider):
    name = "local"
    label = "the catalogue"

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        columns = [CatalogueTrack.id, *(getattr(CatalogueTrack, c) for c in FEATURE_COLUMNS)]
        for part in store.chunks(track_ids, 5000):
            for row in db.session.execute(
                select(*columns).where(CatalogueTrack.id.in_(part), CatalogueTrack.features_source.is_not(None))
            ):
                found[row[0]] = dict(zip(FEATURE_COLUMNS, row[1:], strict=True))
        return found
