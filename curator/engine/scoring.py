"""How far each track is from each position's target — vectorised, never a Python loop over rows.

Distance. For a position with normalised target t and weights w (sum-normalised), a track with
normalised features x is at   d = sqrt( sum_f w_f (x_f - t_f)^2 ).   That is a weighted RMS gap on
the ~0..1 scale, so 0.1 reads as "about a tenth of each feature's range off".

Hard ranges. A mood's min/max are *exclusions*, not penalties: a row outside the (interpolated)
range of a position gets distance +inf there and is never chosen for it. A listener who asks for
"calm" should never hear a track louder than calm's declared ceiling; if that leaves too few
tracks the playlist comes back short with a message saying why. An unknown mode (stored 0.5)
passes any mode range — missing data is not evidence against a track.

The speed trick (pre-selection). Scoring 1M rows x 50 positions exactly would be 50 passes over a
40 MB matrix. Instead:
  1. pick up to 10 *anchor* positions spread along the arc (the scan's cost grows with them;
     with 8, mid-gap positions of a long arc over a dense catalogue start to miss their best
     track — tests/engine/test_curate.py::test_preselection_matches_exhaustive_search);
  2. expand the squared distance,  sum_f u_f (x_f - c_f)^2 = (x*x) . u - 2 x . (u*c) + const,
     so the distances of every row to every anchor are two small matrix products (n x 10 @ 10 x A)
     on the raw float32 matrix. Normalisation is folded into u = w / span^2 and c = raw target,
     which is why the catalogue needs no normalised copy. The scan runs in blocks of
     SCAN_BLOCK rows; the small products of exact scoring stay below OpenBLAS's threading
     threshold (see SINGLE_THREAD_MNK);
  3. instead of an argpartition per anchor (slow on 1M rows), estimate each anchor's k-th
     smallest distance from a fixed sample of rows and keep every row under any anchor's
     threshold — one comparison pass. The union is a few thousand rows;
  4. score all positions exactly (float64) on that small set.
The scan's answer is remembered per arc with the catalogue (``memo``): a mood pair asked for
again does not touch every row.

The scan matrix. A catalogue keeps, beside its feature matrix and built with it (stored and
memory-mapped with the other columns, so web workers share it), the rows as [x*x, x, 1]
transposed: (2F + 1, n) float32 (``Catalogue.scan``, 84 bytes a row). An anchor's squared
distance less its threshold is then one dot product with [u, -2 u c, const - threshold], and the
scan is one small row-major product per block of SCAN_COLUMNS rows, about a fifth of the cost of
two products on the row-major matrix (see docs/benchmarks.md).

Certified radii (:func:`certified_preselect`). Every row left out is farther than its threshold
from every anchor. By the triangle inequality under an anchor's weights, and the ratio of the
anchor's weights to a position's, that puts a lower bound on how far a left-out row can be from
any position of the arc: each position gets a radius within which every row is among the
pre-selected ones. A choice that looked no further than its position's radius is the choice
scoring every row would make (curate checks this, and widens the search when it does not hold).
"""
from __future__ import annotations

import math

import numpy as np

from curator.engine.arc import LONG_ARC, Arc
from curator.engine.catalogue import remember
from curator.engine.features import MODE, SCALE_LO, SCALE_SPAN, UNKNOWN_MODE, normalise

