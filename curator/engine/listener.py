"""Where listeners would place a track on the valence/arousal circle, estimated from its audio features.

Spotify's "valence" and "energy" are not what listeners feel: quiet acoustic music that a mood
editor files under calm is often what listeners tag as sad. So we learn two linear estimates,
*listener valence* and *listener arousal*, from tracks whose listeners rated them (Last.fm tags
scored with human word ratings), by ridge regression on the engine's normalised features with the
regularisation chosen by cross-validation over artist folds (see bench/curation_quality.py).

How a mood uses them. A mood's circumplex point (valence, arousal, 0..1) says where listeners
should place its picks, and its ``listener_pull`` how strongly that counts. The pull adds a linear
preference to the engine's weighted squared distance:

    d^2 = sum_f w_f (x_f - t_f)^2  -  2 * pull * LEAN * (g . x),
    g = (valence - 0.5) * beta_valence + (arousal - 0.5) * beta_arousal

i.e. "more of whatever listeners hear as being on this mood's side of the circle". A linear term
added to a weighted squared distance is the same as moving the targets, t_f' = t_f + pull * LEAN *
g_f / w_f, so the scoring kernel needs no change: :func:`scoring_features` returns the moved
targets (kept inside each feature's range, so charts and reasons stay readable). Features the
mood does not weigh are left alone: the pull only bends what the curator asked for.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from curator.engine.features import FEATURE_INDEX, FEATURES, SCALES, normalise

# Features the listener estimate uses. Mode is left out: many catalogues do not know it, and in
# the listener-rated data it carries next to nothing (|r| < 0.05).
MODEL_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f != "mode")
_MODEL_INDEX = np.array([FEATURES.index(f) for f in MODEL_FEATURES])

# Strength of a pull of 1.0, on the 0..1 feature scale: a mood at the edge of the circle with
# equal weights moves a target by at most LEAN/2. Swept over 0.25/0.5/1/2 with
# `python -m bench.curation_quality --lean X` (docs/curation-quality.md): 1 and 2 gained listener
# hits within noise and cost labelled precision (2 halves melancholic's), so 0.5.
LEAN = 0.5


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: moods cache their moved targets per model
class ListenerModel:
    """Two linear estimates on normalised features (0..1 scale), in listener-rating SD units."""

    valence: Mapping[str, float]  # per-feature coefficient, plus "intercept"
    arousal: Mapping[str, float]
    alpha: float  # ridge penalty chosen by cross-validation
    folds: int
    n: int
    r_out_of_fold: tuple[float, float]  # correlation with listener ratings, (valence, arousal)
    r_in_sample: tuple[float, float]

    def coefficients(self, which: str) -> np.ndarray:
        """Coefficient vector over FEATURES (zero for features the model does not use); a copy."""
        return self._vectors[0 if which == "valence" else 1].copy()

    @cached_property
    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        return tuple(np.array([float(coef.get(f, 0.0)) for f in FEATURES]) for coef in (self.valence, self.arousal))

    def estimate(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(listener valence, listener arousal) estimates for raw feature rows (n, FEATURES)."""
        x = normalise(raw)
        return (x @ self.coefficients("valence") + float(self.valence.get("intercept", 0.0)),
                x @ self.coefficients("arousal") + float(self.arousal.get("intercept", 0.0)))

    @cached_property
    def scale(self) -> float:
        """The largest coefficient of either estimate: directions are measured against it."""
        return float(max(np.abs(v).max() for v in self._vectors)) or 1.0

    def direction(self, valence: float, arousal: float) -> np.ndarray:
        """g over FEATURES: the feature direction toward a circumplex point, from the circle's centre."""
        v, a = self._vectors
        return (valence - 0.5) * v + (arousal - 0.5) * a


