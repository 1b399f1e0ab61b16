"""Helping an editor define a mood from examples, and measuring how well a mood finds its tracks.

A proposal is only worth showing when it finds the examples at least as well as the mood the
editor already has. So :func:`propose_mood_features` does not trust one recipe: it builds a few
candidate definitions (the examples' centre and spread with ranges of several widths, a
discriminative direction from a regularised logistic regression, and -- when the current mood is
given -- the current mood nudged toward the examples), measures each one's precision@k on the
examples, and returns the best. When there are enough examples, each candidate is also refitted
on one half of them and measured on the other half (with the fitting half left out of the
catalogue), so a recipe that merely memorises its examples does not win. If no candidate beats
the current mood, the current mood's features come back unchanged: the proposal is never worse.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from curator.engine.catalogue import Catalogue
from curator.engine.curate import CurateOptions, Length, curate
from curator.engine.features import DOMAINS, FEATURES, MODE, UNKNOWN_MODE, normalise
from curator.engine.moods import FeatureTarget, MoodDefinition

# Percentile band used as the range, then widened by a share of the feature's scale on each
# side: examples are a handful of tracks, so the range should be forgiving.
RANGE_PERCENTILES = (10, 90)
RANGE_WIDEN = 0.1
# Held-out check only when each half still has a meaningful number of examples.
MIN_EXAMPLES_FOR_HOLDOUT = 24
# Features weighted below this are left out of a proposal (they would only add noise).
MIN_WEIGHT = 0.05
# The logistic regression sees at most this many non-example rows (enough for ten coefficients).
MAX_REST_ROWS = 20_000

Features = dict[str, FeatureTarget]


def _round_to(value: float, name: str) -> float:
    step = 1.0 if name in ("loudness", "tempo") else 0.01
    return round(round(value / step) * step, 2)


def _target(name: str, target: float, vmin: float | None = None, vmax: float | None = None,
            weight: float = 1.0) -> FeatureTarget:
    """A FeatureTarget rounded and clamped so it always passes ``parse_mood``."""
    lo_dom, hi_dom = DOMAINS[name]
    vmin = None if vmin is None else _round_to(min(max(vmin, lo_dom), hi_dom), name)
    vmax = None if vmax is None else _round_to(min(max(vmax, lo_dom), hi_dom), name)
    if vmin is not None and vmax is not None and vmin > vmax:
        vmin, vmax = vmax, vmin
    t = _round_to(min(max(target, lo_dom), hi_dom), name)
    if vmin is not None:
        t = max(t, vmin)
    if vmax is not None:
        t = min(t, vmax)
    return FeatureTarget(target=t, min=vmin, max=vmax, weight=round(max(0.0, float(weight)), 2))


@dataclass(frozen=True)
class _Stats:
    """What every recipe needs to know about one set of examples against the rest."""

    raw: np.ndarray  # (e, F) raw example rows
    known: np.ndarray  # (F,) bool: the feature is informative for these examples (mode may be unknown)
    separation: np.ndarray  # (F,) standardised mean difference, best = 1
    logistic: np.ndarray  # (F,) coefficients on standardised features, largest |.| = 1
    spread: np.ndarray  # (F,) standard deviation of all rows, normalised units


def _logistic(z: np.ndarray, y: np.ndarray, ridge: float = 1.0, steps: int = 12) -> np.ndarray:
    """Class-balanced L2-regularised logistic regression by Newton steps (z already standardised)."""
    n, f = z.shape
    sample_w = np.where(y, 0.5 / max(1, y.sum()), 0.5 / max(1, (~y).sum())) * n
    design = np.hstack([z, np.ones((n, 1))])
    beta = np.zeros(f + 1)
    penalty = np.full(f + 1, ridge)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -30, 30)))
        grad = design.T @ (sample_w * (p - y)) + penalty * beta
        hess = (design * (sample_w * p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        beta -= np.linalg.solve(hess, grad)
    return beta[:-1]


def _stats(norm: np.ndarray, raw: np.ndarray, mask: np.ndarray) -> _Stats:
    examples, rest = norm[mask], norm[~mask]
    known = np.ones(len(FEATURES), dtype=bool)
    known[MODE] = bool((raw[mask, MODE] != UNKNOWN_MODE).any())
    spread = norm.std(axis=0)
    known &= spread > 1e-9
    separation = np.zeros(len(FEATURES))
    logistic = np.zeros(len(FEATURES))
    if len(rest):
        pooled = np.sqrt((examples.var(axis=0) + rest.var(axis=0)) / 2) + 1e-3
        separation = np.where(known, np.abs(examples.mean(axis=0) - rest.mean(axis=0)) / pooled, 0.0)
        if separation.max() > 0:
            separation = separation / separation.max()
        if len(rest) > MAX_REST_ROWS:  # a fixed subsample keeps this cheap and deterministic
            rest = rest[np.random.default_rng(0).choice(len(rest), MAX_REST_ROWS, replace=False)]
        cols = np.flatnonzero(known)
        both = np.vstack([examples[:, cols], rest[:, cols]])
        mean, sd = both.mean(axis=0), both.std(axis=0) + 1e-9
        y = np.r_[np.ones(len(examples), bool), np.zeros(len(rest), bool)]
        coef = _logistic((both - mean) / sd, y)
        logistic[cols] = coef / (np.abs(coef).max() or 1.0)
    return _Stats(raw=raw[mask], known=known, separation=separation, logistic=logistic, spread=spread)


def _values(stats: _Stats, f: int) -> np.ndarray:
    values = stats.raw[:, f]
    return values[values != UNKNOWN_MODE] if f == MODE else values


# ---- recipes: each turns example statistics (and maybe the current mood) into features ----

def _centre(widen: float | None, range_from: float = 0.0) -> Callable[[_Stats, MoodDefinition | None], Features]:
    """Median target, separation weight, percentile range widened by ``widen`` of the domain.

    ``widen=None`` gives no ranges; ``range_from`` keeps ranges only on features weighted at
    least that much (ranges on weak features mostly exclude good tracks).
    """
    def recipe(stats: _Stats, current: MoodDefinition | None) -> Features:
        out: Features = {}
        for f, name in enumerate(FEATURES):
            values = _values(stats, f)
            if not stats.known[f] or len(values) == 0:
                continue
            weight = stats.separation[f] if stats.separation.any() else 1.0
            if weight < MIN_WEIGHT:
                continue
            lo_dom, hi_dom = DOMAINS[name]
            vmin = vmax = None
            if widen is not None and weight >= range_from:
                low, high = np.percentile(values, RANGE_PERCENTILES)
                vmin, vmax = low - widen * (hi_dom - lo_dom), high + widen * (hi_dom - lo_dom)
            out[name] = _target(name, float(np.median(values)), vmin, vmax, weight)
        return out
    return recipe


def _discriminative(edge_percentile: float, per_unit: bool) -> Callable[[_Stats, MoodDefinition | None], Features]:
    """Targets pushed to the examples' far side along the logistic direction, weights from it.

    A squared distance to a far-away point ranks rows almost linearly, so this approximates the
    classifier with the engine's own scoring. ``per_unit`` rescales weights from standardised to
    normalised units (features with a small spread get more weight), the other variant keeps them.
    """
    def recipe(stats: _Stats, current: MoodDefinition | None) -> Features:
        weights = np.abs(stats.logistic)
        if per_unit:
            weights = weights / np.maximum(stats.spread, 0.05)
        if weights.max() <= 0:
            return {}
        weights = weights / weights.max()
        out: Features = {}
        for f, name in enumerate(FEATURES):
            values = _values(stats, f)
            if not stats.known[f] or len(values) == 0 or weights[f] < MIN_WEIGHT:
                continue
            q = edge_percentile if stats.logistic[f] > 0 else 100 - edge_percentile
            out[name] = _target(name, float(np.percentile(values, q)), weight=weights[f])
        return out
    return recipe


def _nudged(share: float) -> Callable[[_Stats, MoodDefinition | None], Features]:
    """The current mood's targets moved ``share`` of the way to the examples' medians.

    Ranges are widened just enough to hold the examples' 10th-90th percentile band; weights are
    kept. Features the current mood does not mention are left out.
    """
    def recipe(stats: _Stats, current: MoodDefinition | None) -> Features:
        out: Features = {}
        for name, spec in (current.features.items() if current else ()):
            f = FEATURES.index(name)
            values = _values(stats, f)
            if not stats.known[f] or len(values) == 0:
                out[name] = spec
                continue
            low, high = np.percentile(values, RANGE_PERCENTILES)
            vmin = None if spec.min is None else min(spec.min, low)
            vmax = None if spec.max is None else max(spec.max, high)
            target = (1 - share) * spec.target + share * float(np.median(values))
            out[name] = _target(name, target, vmin, vmax, spec.weight)
        return out
    return recipe


def _reweighted(stats: _Stats, current: MoodDefinition | None) -> Features:
    """The current mood with weights blended toward how well each feature separates the examples."""
    out: Features = {}
    for name, spec in (current.features.items() if current else ()):
        f = FEATURES.index(name)
        sep = stats.separation[f] if stats.known[f] else 0.0
        out[name] = _target(name, spec.target, spec.min, spec.max, 0.5 * spec.weight + 0.5 * sep)
    return out


_RECIPES: tuple[tuple[str, Callable[[_Stats, MoodDefinition | None], Features], bool], ...] = (
    # (name, recipe, needs the current mood)
    ("centre, ranges +10%", _centre(RANGE_WIDEN), False),
    ("centre, ranges +0%", _centre(0.0), False),
    ("centre, ranges +25%", _centre(0.25), False),
    ("centre, no ranges", _centre(None), False),
    ("centre, ranges on strong features", _centre(0.05, range_from=0.5), False),
    ("discriminative", _discriminative(90, per_unit=False), False),
    ("discriminative, per unit", _discriminative(90, per_unit=True), False),
    ("discriminative, near edge", _discriminative(75, per_unit=False), False),
    ("current, nudged 30%", _nudged(0.3), True),
    ("current, nudged 60%", _nudged(0.6), True),
    ("current, reweighted", _reweighted, True),
)


def _as_mood(features: Features, base: MoodDefinition | None) -> MoodDefinition:
    if base is None:
        base = MoodDefinition(slug="proposal", name="Proposal", colour="#000000", valence=0.5, arousal=0.5,
                              features={"energy": FeatureTarget(target=0.5)})
    # The features are valid by construction (_target); only they change.
    return base.model_copy(update={"features": features})


def _holdout_folds(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two (fit, judge) halves of the example rows, fixed for a given mask."""
    rows = np.flatnonzero(mask)
    order = np.random.default_rng(0).permutation(rows)
    a, b = np.sort(order[: len(rows) // 2]), np.sort(order[len(rows) // 2:])
    folds = []
    for fit, judge in ((a, b), (b, a)):
        fit_mask = np.zeros_like(mask)
        fit_mask[fit] = True
        judge_mask = np.zeros_like(mask)
        judge_mask[judge] = True
        folds.append((fit_mask, judge_mask))
    return folds


def propose_mood_features(catalogue: Catalogue, example_mask: np.ndarray, *,
                          current: MoodDefinition | None = None, k: int = 20) -> dict[str, FeatureTarget]:
    """Suggest feature targets from example tracks (``example_mask`` selects catalogue rows).

    Tries the recipes above and returns the one with the best precision@k on the examples
    (averaged with a held-out precision when there are at least ``MIN_EXAMPLES_FOR_HOLDOUT``
    examples). With ``current``, a candidate must find the examples at least as well as
    ``current`` does and must beat it overall; otherwise ``current.features`` is returned
    unchanged. Without ``current`` the best candidate is returned. Mode is skipped when the
    examples' mode is unknown. Every range returned passes ``parse_mood``.
    """
    mask = np.asarray(example_mask, dtype=bool)
    if mask.shape != (len(catalogue),) or not mask.any():
        raise ValueError("example_mask must select at least one catalogue row")
    raw = catalogue.features.astype(np.float64)
    norm = normalise(raw)
    stats = _stats(norm, raw, mask)
    recipes = [(name, fn) for name, fn, needs_current in _RECIPES if current is not None or not needs_current]
    folds = _holdout_folds(mask) if mask.sum() >= MIN_EXAMPLES_FOR_HOLDOUT else []
    fold_stats = [_stats(norm, raw, fit) for fit, _ in folds]

    def held_out(features_for_fold: Callable[[int], Features]) -> float:
        scores = []
        for i, (fit, judge) in enumerate(folds):
            features = features_for_fold(i)
            if not features:
                return 0.0
            scores.append(precision_at_k(catalogue, _as_mood(features, current), judge,
                                         k=min(k, int(judge.sum())), exclude=fit))
        return float(np.mean(scores))

    def score(full: float, heldout: float | None) -> float:
        return full if heldout is None else (full + heldout) / 2

    best: tuple[float, float, int] | None = None  # (score, full precision, -order)
    best_features: Features | None = None
    floor = -1.0
    if current is not None:
        floor = precision_at_k(catalogue, current, mask, k=k)
        current_heldout = held_out(lambda i: dict(current.features)) if folds else None
        best = (score(floor, current_heldout), floor, 1)
        best_features = dict(current.features)
    for order, (_, recipe) in enumerate(recipes):
        features = recipe(stats, current)
        if not features:
            continue
        full = precision_at_k(catalogue, _as_mood(features, current), mask, k=k)
        if full < floor:
            continue  # never show a proposal that finds fewer examples than the current mood
        heldout = held_out(lambda i, recipe=recipe: recipe(fold_stats[i], current)) if folds else None
        key = (score(full, heldout), full, -order)
        if best is None or key > best:
            best, best_features = key, features
    if best_features is None:  # only possible without a current mood and with degenerate data
        best_features = _centre(RANGE_WIDEN)(stats, None) or {"energy": FeatureTarget(target=0.5)}
    return best_features


def precision_at_k(catalogue: Catalogue, mood: MoodDefinition, label_mask: np.ndarray, k: int = 20,
                   *, exclude: np.ndarray | None = None) -> float:
    """Share of a steady k-track playlist for ``mood`` whose rows are in ``label_mask``.

    Uses a generous artist cap (the question is "does the mood find its tracks", not variety).
    ``exclude`` (a row mask) removes rows from the catalogue for this playlist. Returns 0.0 when
    nothing could be chosen.
    """
    label_mask = np.asarray(label_mask, dtype=bool)
    excluded = frozenset() if exclude is None else frozenset(str(i) for i in catalogue.ids[np.asarray(exclude, bool)])
    playlist = curate(
        catalogue, mood, mood, Length(tracks=k),
        CurateOptions(max_per_artist=max(20, k), seed=0, exclude_ids=excluded),
    )
    if not playlist.tracks:
        return 0.0
    hits = sum(bool(label_mask[catalogue.index_of(t.id)]) for t in playlist.tracks)
    return hits / k
