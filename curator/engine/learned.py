"""A mood's learned term: a logistic regression over standardised audio features, blended with its targets.

Curated targets say what a mood should sound like; labelled examples say which tracks people file
under it. The learned term is a small classifier fitted on such examples (a weight vector over the
standardised features and a bias, penalty chosen by cross-validation over artist folds), kept in
the mood definition beside the targets, and blended with them by ``weight`` (0 = the targets
alone, 1 = the model alone).

How the engine evaluates it, at no cost. The engine ranks tracks by a weighted squared distance
to each position's targets. The model ranks them by its logit, a linear function of the features.
We write the model's preference as a squared distance too: to the model's favourite corner of
the feature box (1 where a feature's coefficient is positive, 0 where negative), each feature
weighted so that near the examples' mean its gradient is the model's (|g_f| / gap to the corner).
A sum of two weighted squared distances is again one, to blended targets with blended weights,
so :func:`blend` hands the engine ordinary targets and weights: the scoring kernel, the
pre-selection scan and the reasons all work unchanged and the engine's speed holds. Near the
corner the quadratic flattens, so tracks far beyond the examples gain no more (which the logit
alone would reward without end). Out of fold this ranks tracks about as well as the logit itself;
poles nearer the data (the mean plus 1, 1.5, 2 or 3 SDs toward the favourite side) did worse on
both data sets and on the anxious -> calm arc (bench/versus_anchors.py).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from curator.engine.features import FEATURE_INDEX, FEATURES, SCALE_LO, SCALE_SPAN, SCALES, normalise

# Below this distance (normalised units) from the favourite corner, a feature's pull is not made
# stronger: features whose examples already sit at an edge (speechiness near 0) would otherwise
# take nearly all the weight.
MIN_GAP = 0.15
# Penalties tried by the artist-grouped cross-validation (L2 on standardised coefficients, for a
# class-balanced loss that sums to the number of rows).
PENALTIES = (0.1, 1.0, 10.0, 100.0)
CV_FOLDS = 5
# Words for "more of this feature" and "less of it", as comparatives before "tracks".
_WORDS = {
    "valence": ("brighter", "darker"),
    "energy": ("higher-energy", "lower-energy"),
    "danceability": ("more danceable", "less danceable"),
    "acousticness": ("more acoustic", "more electric"),
    "instrumentalness": ("more instrumental", "more vocal"),
    "speechiness": ("wordier", "more sung"),
    "liveness": ("more live-sounding", "more studio-sounding"),
    "loudness": ("louder", "quieter"),
    "tempo": ("faster", "slower"),
    "mode": ("major-key", "minor-key"),
}


class LearnedFeature(BaseModel):
    """One feature of the model: its coefficient per standard deviation, and that mean and SD (raw units)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    coefficient: float = Field(ge=-100, le=100, allow_inf_nan=False)
    mean: float = Field(allow_inf_nan=False)
    sd: float = Field(gt=0, allow_inf_nan=False)


