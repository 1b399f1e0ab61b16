"""The provider interface and registry: a `FeatureProvider` subclass with a `name` registers itself
under it; `FEATURE_PROVIDERS` names the ones to ask, in order."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from curator.catalogue.feature_ranges import in_range
from curator.models.catalogue import FEATURE_COLUMNS

REGISTRY: dict[str, type[FeatureProvider]] = {}


class ProviderUnavailable(Exception):
    """A provider could not answer (after its retries); the message goes into the report."""


def clean_features(raw: dict) -> dict | None:
    """The stored feature columns from a provider's row, or None if anything is missing or odd."""
    out: dict = {}
    for name in FEATURE_COLUMNS:
        value = raw.get(name)
        # A provider answering outside the accepted ranges is treated as not knowing the track.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not in_range(name, value):
            return None
        out[name] = float(value)
    key, mode, signature = raw.get("key"), raw.get("mode"), raw.get("time_signature")
    out["key"] = int(key) if isinstance(key, (int, float)) and -1 <= key <= 11 else None
    out["mode"] = int(mode) if mode in (0, 1) else None
    out["time_signature"] = int(signature) if isinstance(signature, (int, float)) and 0 <= signature <= 7 else None
    return out


class FeatureProvider:
    """Base: `fetch(ids)` answers {track id: features} for the ids it knows; `calls` counts requests.

    A subclass with a `name` registers itself under it. `label` names it in reports. A provider
    whose requests go through the Spotify gateway (`via_spotify`) has them counted among Spotify's.
    """

    name = ""
    label = ""
    via_spotify = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            REGISTRY[cls.name] = cls

    def __init__(self) -> None:
        self.calls = 0

    @classmethod
    def from_config(cls, config, *, gateway=None, state: dict, sleep: Callable[[float], None]) -> FeatureProvider:
        """The provider as the settings configure it (`state`: per-process memory, e.g. "switched off")."""
        return cls()

    def fetch(self, track_ids: list[str]) -> dict[str, dict]:  # pragma: no cover - interface
        raise NotImplementedError


def provider_label(name: str) -> str:
    """How reports name a provider: its label, or its registered name if it is gone."""
    cls = REGISTRY.get(name)
    return (cls.label or cls.name) if cls else name


def in_order(calls: dict[str, int]) -> list[tuple[str, int]]:
    """Per-provider counts in FEATURE_PROVIDERS' order (providers no longer named, last)."""
    from flask import has_app_context

    order = {name: i for i, name in enumerate(names() if has_app_context() else [])}
    return sorted(calls.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def names(config=None) -> list[str]:
    config = config or current_app.config
    return [part.strip().lower() for part in (config.get("FEATURE_PROVIDERS") or "").split(",") if part.strip()]
