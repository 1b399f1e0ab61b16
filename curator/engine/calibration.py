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

from curator.engine.arc import Arc, build_arc
from curator.engine.catalogue import Catalogue
from curator.engine.curate import CurateOptions, Length, curate
from curator.engine.features import DOMAINS, FEATURES, MODE, UNKNOWN_MODE, normalise
from curator.engine.moods import FeatureTarget, MoodDefinition
from curator.engine.scoring import exact_distances

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


def _logistic(z: np.ndarray, y: np.ndarray, ridge: float = 1.0, steps: int = 12, with_intercept: bool = False):
    """Class-balanced L2-regularised logistic regression by Newton steps (z already standardised).

    Returns the coefficients, or (coefficients, intercept) with ``with_intercept``.
    """
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
    return (beta[:-1], float(beta[-1])) if with_intercept else beta[:-1]


def _known(norm: np.ndarray, raw: np.ndarray, mask: np.ndarray) -> np.ndarray:
    known = np.ones(len(FEATURES), dtype=bool)
    known[MODE] = bool((raw[mask, MODE] != UNKNOWN_MODE).any())
    return known & (norm.std(axis=0) > 1e-9)


def _design(norm: np.ndarray, known: np.ndarray, mask: np.ndarray,
            max_rest: int = MAX_REST_ROWS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(standardised rows, is-example, feature columns) for the logistic regression.

    The non-examples are a fixed subsample of at most ``max_rest``, which keeps it cheap.
    """
    examples, rest_rows = norm[mask], np.flatnonzero(~mask)
    if len(rest_rows) > max_rest:
        rest_rows = rest_rows[np.sort(np.random.default_rng(0).choice(len(rest_rows), max_rest, replace=False))]
    cols = np.flatnonzero(known)
    both = np.vstack([examples[:, cols], norm[rest_rows][:, cols]])
    mean, sd = both.mean(axis=0), both.std(axis=0) + 1e-9
    y = np.r_[np.ones(len(examples), bool), np.zeros(len(rest_rows), bool)]
    return (both - mean) / sd, y, cols


# Ridge penalties tried by cross-validation, and how many folds: all examples are used for the
# final fit, the folds only choose how strongly to shrink it.
RIDGES = (0.1, 1.0, 10.0, 100.0)
CV_FOLDS = 5
CV_REST_ROWS = 5_000  # non-examples seen by the cross-validation (the final fit sees MAX_REST_ROWS)


def _choose_ridge(norm: np.ndarray, raw: np.ndarray, mask: np.ndarray) -> float:
    """The ridge penalty with the lowest class-balanced held-out log-loss over stratified folds."""
    if mask.sum() < 2 * CV_FOLDS or (~mask).sum() < 2 * CV_FOLDS:
        return 1.0
    z, y, _ = _design(norm, _known(norm, raw, mask), mask, CV_REST_ROWS)
    fold = np.empty(len(y), dtype=np.int64)
    rng = np.random.default_rng(0)
    for cls in (True, False):  # stratified: each fold gets its share of examples and of the rest
        rows = rng.permutation(np.flatnonzero(y == cls))
        fold[rows] = np.arange(len(rows)) % CV_FOLDS
    losses = {}
    for ridge in RIDGES:
        loss = 0.0
        for f in range(CV_FOLDS):
            train, test = fold != f, fold == f
            coef, intercept = _logistic(z[train], y[train], ridge, with_intercept=True)
            p = 1.0 / (1.0 + np.exp(-np.clip(z[test] @ coef + intercept, -30, 30)))
            yt = y[test]
            loss -= np.mean(np.log(p[yt] + 1e-12)) + np.mean(np.log(1 - p[~yt] + 1e-12))
        losses[ridge] = loss
    return min(RIDGES, key=lambda r: (round(losses[r], 9), -r))  # ties go to the stronger penalty


def _stats(norm: np.ndarray, raw: np.ndarray, mask: np.ndarray, ridge: float = 1.0) -> _Stats:
    examples, rest = norm[mask], norm[~mask]
    known = _known(norm, raw, mask)
    spread = norm.std(axis=0)
    separation = np.zeros(len(FEATURES))
    logistic = np.zeros(len(FEATURES))
    if len(rest):
        pooled = np.sqrt((examples.var(axis=0) + rest.var(axis=0)) / 2) + 1e-3
        separation = np.where(known, np.abs(examples.mean(axis=0) - rest.mean(axis=0)) / pooled, 0.0)
        if separation.max() > 0:
            separation = separation / separation.max()
        z, y, cols = _design(norm, known, mask)
        coef = _logistic(z, y, ridge)
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


@dataclass(frozen=True)
class Proposal:
    """The proposed features and how they, and the current mood, find the examples.

    ``precision`` is measured on all the examples (in-sample: the proposal was fitted on them);
    ``held_out`` is the mean over split-halves, each half judged with the other half fitted on
    and left out of the catalogue (out of sample). None when there are too few examples.
    """

    features: Features
    precision: float
    held_out: float | None
    current_precision: float | None = None
    current_held_out: float | None = None


@dataclass(frozen=True)
class _Job:
    mood: MoodDefinition
    labels: np.ndarray  # rows that count as hits
    k: int
    exclude: np.ndarray | None  # rows left out of the catalogue for this playlist


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
    return propose(catalogue, example_mask, current=current, k=k).features


def propose(catalogue: Catalogue, example_mask: np.ndarray, *, current: MoodDefinition | None = None,
            k: int = 20) -> Proposal:
    """:func:`propose_mood_features` with the in-sample and held-out precision of the winner.

    Cost is linear in the catalogue: the candidate moods (each recipe and the current mood) are
    scored against every row in one blocked pass, and each playlist is then chosen among its
    candidate's nearest rows (see _nearest); a second pass does the same for the halves.
    """
    mask = np.asarray(example_mask, dtype=bool)
    if mask.shape != (len(catalogue),) or not mask.any():
        raise ValueError("example_mask must select at least one catalogue row")
    raw = catalogue.features.astype(np.float64)
    norm = normalise(raw)
    ridge = _choose_ridge(norm, raw, mask)
    stats = _stats(norm, raw, mask, ridge)
    recipes = [recipe for _, recipe, needs_current in _RECIPES if current is not None or not needs_current]
    folds = _holdout_folds(mask) if mask.sum() >= MIN_EXAMPLES_FOR_HOLDOUT else []
    fold_stats = [_stats(norm, raw, fit, ridge) for fit, _ in folds]

    # Every candidate: (features on all examples, features per half) -- current first, if given.
    candidates: list[tuple[Features, list[Features]]] = []
    if current is not None:
        candidates.append((dict(current.features), [dict(current.features)] * len(folds)))
    for recipe in recipes:
        features = recipe(stats, current)
        if features:
            candidates.append((features, [recipe(fs, current) for fs in fold_stats]))

    # Two rounds of one pass each: every candidate on all the examples, then the halves only for
    # candidates that find at least as many examples as the current mood (the others cannot win).
    full_jobs = [_Job(_as_mood(features, current), mask, k, None) for features, _ in candidates]
    full_precision = _precisions(catalogue, full_jobs)
    floor = full_precision[0] if current is not None else -1.0
    half_jobs: list[_Job] = []
    halves_of: dict[int, list[int | None]] = {}
    for c, (_, per_fold) in enumerate(candidates):
        if not folds or full_precision[c] < floor:
            continue
        halves_of[c] = []
        for (fit, judge), fold_features in zip(folds, per_fold):
            if fold_features:
                halves_of[c].append(len(half_jobs))
                half_jobs.append(_Job(_as_mood(fold_features, current), judge, min(k, int(judge.sum())), fit))
            else:
                halves_of[c].append(None)
    half_precision = _precisions(catalogue, half_jobs)

    def scores(c: int) -> tuple[float, float | None]:
        if not folds:
            return full_precision[c], None
        return full_precision[c], float(np.mean([0.0 if h is None else half_precision[h] for h in halves_of[c]]))

    def overall(full: float, heldout: float | None) -> float:
        return full if heldout is None else (full + heldout) / 2

    best: tuple[float, float, int] | None = None  # (score, full precision, -order)
    best_c: int | None = None
    current_scores: tuple[float | None, float | None] = (None, None)
    first = 0
    if current is not None:
        current_scores = scores(0)
        best, best_c, first = (overall(*current_scores), floor, 1), 0, 1
    for c in range(first, len(candidates)):
        if full_precision[c] < floor:
            continue  # never show a proposal that finds fewer examples than the current mood
        full, heldout = scores(c)
        key = (overall(full, heldout), full, -(c - first))
        if best is None or key > best:
            best, best_c = key, c
    if best_c is None:  # only possible without a current mood and with degenerate data
        features = _centre(RANGE_WIDEN)(stats, None) or {"energy": FeatureTarget(target=0.5)}
        full = precision_at_k(catalogue, _as_mood(features, current), mask, k=k)
        return Proposal(features, full, None)
    full, heldout = scores(best_c)
    return Proposal(candidates[best_c][0], full, heldout, *current_scores)


# Rows kept per candidate mood for choosing its playlist. The engine itself pre-selects 384 rows
# around each position; a steady 20-track playlist under a generous artist cap needs far fewer,
# and tests/engine/test_calibration.py checks the choices match the whole catalogue's.
POOL_PER_MOOD = 160
POOL_BLOCK = 65_536


def _nearest(catalogue: Catalogue, jobs: list[_Job]) -> list[np.ndarray]:
    """Per job, its POOL_PER_MOOD nearest rows inside its ranges and not excluded: one pass over all rows."""
    n = len(catalogue)
    if n <= POOL_PER_MOOD:
        return [np.arange(n) for _ in jobs]
    arc = _stacked_arc([job.mood for job in jobs])
    best_d = np.full((0, len(jobs)), np.inf)
    best_rows = np.empty((0, len(jobs)), dtype=np.int64)
    for begin in range(0, n, POOL_BLOCK):
        end = min(n, begin + POOL_BLOCK)
        d = exact_distances(catalogue.features[begin:end], arc)
        for j, job in enumerate(jobs):
            if job.exclude is not None:
                d[job.exclude[begin:end], j] = np.inf
        rows = np.broadcast_to(np.arange(begin, end)[:, None], d.shape)
        d, rows = np.vstack([best_d, d]), np.vstack([best_rows, rows])
        if len(d) > POOL_PER_MOOD:
            keep = np.argpartition(d, POOL_PER_MOOD - 1, axis=0)[:POOL_PER_MOOD]
            d, rows = np.take_along_axis(d, keep, axis=0), np.take_along_axis(rows, keep, axis=0)
        best_d, best_rows = d, rows
    return [np.sort(best_rows[np.isfinite(best_d[:, j]), j]) for j in range(len(jobs))]


def _stacked_arc(moods: list[MoodDefinition]) -> Arc:
    """One 'arc' whose positions are the given moods' steady points, to score them all at once."""
    arcs = [build_arc(m, m, 1) for m in moods]
    return Arc(fractions=np.zeros(len(arcs)), targets=np.vstack([a.targets for a in arcs]),
               weights=np.vstack([a.weights for a in arcs]), lower=np.vstack([a.lower for a in arcs]),
               upper=np.vstack([a.upper for a in arcs]), shape="linear")


def _precisions(catalogue: Catalogue, jobs: list[_Job]) -> list[float]:
    """precision_at_k of every job, each choosing among its own nearest rows (same picks, less work)."""
    if not jobs:
        return []
    return [precision_at_k(catalogue, job.mood, job.labels, k=job.k, exclude=job.exclude,
                           candidates=frozenset(str(i) for i in catalogue.ids[rows]))
            for job, rows in zip(jobs, _nearest(catalogue, jobs))]


def precision_at_k(catalogue: Catalogue, mood: MoodDefinition, label_mask: np.ndarray, k: int = 20,
                   *, exclude: np.ndarray | None = None, candidates: frozenset[str] | None = None) -> float:
    """Share of a steady k-track playlist for ``mood`` whose rows are in ``label_mask``.

    Uses a generous artist cap (the question is "does the mood find its tracks", not variety).
    ``exclude`` (a row mask) removes rows from the catalogue for this playlist; ``candidates``
    (track ids) restricts the choice to them. Returns 0.0 when nothing could be chosen.
    """
    label_mask = np.asarray(label_mask, dtype=bool)
    excluded = frozenset() if exclude is None else frozenset(str(i) for i in catalogue.ids[np.asarray(exclude, bool)])
    playlist = curate(
        catalogue, mood, mood, Length(tracks=k),
        CurateOptions(max_per_artist=max(20, k), seed=0, exclude_ids=excluded, candidate_ids=candidates),
    )
    if not playlist.tracks:
        return 0.0
    hits = sum(bool(label_mask[catalogue.index_of(t.id)]) for t in playlist.tracks)
    return hits / k