MAX_ANCHORS = 10
THRESHOLD_SAMPLE = 32_768
# OpenBLAS hands a matrix product to all its threads once m*n*k exceeds about 262k multiply-adds
# (65536 x its GEMM_MULTITHREAD_THRESHOLD of 4). Our products are skinny (k = 10 features) and
# waking those threads costs far more than the arithmetic: on the 2-core dev machine one
# (12 x 10) @ (10 x 32768) product took ~8 ms threaded against ~0.1 ms on one thread, and worse
# under load. So the exact-scoring products are cut into row blocks below that size.
SINGLE_THREAD_MNK = 200_000
# Rows per block of the pre-selection scan over the whole catalogue. Web workers run OpenBLAS on
# one thread (curator/blas.py): several workers' BLAS threads fighting for two cores made the
# engine 3-6x slower under load. On one thread, blocks of 16k rows (temporaries of ~1.3 MB that
# stay in cache) are as fast as any size measured (see docs/benchmarks.md); a process that allows
# more BLAS threads (the CLI, benchmarks) still threads the larger products on its own.
SCAN_BLOCK = 16_384
# Rows per block of the scan over the scan matrix: an (anchors x 21) @ (21 x 4096) product and its
# (anchors x 4096) result stay in cache (measured fastest of 1k-16k on the dev machine).
SCAN_COLUMNS = 4_096
# Absolute slack on squared distances between the float32 scan and exact float64 scoring (the scan
# sums terms of size ~1 in float32: its error is ~1e-6); a radius is certified only this far inside.
SCAN_SLACK = 1e-5
# Pre-selected rows remembered per catalogue (one entry per distinct arc: mood pair, shape, length).
MEMO_ENTRIES = 256
# The threshold of each anchor is estimated as about this rank within the sample: enough rows for
# a stable quantile (the exhaustive-search test still matches at 16), without partitioning a
# bigger sample than that needs.
THRESHOLD_RANK = 16
CERTIFIED_RANK = 8


def normalised_weights(weights: np.ndarray) -> np.ndarray:
    """Scale each row of weights to sum 1 (all-zero rows become uniform)."""
    w = np.asarray(weights, dtype=np.float64)
    totals = w.sum(axis=-1, keepdims=True)
    uniform = np.full_like(w, 1.0 / w.shape[-1])
    return np.where(totals > 0, w / np.where(totals > 0, totals, 1.0), uniform)