class LearnedTerm(BaseModel):
    """A logistic regression on standardised features and how much it decides (``weight``, 0..1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float = Field(ge=0, le=1, allow_inf_nan=False)
    bias: float = Field(ge=-100, le=100, allow_inf_nan=False)
    features: dict[str, LearnedFeature]
    source: str = Field(default="", max_length=500)  # what it was fitted on, for the history

    @field_validator("source")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
            raise PydanticCustomError("control_character", "must not contain control characters such as NUL")
        return value

    @model_validator(mode="after")
    def _known_features(self) -> LearnedTerm:
        unknown = [name for name in self.features if name not in FEATURE_INDEX]
        if unknown:
            raise PydanticCustomError("learned_feature", "unknown feature {names}; known features are {known}",
                                      {"names": ", ".join(f"'{n}'" for n in unknown), "known": ", ".join(FEATURES)})
        if not self.features:
            raise PydanticCustomError("learned_feature", "a learned term needs at least one feature")
        return self

    def __hash__(self) -> int:  # the engine caches blended targets per term (dicts are not hashable)
        return hash((self.weight, self.bias, self.source,
                     tuple((n, f.coefficient, f.mean, f.sd) for n, f in self.features.items())))

    def logit(self, raw: np.ndarray) -> np.ndarray:
        """The model's log-odds for raw feature rows (n, FEATURES)."""
        raw = np.asarray(raw, dtype=np.float64)
        z = np.full(raw.shape[0], self.bias)
        for name, f in self.features.items():
            z += f.coefficient * (raw[:, FEATURE_INDEX[name]] - f.mean) / f.sd
        return z

    def gradient(self) -> np.ndarray:
        """d logit / d feature over FEATURES, per normalised (0..1 scale) unit."""
        g = np.zeros(len(FEATURES))
        for name, f in self.features.items():
            i = FEATURE_INDEX[name]
            g[i] = f.coefficient * SCALE_SPAN[i] / f.sd
        return g

    def describe(self, limit: int = 3) -> str:
        """The model in words, e.g. "leans toward louder, higher-energy, faster tracks"."""
        strength = {name: f.coefficient for name, f in self.features.items() if abs(f.coefficient) >= 0.05}
        if not strength:
            return "leans toward no feature in particular"
        top = max(abs(c) for c in strength.values())
        ranked = sorted(strength.items(), key=lambda kv: (-abs(kv[1]), FEATURE_INDEX[kv[0]]))
        words = [_WORDS[name][0 if c > 0 else 1] for name, c in ranked[:limit] if abs(c) >= top / 4]
        return f"leans toward {', '.join(words)} tracks"


def corner_terms(term: LearnedTerm) -> tuple[np.ndarray, np.ndarray]:
    """(corner, share) over FEATURES: the model's favourite corner (normalised units) and each
    feature's share (summing to 1) of the squared distance that stands for the logit."""
    g = term.gradient()
    corner = (g > 0).astype(np.float64)
    mean = np.full(len(FEATURES), 0.5)
    for name, f in term.features.items():
        i = FEATURE_INDEX[name]
        mean[i] = (f.mean - SCALE_LO[i]) / SCALE_SPAN[i]
    share = np.abs(g) / np.maximum(np.abs(corner - mean), MIN_GAP)
    total = share.sum()
    return corner, (share / total if total > 0 else share)


def blend(targets: Mapping[str, tuple[float, float]], term: LearnedTerm) -> dict[str, tuple[float, float]]:
    """Curated (raw target, weight) per feature blended with the learned term, as (raw target, weight).

    ``(1 - w) * curated + w * learned`` squared distances, written as one: features the model uses
    and the mood does not are added. The weights keep the mood's total, so arcs between a mood
    with a learned term and one without weigh both ends as before.
    """
    w = term.weight
    if w <= 0:
        return dict(targets)
    corner, share = corner_terms(term)
    total = sum(weight for _, weight in targets.values()) or 1.0
    out: dict[str, tuple[float, float]] = {}
    for i, name in enumerate(FEATURES):
        curated = targets.get(name)
        cw = (1 - w) * (curated[1] / total) if curated else 0.0
        lw = w * share[i]
        if cw + lw <= 0:
            if curated:
                out[name] = curated
            continue
        lo, hi = SCALES[name]
        t_norm = (curated[0] - lo) / (hi - lo) if curated else corner[i]
        mixed = (cw * t_norm + lw * corner[i]) / (cw + lw)
        out[name] = (mixed * (hi - lo) + lo, (cw + lw) * total)
    return out


# ---- fitting ----------------------------------------------------------------------------------

