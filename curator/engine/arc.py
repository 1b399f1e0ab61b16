"""The iso-principle arc: one target point in feature space per playlist position.

Position 0 sits on the start mood (meet the listener where they are), the last position on the
target mood, and the shape decides how quickly we travel in between. Targets, weights and hard
ranges are all interpolated, so a position halfway along is "half anxious, half calm".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from curator.engine.catalogue import remember
from curator.engine.features import (
    DOMAINS,
    FEATURES,
    N_FEATURES,
    denormalise,
    normalise,
)
from curator.engine.moods import MoodDefinition, scoring_features

ARC_SHAPES = ("linear", "ease-in-out", "hold")
# Long arcs arrive early and stay: past LONG_ARC tracks the linear and ease-in-out shapes reach the
# target mood ARRIVE_BY of the way along and hold it for the rest, so the tail of a 50-track arc is
# the target mood's as much as a steady playlist is (issue 19: travelling until the very last track
# left the last fifth of long arcs between moods). Arcs up to 40 tracks travel all the way, as before.
LONG_ARC = 40
ARRIVE_BY = 0.8


@dataclass(frozen=True)
class Arc:
    """Per-position targets. Arrays are (positions, len(FEATURES))."""

    fractions: np.ndarray  # (P,) 0 = start mood, 1 = target mood
    targets: np.ndarray  # normalised units
    weights: np.ndarray  # >= 0; zero means "this feature does not matter here"
    lower: np.ndarray  # raw units, -inf when unbounded
    upper: np.ndarray  # raw units, +inf when unbounded
    shape: str

    def __len__(self) -> int:
        return len(self.fractions)

    @property
    def raw_targets(self) -> np.ndarray:
        return denormalise(self.targets)


def arc_fractions(length: int, shape: str = "linear") -> np.ndarray:
    """How far along (0..1) each of ``length`` positions is, for the given shape."""
    if shape not in ARC_SHAPES:
        raise ValueError(f"unknown arc shape '{shape}'; choose one of {', '.join(ARC_SHAPES)}")
    if length < 1:
        raise ValueError("an arc needs at least one position")
    if length == 1:
        return np.ones(1)  # a one-track playlist goes straight to where the listener wants to be
    t = np.arange(length) / (length - 1)
    if length > LONG_ARC and shape != "hold":
        t = np.minimum(1.0, np.arange(length) / max(1, round(ARRIVE_BY * (length - 1))))
    if shape == "linear":
        return t
    if shape == "ease-in-out":
        # Linger near the start and the destination, move fastest in the middle.
        return (1 - np.cos(np.pi * t)) / 2
    # hold: arrive after about a third of the playlist, then stay there.
    arrive = max(1, round((length - 1) / 3))
    return np.minimum(1.0, np.arange(length) / arrive)


# Vectors of the moods seen lately, by identity: the web app hands the engine the same (frozen)
# definition object for as long as a mood version is current, and moving its targets by the
# listener pull costs more than the rest of building an arc.
_VECTORS: dict[int, tuple[MoodDefinition, tuple[np.ndarray, ...]]] = {}
_VECTORS_KEPT = 64


def _mood_vectors(mood: MoodDefinition) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(raw target, weight, raw lower, raw upper) vectors, read-only; NaN target where the mood is silent."""
    kept = _VECTORS.get(id(mood))
    if kept is not None and kept[0] is mood:
        return kept[1]
    vectors = _vectors_of(mood)
    for vector in vectors:
        vector.setflags(write=False)
    remember(_VECTORS, id(mood), (mood, vectors), _VECTORS_KEPT)  # holding the mood keeps its id unused
    return vectors


def _vectors_of(mood: MoodDefinition) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    target = np.full(N_FEATURES, np.nan)
    weight = np.zeros(N_FEATURES)
    lower = np.full(N_FEATURES, np.nan)
    upper = np.full(N_FEATURES, np.nan)
    features = scoring_features(mood)  # the mood's targets, moved by its listener pull
    for i, name in enumerate(FEATURES):
        spec = features.get(name)
        if spec is None:
            continue
        target[i], weight[i] = spec.target, spec.weight
        if spec.min is not None:
            lower[i] = spec.min
        if spec.max is not None:
            upper[i] = spec.max
    return target, weight, lower, upper


def mood_point(mood: MoodDefinition) -> tuple[np.ndarray, np.ndarray]:
    """A mood as (normalised target vector, weight vector); unused features get weight 0."""
    target, weight, _, _ = _mood_vectors(mood)
    return np.nan_to_num(normalise(target), nan=0.5), weight


def build_arc(start: MoodDefinition, target: MoodDefinition, length: int, shape: str = "linear") -> Arc:
    """Targets for ``length`` positions travelling from ``start`` to ``target``.

    A feature only one mood mentions keeps that mood's target while its weight fades in or out.
    A range bound only one mood sets is interpolated towards the edge of the feature's domain.
    When start == target every position is the same (a steady playlist).
    """
    fractions = arc_fractions(length, shape)
    if start == target:
        fractions = np.zeros(length)
    s_t, s_w, s_lo, s_hi = _mood_vectors(start)
    e_t, e_w, e_lo, e_hi = _mood_vectors(target)
    s_t = np.where(np.isnan(s_t), e_t, s_t)
    e_t = np.where(np.isnan(e_t), s_t, e_t)
    domain_lo = np.array([DOMAINS[f][0] for f in FEATURES])
    domain_hi = np.array([DOMAINS[f][1] for f in FEATURES])
    # Where neither mood bounds a feature the bound stays infinite; where one does, the other
    # end of the interpolation is the domain edge.
    lo_none = np.isnan(s_lo) & np.isnan(e_lo)
    hi_none = np.isnan(s_hi) & np.isnan(e_hi)
    s_lo, e_lo = np.where(np.isnan(s_lo), domain_lo, s_lo), np.where(np.isnan(e_lo), domain_lo, e_lo)
    s_hi, e_hi = np.where(np.isnan(s_hi), domain_hi, s_hi), np.where(np.isnan(e_hi), domain_hi, e_hi)

    a = fractions[:, None]

    def lerp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (1 - a) * x[None, :] + a * y[None, :]

    raw_targets = np.nan_to_num(lerp(s_t, e_t), nan=0.0)
    lower = np.where(lo_none[None, :], -math.inf, lerp(s_lo, e_lo))
    upper = np.where(hi_none[None, :], math.inf, lerp(s_hi, e_hi))
    unused = np.isnan(s_t)  # neither mood mentions the feature
    targets = normalise(raw_targets)
    targets[:, unused] = 0.5
    return Arc(
        fractions=fractions,
        targets=targets,
        weights=lerp(s_w, e_w),
        lower=lower,
        upper=upper,
        shape=shape,
    )
