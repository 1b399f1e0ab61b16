"""Where audio features come from: providers, each a class in a module of this package that
registers itself under the name FEATURE_PROVIDERS uses, asked in that setting's order.

A new provider is one module here (a `FeatureProvider` subclass with a `name`, a `label` and a
`from_config` that reads its own settings from `config.py`), its settings, and its tests: the
refresh report, the admin pages and /healthz count its calls by name (`FeatureReport.calls`,
stored in `RefreshRun.provider_calls`). Shipped: `local` (features already stored), `spotify`
(the retired audio-features endpoint), `reccobeats` (ReccoBeats' free API).

Features are fetched once per track and kept, with their source and time.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from curator.catalogue import store
from curator.catalogue.providers.base import (
    REGISTRY,
    FeatureProvider,
    ProviderUnavailable,
    clean_features,
    in_order,
    names,
    provider_label,
)
from curator.clock import utcnow
from curator.extensions import db
from curator.models.catalogue import FEATURE_COLUMNS, CatalogueTrack

log = logging.getLogger(__name__)

# Tracks no provider knew are asked about again only after this long.
MISSING_RECHECK = timedelta(days=30)

def providers_from_config(gateway=None, *, sleep: Callable[[float], None] = time.sleep) -> list[FeatureProvider]:
    """The providers FEATURE_PROVIDERS names, in its order (unknown names are logged and skipped)."""
    config = current_app.config
    state = current_app.extensions.setdefault("curator.catalogue", {})
    out: list[FeatureProvider] = []
    for name in names(config):
        cls = REGISTRY.get(name)
        if cls is None:
            log.warning("FEATURE_PROVIDERS names an unknown provider %r; skipped (known: %s).", name,
                        ", ".join(sorted(REGISTRY)))
            continue
        out.append(cls.from_config(config, gateway=gateway, state=state, sleep=sleep))
    return out


@dataclass
class FeatureReport:
    """What `fetch_missing_features` did: counts per provider, ids still without features, problems."""

    requested: int = 0
    found: dict[str, int] = field(default_factory=dict)  # provider name -> tracks
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # ids not in the catalogue (store them first)
    errors: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # provider name -> HTTP requests

    def own_calls(self) -> dict[str, int]:
        """Calls per provider that are not Spotify's (those are in the gateway's count)."""
        return {name: n for name, n in self.calls.items()
                if n and not getattr(REGISTRY.get(name), "via_spotify", False)}

    def to_dict(self) -> dict:
        return {"requested": self.requested, "found": self.found, "missing": len(self.missing),
                "unknown": len(self.unknown), "errors": self.errors, "calls": self.calls}


def fetch_missing_features(track_ids: Iterable[str], gateway=None, *, providers: list[FeatureProvider] | None = None,
                           skip_recently_missing: bool = False) -> FeatureReport:
    """Give features to those of `track_ids` (catalogue tracks) that have none, asking each provider in turn.

    Found features are stored with their source and time and the catalogue version is bumped,
    in the caller's transaction (the caller commits). Every provider is asked before anything is
    written, so no write is pending while providers answer over HTTP. Tracks no provider knows are
    marked so `skip_recently_missing=True` (used by refresh) leaves them alone for a while.
    `gateway` is needed only by the `spotify` provider. A provider that fails becomes a line
    in `errors`; the next provider is still asked.
    """
    ids = list(dict.fromkeys(track_ids))
    report = FeatureReport(requested=len(ids))
    if not ids:
        return report
    known = store.existing_ids(ids)
    report.unknown = [i for i in ids if i not in known]
    todo = [i for i in ids if i in known]
    if skip_recently_missing and todo:
        cutoff = utcnow() - MISSING_RECHECK
        recent: set[str] = set()
        for part in store.chunks(todo, 5000):
            recent.update(db.session.scalars(select(CatalogueTrack.id).where(
                CatalogueTrack.id.in_(part), CatalogueTrack.features_missing_at > cutoff)))
        todo = [i for i in todo if i not in recent]
    providers = providers if providers is not None else providers_from_config(gateway)
    fetched: list[tuple[dict[str, dict], str]] = []
    for provider in providers:
        if not todo:
            break
        try:
            found = provider.fetch(todo)
        except ProviderUnavailable as exc:
            found = {}
            report.errors.append(str(exc))
        report.calls[provider.name] = report.calls.get(provider.name, 0) + provider.calls
        if not found:
            continue
        report.found[provider.name] = report.found.get(provider.name, 0) + len(found)
        if provider.name != "local":
            fetched.append((found, provider.name))
        todo = [i for i in todo if i not in found]
    for found, source in fetched:
        _store_features(found, source)
    report.missing = todo
    if todo and not report.errors:
        # Only a clean "nobody knows it" counts as missing; a failed provider may know it later.
        for part in store.chunks(todo, 5000):
            db.session.execute(update(CatalogueTrack).where(CatalogueTrack.id.in_(part))
                               .values(features_missing_at=utcnow()))
    if fetched:
        # Only when a curation track changed (not a listener's own).
        store.bump_version([track_id for found, _ in fetched for track_id in found])
    return report


def _store_features(found: dict[str, dict], source: str) -> None:
    now = utcnow()
    table = CatalogueTrack.__table__
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values(**{c: bindparam(f"b_{c}") for c in (*FEATURE_COLUMNS, "key", "mode", "time_signature")},
                    features_source=source, features_fetched_at=now, features_missing_at=None, updated_at=now))
    rows = []
    for track_id, features in found.items():
        row = {"b_id": track_id}
        for column in (*FEATURE_COLUMNS, "key", "mode", "time_signature"):
            row[f"b_{column}"] = features.get(column)
        rows.append(row)
    for part in store.chunks(rows):
        db.session.execute(stmt, list(part))


# Every other module of this package is a provider: importing them registers them.
for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

from curator.catalogue.providers.reccobeats import ReccoBeatsProvider  # noqa: E402  (the tests' usual handle)

__all__ = ["REGISTRY", "FeatureProvider", "FeatureReport", "ProviderUnavailable", "ReccoBeatsProvider",
           "clean_features", "fetch_missing_features", "in_order", "names", "provider_label", "providers_from_config"]