def _weighted_logistic(z: np.ndarray, y: np.ndarray, sample_w: np.ndarray, penalty: float,
                       steps: int = 25) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton steps; the intercept is not penalised."""
    n, f = z.shape
    design = np.hstack([z, np.ones((n, 1))])
    beta = np.zeros(f + 1)
    ridge = np.full(f + 1, penalty)
    ridge[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -30, 30)))
        grad = design.T @ (sample_w * (p - y)) + ridge * beta
        hess = (design * (sample_w * p * (1 - p))[:, None]).T @ design + np.diag(ridge + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta[:-1], float(beta[-1])


def balanced_weights(y: np.ndarray, sets: np.ndarray | None = None) -> np.ndarray:
    """Sample weights giving each class (within each data set) an equal share; they sum to len(y)."""
    sets = np.zeros(len(y), dtype=np.int64) if sets is None else np.asarray(sets)
    w = np.zeros(len(y))
    cells = [(s, c) for s in np.unique(sets) for c in (True, False)]
    cells = [(s, c) for s, c in cells if ((sets == s) & (y == c)).any()]
    for s, c in cells:
        mask = (sets == s) & (y == c)
        w[mask] = len(y) / (len(cells) * mask.sum())
    return w


def group_folds(groups: Sequence[str], k: int = CV_FOLDS, salt: str = "") -> np.ndarray:
    """Fold number (0..k-1) per row, every row of one group (artist) in the same fold, fixed by name."""
    import hashlib

    def fold(name: str) -> int:
        digest = hashlib.blake2b((salt + name.strip().lower()).encode(), digest_size=4).digest()
        return int.from_bytes(digest, "little") % k

    return np.array([fold(g) for g in groups], dtype=np.int64)


@dataclass(frozen=True)
class Fit:
    term: LearnedTerm
    penalty: float
    log_loss: dict[float, float]  # out of fold, per penalty tried


def fit_learned(raw: np.ndarray, labels: np.ndarray, groups: Sequence[str], *, weight: float,
                sets: np.ndarray | None = None, source: str = "",
                penalties: Sequence[float] = PENALTIES, folds: int = CV_FOLDS) -> Fit:
    """Fit a learned term on raw feature rows (n, FEATURES) labelled in/out of the mood.

    The penalty is the one with the lowest class-balanced log-loss out of fold, over ``folds``
    folds grouped by ``groups`` (artists: an artist's other songs never help predict its own);
    the term is then fitted on every row. ``sets`` (optional) names each row's data set, so that
    pooled sets with different class shares weigh equally. Features with no spread (a mode
    column that is unknown everywhere) are left out.
    """
    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("a learned term needs examples both in and out of the mood")
    x = normalise(raw)
    used = [i for i in range(x.shape[1]) if x[:, i].std() > 1e-9]
    mean, sd = x[:, used].mean(axis=0), x[:, used].std(axis=0)
    z = (x[:, used] - mean) / sd
    sample_w = balanced_weights(y, sets)
    fold = group_folds(groups, folds)
    losses: dict[float, float] = {}
    for penalty in penalties:
        loss = 0.0
        for k in np.unique(fold):
            train, test = fold != k, fold == k
            if y[train].all() or not y[train].any():
                continue
            coef, intercept = _weighted_logistic(z[train], y[train], sample_w[train], penalty)
            p = 1.0 / (1.0 + np.exp(-np.clip(z[test] @ coef + intercept, -30, 30)))
            loss -= float(np.sum(sample_w[test] * np.where(y[test], np.log(p + 1e-12), np.log(1 - p + 1e-12))))
        losses[penalty] = loss / len(y)
    penalty = min(penalties, key=lambda a: (round(losses[a], 9), -a))  # ties go to the stronger penalty
    coef, intercept = _weighted_logistic(z, y, sample_w, penalty)
    features = {}
    for j, i in enumerate(used):
        name = FEATURES[i]
        features[name] = LearnedFeature(coefficient=round(float(coef[j]), 4),
                                        mean=round(float(mean[j] * SCALE_SPAN[i] + SCALE_LO[i]), 4),
                                        sd=round(float(sd[j] * SCALE_SPAN[i]), 5))
    term = LearnedTerm(weight=weight, bias=round(intercept, 4), features=features, source=source[:500])
    return Fit(term=term, penalty=penalty, log_loss=losses)
