"""Helping an editor define a mood from examples, and measuring how well a mood finds its tracks."""
from __future__ import annotations

import numpy as np

from curator.engine.catalogue import Catalogue
from curator.engine.curate import CurateOptions, Length, curate
from curator.engine.features import DOMAINS, FEATURES, MODE, UNKNOWN_MODE, normalise
from curator.engine.moods import FeatureTarget, MoodDefinition

# Percentile band used as the range, then widened by this share of the feature's scale on each
# side: examples are a handful of tracks, so the range should be forgiving.
RANGE_PERCENTILES = (10, 90)
RANGE_WIDEN = 0.1


def _round_to(value: float, name: str) -> float:
    step = 1.0 if name in ("loudness", "tempo") else 0.01
    return round(round(value / step) * step, 2)


def propose_mood_features(catalogue: Catalogue, example_mask: np.ndarray) -> dict[str, FeatureTarget]:
    """Suggest feature targets from example tracks (``example_mask`` selects catalogue rows).

    Target = median of the examples; range = 10th-90th percentile widened by 10% of the scale;
    weight = how well the feature separates examples from the rest (standardised mean difference,
    scaled so the best-separating feature gets 1). Mode is skipped when the examples' mode is unknown.
    """
    mask = np.asarray(example_mask, dtype=bool)
    if mask.shape != (len(catalogue),) or not mask.any():
        raise ValueError("example_mask must select at least one catalogue row")
    raw = catalogue.features.astype(np.float64)
    norm = normalise(raw)
    examples, rest = norm[mask], norm[~mask]
    separation = np.zeros(len(FEATURES))
    if len(rest):
        pooled = np.sqrt((examples.var(axis=0) + rest.var(axis=0)) / 2) + 1e-3
        separation = np.abs(examples.mean(axis=0) - rest.mean(axis=0)) / pooled
    top = separation.max() if separation.max() > 0 else 1.0
    proposal: dict[str, FeatureTarget] = {}
    for f, name in enumerate(FEATURES):
        values = raw[mask, f]
        if f == MODE:
            values = values[values != UNKNOWN_MODE]
            if len(values) == 0:
                continue
        lo_dom, hi_dom = DOMAINS[name]
        span = hi_dom - lo_dom
        low, high = np.percentile(values, RANGE_PERCENTILES)
        vmin = _round_to(max(lo_dom, low - RANGE_WIDEN * span), name)
        vmax = _round_to(min(hi_dom, high + RANGE_WIDEN * span), name)
        target = min(max(_round_to(float(np.median(values)), name), vmin), vmax)
        weight = round(float(separation[f] / top), 2) if len(rest) else 1.0
        proposal[name] = FeatureTarget(target=target, min=vmin, max=vmax, weight=weight)
    return proposal


def precision_at_k(catalogue: Catalogue, mood: MoodDefinition, label_mask: np.ndarray, k: int = 20) -> float:
    """Share of a steady k-track playlist for ``mood`` whose rows are in ``label_mask``.

    Uses a generous artist cap (the question is "does the mood find its tracks", not variety).
    Returns 0.0 when nothing could be chosen.
    """
    label_mask = np.asarray(label_mask, dtype=bool)
    playlist = curate(
        catalogue, mood, mood, Length(tracks=k),
        CurateOptions(max_per_artist=max(20, k), seed=0),
    )
    if not playlist.tracks:
        return 0.0
    hits = sum(bool(label_mask[catalogue.index_of(t.id)]) for t in playlist.tracks)
    return hits / k