def _ridge(z: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Ridge regression with an unpenalised intercept; returns (coefficients..., intercept)."""
    n, f = z.shape
    design = np.hstack([z, np.ones((n, 1))])
    penalty = np.eye(f + 1) * alpha
    penalty[-1, -1] = 0.0
    return np.linalg.solve(design.T @ design + penalty, design.T @ y)


def artist_folds(artists: Sequence[str], k: int) -> np.ndarray:
    """Fold number (0..k-1) per track, every track of one artist in the same fold, fixed by name."""
    import hashlib

    def fold(name: str) -> int:
        digest = hashlib.blake2b(name.strip().lower().encode(), digest_size=4).digest()
        return int.from_bytes(digest, "little") % k

    return np.array([fold(a) for a in artists])


def fit_listener_model(raw: np.ndarray, tag_valence: np.ndarray, tag_arousal: np.ndarray,
                       folds: np.ndarray, alphas: Sequence[float] = (0.1, 1, 3, 10, 30, 100, 300, 1000)
                       ) -> ListenerModel:
    """Fit both estimates on all rows; choose one ridge penalty by out-of-fold squared error.

    ``folds`` assigns each row to a cross-validation fold (split by artist, so an artist's other
    songs never help predict its own). Targets are scaled to unit SD so both outputs share one scale.
    """
    x = normalise(np.asarray(raw, dtype=np.float64))[:, _MODEL_INDEX]
    mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / sd
    ys = [np.asarray(y, dtype=np.float64) for y in (tag_valence, tag_arousal)]
    ys = [(y - y.mean()) / (y.std() + 1e-12) for y in ys]
    fold_ids = np.unique(folds)

    def out_of_fold(alpha: float) -> list[np.ndarray]:
        preds = [np.zeros(len(y)) for y in ys]
        for k in fold_ids:
            train = folds != k
            for y, pred in zip(ys, preds):
                beta = _ridge(z[train], y[train], alpha)
                pred[~train] = z[~train] @ beta[:-1] + beta[-1]
        return preds

    errors = {a: sum(float(np.mean((p - y) ** 2)) for p, y in zip(out_of_fold(a), ys)) for a in alphas}
    alpha = min(alphas, key=lambda a: (errors[a], -a))  # ties go to the stronger penalty
    oof = out_of_fold(alpha)
    fitted = []
    in_sample = []
    for y in ys:
        beta = _ridge(z, y, alpha)
        in_sample.append(float(np.corrcoef(z @ beta[:-1] + beta[-1], y)[0, 1]))
        per_unit = beta[:-1] / sd  # back to the normalised (0..1) feature scale
        coef = {f: round(float(c), 4) for f, c in zip(MODEL_FEATURES, per_unit)}
        coef["intercept"] = round(float(beta[-1] - per_unit @ mean), 4)
        fitted.append(coef)
    return ListenerModel(
        valence=fitted[0], arousal=fitted[1], alpha=float(alpha), folds=len(fold_ids), n=len(ys[0]),
        r_out_of_fold=tuple(round(float(np.corrcoef(p, y)[0, 1]), 3) for p, y in zip(oof, ys)),
        r_in_sample=tuple(round(r, 3) for r in in_sample),
    )


def lean_targets(features: Mapping[str, tuple[float, float]], valence: float, arousal: float, pull: float,
                 model: ListenerModel) -> dict[str, float]:
    """Raw targets moved by the listener pull. ``features`` maps name -> (raw target, weight).

    Only features with a positive weight move; each stays inside the feature's scale.
    """
    if pull <= 0:
        return {name: target for name, (target, _) in features.items()}
    total = sum(w for _, w in features.values())
    g = (model.direction(valence, arousal) / model.scale).tolist()
    out = {}
    for name, (target, weight) in features.items():
        lo, hi = SCALES[name]
        if weight <= 0 or total <= 0:
            out[name] = target
            continue
        share = weight / total  # the kernel normalises weights to sum 1
        shift = pull * LEAN * g[FEATURE_INDEX[name]] / (len(features) * share)
        moved = min(1.0, max(0.0, (target - lo) / (hi - lo) + shift))
        out[name] = moved * (hi - lo) + lo
    return out


# Fitted on ../shared/data/moods-va-dev.csv (1,147 tracks, 5 artist folds) by
# `python -m bench.curation_quality --fit-listener`; tests/engine/test_listener.py refits and compares.
SHIPPED_MODEL = ListenerModel(
    valence={'valence': 1.2061, 'energy': 0.6052, 'danceability': 0.2532, 'acousticness': 0.3569,
             'instrumentalness': -0.5574, 'speechiness': 0.2374, 'liveness': -0.1014, 'loudness': -0.7701,
             'tempo': 0.124, 'intercept': -0.6629},
    arousal={'valence': 0.7909, 'energy': 0.838, 'danceability': -0.3265, 'acousticness': 0.0358,
             'instrumentalness': -0.3533, 'speechiness': 0.8631, 'liveness': 0.4954, 'loudness': 0.0375,
             'tempo': 0.0563, 'intercept': -0.984},
    alpha=100.0, folds=5, n=1147, r_out_of_fold=(0.376, 0.317), r_in_sample=(0.401, 0.344),
)