def weighted_distance(norm_features: np.ndarray, norm_target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted RMS distance between normalised feature vectors (broadcasts over leading axes)."""
    return normalised_distance(norm_features, norm_target, normalised_weights(weights))


def normalised_distance(norm_features: np.ndarray, norm_target: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`weighted_distance` with weights already through :func:`normalised_weights`."""
    diff = np.asarray(norm_features, dtype=np.float64) - norm_target
    return np.sqrt(np.sum(w * diff * diff, axis=-1))


def range_mask(raw: np.ndarray, arc: Arc) -> np.ndarray:
    """(rows, positions) bool: is the row inside every hard range at that position?"""
    raw = np.asarray(raw)
    ok = np.ones((raw.shape[0], len(arc)), dtype=bool)
    bounded = np.flatnonzero(np.isfinite(arc.lower).any(axis=0) | np.isfinite(arc.upper).any(axis=0))
    for f in bounded:  # at most len(FEATURES) iterations, each vectorised over rows x positions
        col = raw[:, f].astype(np.float64)[:, None]
        # A little slack so a float32-stored 0.3 still counts as inside [.., 0.3].
        lo = arc.lower[:, f] - 1e-6 * np.maximum(1.0, np.abs(arc.lower[:, f]))
        hi = arc.upper[:, f] + 1e-6 * np.maximum(1.0, np.abs(arc.upper[:, f]))
        inside = (col >= lo[None, :]) & (col <= hi[None, :])
        if f == MODE:
            inside |= col == UNKNOWN_MODE
        ok &= inside
    return ok


def block_rows(columns: int, features: int) -> int:
    """Rows per block so that a (rows x features) @ (features x columns) product stays single-threaded."""
    return max(64, SINGLE_THREAD_MNK // max(1, columns * features))


def exact_distances(raw: np.ndarray, arc: Arc, ranges: bool = True) -> np.ndarray:
    """(rows, positions) float64 distances; +inf where a row breaks a position's hard range
    (unless ``ranges`` is False: how far a listener's locked track is, wherever it sits)."""
    x = normalise(raw)
    w = normalised_weights(arc.weights)
    t = arc.targets
    quad, lin = np.ascontiguousarray(w.T), np.ascontiguousarray(-2.0 * (w * t).T)
    d2 = np.empty((x.shape[0], len(arc)))
    step = block_rows(len(arc), x.shape[1])
    for begin in range(0, x.shape[0], step):  # see SINGLE_THREAD_MNK
        block = x[begin : begin + step]
        np.matmul(block * block, quad, out=d2[begin : begin + step])
        d2[begin : begin + step] += block @ lin
    d2 += np.sum(w * t * t, axis=1)[None, :]
    dist = np.sqrt(np.maximum(d2, 0.0))
    if ranges:
        dist[~range_mask(raw, arc)] = math.inf
    return dist


def anchor_positions(arc: Arc, max_anchors: int = MAX_ANCHORS) -> np.ndarray:
    """Evenly spread positions along the arc, without repeating identical targets.

    A long arc (more than LONG_ARC positions) holds its target over its last stretch; the anchors
    are spread over the positions before that stretch and its first one, not wasted on its copies.
    """
    last = len(arc) - 1
    if len(arc) > LONG_ARC:
        same = np.all(np.isclose(arc.targets, arc.targets[-1]) & np.isclose(arc.weights, arc.weights[-1]), axis=1)
        while last > 0 and same[last - 1]:
            last -= 1
    picks = np.unique(np.round(np.linspace(0, last, min(last + 1, max_anchors))).astype(int))
    keyed = np.round(np.concatenate([arc.targets[picks], arc.weights[picks]], axis=1), 9) + 0.0  # no -0.0
    first: dict[bytes, int] = {}
    for pick, row in zip(picks.tolist(), keyed):  # at most MAX_ANCHORS rows
        first.setdefault(row.tobytes(), pick)
    return np.array(list(first.values()), dtype=picks.dtype)


def _anchor_terms(arc: Arc, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fold normalisation into the weights so distances come straight from raw features.

    Returned transposed-for-speed: (A, F), (A, F), (A, 1), so results are (anchors, rows) and the
    "nearest anchor" reduction runs along contiguous memory.
    """
    w = normalised_weights(arc.weights[anchors])
    u = w / (SCALE_SPAN**2)  # per raw-unit squared
    c = arc.targets[anchors] * SCALE_SPAN + SCALE_LO  # raw-unit targets
    quad = np.ascontiguousarray(u, dtype=np.float32)  # multiplies x*x
    lin = np.ascontiguousarray(-2.0 * u * c, dtype=np.float32)  # multiplies x
    const = np.sum(u * c * c, axis=1, keepdims=True).astype(np.float32)
    return quad, lin, const


def _anchor_sq_distances(block: np.ndarray, quad: np.ndarray, lin: np.ndarray, const: np.ndarray) -> np.ndarray:
    """(anchors, rows) squared distances of a block of raw rows to every anchor."""
    out = quad @ (block * block).T
    out += lin @ block.T
    out += const
    return out


def _sq_distances(features: np.ndarray, quad: np.ndarray, lin: np.ndarray, const: np.ndarray) -> np.ndarray:
    """(anchors, rows) squared distances of any number of raw rows, in single-threaded blocks."""
    step = block_rows(quad.shape[0], features.shape[1])
    return np.concatenate(
        [_anchor_sq_distances(features[b : b + step], quad, lin, const) for b in range(0, len(features), step)],
        axis=1,
    )


def anchor_terms(arc: Arc, positions: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pre-selection's anchors of ``arc`` (or the given positions as anchors) as (quad, lin,
    const) terms (see :func:`preselect`)."""
    anchors = anchor_positions(arc) if positions is None else np.asarray(positions, dtype=np.int64)
    return _anchor_terms(arc, anchors)


def preselect(features: np.ndarray, arc: Arc, per_anchor: int, sample: np.ndarray | None = None,
              memo: dict | None = None, terms: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Row indices (sorted) of roughly the ``per_anchor`` nearest rows to each anchor, unioned.

    ``features`` is the raw float32 (n, F) matrix. ``sample`` is a fixed set of row indices used
    to estimate the per-anchor distance thresholds. Approximate by design; see module docstring.
    ``memo`` (kept with the catalogue, see ``Catalogue.preselection_memo``) remembers the answer
    per arc: it depends only on the matrix, the sample and the anchors' targets and weights, so
    a mood pair asked for again skips the scan and gets the very same rows (read-only).
    ``terms``: :func:`anchor_terms` of ``arc``, when the caller has them already.
    """
    n = features.shape[0]
    if per_anchor >= n:
        return np.arange(n)
    quad, lin, const = terms if terms is not None else anchor_terms(arc)
    if memo is None:
        return _scan(features, per_anchor, sample, quad, lin, const)
    key = (per_anchor, quad.tobytes(), lin.tobytes(), const.tobytes())
    rows = memo.get(key)
    if rows is None:
        rows = _scan(features, per_anchor, sample, quad, lin, const)
        rows.setflags(write=False)
        remember(memo, key, rows, MEMO_ENTRIES)
    return rows


def certified_preselect(features: np.ndarray, arc: Arc, per_anchor: int, sample: np.ndarray, scan: np.ndarray,
                        memo: dict | None = None, anchors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`preselect` over the whole catalogue through its scan matrix, and a radius per arc
    position: every row within ``radius[p]`` of position ``p`` is among the rows returned (see
    the module docstring). ``anchors``: positions to scan around (default :func:`anchor_positions`).
    Remembered per (arc, anchors) in ``memo``; both arrays read-only."""
    anchors = anchor_positions(arc) if anchors is None else np.asarray(anchors, dtype=np.int64)
    quad, lin, const = _anchor_terms(arc, anchors)
    key = None
    if memo is not None:
        key = ("certified", per_anchor, quad.tobytes(), lin.tobytes(), const.tobytes(),
               np.ascontiguousarray(arc.targets).tobytes(), np.ascontiguousarray(arc.weights).tobytes())
        kept = memo.get(key)
        if kept is not None:
            return kept
    n = features.shape[0]
    if per_anchor >= n:
        rows, radius = np.arange(n), np.full(len(arc), math.inf)
    else:
        thresholds = _thresholds(features, per_anchor, sample, quad, lin, const, scan)
        rows = _scan_columns(scan, quad, lin, const - thresholds)
        radius = _radii(arc, anchors, thresholds[:, 0])
    rows.setflags(write=False)
    radius.setflags(write=False)
    if memo is not None:
        remember(memo, key, (rows, radius), MEMO_ENTRIES)
    return rows, radius


def _scan_columns(scan: np.ndarray, quad: np.ndarray, lin: np.ndarray, shifted: np.ndarray) -> np.ndarray:
    """Rows whose squared distance to some anchor less its threshold is <= 0, through the scan matrix."""
    terms = np.ascontiguousarray(np.concatenate([quad, lin, shifted], axis=1), dtype=np.float32)  # (A, 2F + 1)
    n = scan.shape[1]
    out = np.empty((terms.shape[0], min(n, SCAN_COLUMNS)), dtype=np.float32)
    least = np.empty(out.shape[1], dtype=np.float32)
    found = []
    for begin in range(0, n, SCAN_COLUMNS):
        end = min(n, begin + SCAN_COLUMNS)
        block = out[:, : end - begin]
        np.matmul(terms, scan[:, begin:end], out=block)
        hits = np.flatnonzero(np.minimum.reduce(block, axis=0, out=least[: end - begin]) <= 0)
        if hits.size:
            found.append(hits + begin)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def _radii(arc: Arc, anchors: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per position, how far every row the scan left out is at least (see the module docstring).

    A left-out row x is farther than theta_a from every anchor a (its squared threshold less the
    scan's slack). Under anchor a's weights, d_a(x, t_a) <= d_a(x, t_p) + d_a(t_p, t_a), and
    d_a(x, t_p) <= k d_p(x, t_p) with k^2 the largest ratio of a's weight to p's over the
    features a weighs. So d_p(x) >= (theta_a - d_a(t_p, t_a)) / k for every anchor a; at an
    anchor's own position (or one with the same target and weights) that is theta_a itself.
    """
    w = normalised_weights(arc.weights)  # (P, F)
    t = arc.targets
    theta = np.sqrt(np.maximum(thresholds.astype(np.float64) - SCAN_SLACK, 0.0))  # (A,)
    wa, ta = w[anchors], t[anchors]  # (A, F)
    gap = np.sqrt(np.einsum("af,paf->pa", wa, (t[:, None, :] - ta[None, :, :]) ** 2))  # d_a(t_p, t_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(wa[None, :, :] > 0, wa[None, :, :] / w[:, None, :], 0.0)  # (P, A, F); inf where p ignores it
        k = np.sqrt(ratio.max(axis=2))
        bound = np.where(np.isfinite(k) & (k > 0), (theta[None, :] - gap) / k, 0.0)
    return np.maximum(bound.max(axis=1), 0.0) * (1.0 - 1e-9)


def _thresholds(features: np.ndarray, per_anchor: int, sample: np.ndarray | None, quad: np.ndarray,
                lin: np.ndarray, const: np.ndarray, scan: np.ndarray | None = None) -> np.ndarray:
    """(A, 1) squared distance of about each anchor's ``per_anchor``-th nearest row, from a sample."""
    n = features.shape[0]
    if sample is None or len(sample) == 0:
        sample = np.random.default_rng(0).choice(n, size=min(n, THRESHOLD_SAMPLE), replace=False)
    # Through the scan matrix (the certified scans, anchored at every position) a rank of about
    # CERTIFIED_RANK is enough: their radii come from the thresholds as they are, and halving the
    # sample halves the partition of (anchors x sample) distances, most of a new arc's cost at 100k.
    wanted = max(4_096, math.ceil((THRESHOLD_RANK if scan is None else CERTIFIED_RANK) * n / per_anchor))
    sample = sample[:: max(1, len(sample) // wanted)]
    if scan is None:
        sample_d = _sq_distances(features[sample], quad, lin, const)
    else:
        terms = np.ascontiguousarray(np.concatenate([quad, lin, const], axis=1), dtype=np.float32)
        sample_d = terms @ scan[:, sample]
    s = len(sample)
    rank = min(s - 1, max(8, math.ceil(per_anchor * s / n)))
    return np.partition(sample_d, rank, axis=1)[:, rank : rank + 1]


def _scan(features: np.ndarray, per_anchor: int, sample: np.ndarray | None, quad: np.ndarray, lin: np.ndarray,
          const: np.ndarray) -> np.ndarray:
    """One pass over every row: those within some anchor's estimated threshold."""
    n = features.shape[0]
    if sample is None or len(sample) == 0:
        sample = np.random.default_rng(0).choice(n, size=min(n, THRESHOLD_SAMPLE), replace=False)
    # Only as many sample rows as put the threshold near THRESHOLD_RANK (a strided subset of a
    # random sample is still a random sample, and the same one every time).
    wanted = max(4_096, math.ceil(THRESHOLD_RANK * n / per_anchor))
    sample = sample[:: max(1, len(sample) // wanted)]
    sample_d = _sq_distances(features[sample], quad, lin, const)
    s = len(sample)
    rank = min(s - 1, max(8, math.ceil(per_anchor * s / n)))
    thresholds = np.partition(sample_d, rank, axis=1)[:, rank : rank + 1]  # (A, 1)
    const_shifted = const - thresholds  # distance - threshold <= 0  <=>  row is "near" the anchor
    found = []
    for begin in range(0, n, SCAN_BLOCK):
        d = _anchor_sq_distances(features[begin : begin + SCAN_BLOCK], quad, lin, const_shifted)
        hits = np.flatnonzero(d.min(axis=0) <= 0)
        if hits.size:
            found.append(hits + begin)
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)
