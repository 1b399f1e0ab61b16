"""The audio features the engine reasons about, their scales, and how to say them in words.

Spotify-style audio features come in mixed units: most are 0..1, loudness is in dB and tempo
in BPM. Distances are only meaningful on a common scale, so every feature gets a linear map to
roughly 0..1 here, and the rest of the engine works on that normalised scale.
"""
from __future__ import annotations

import math

import numpy as np

FEATURES: tuple[str, ...] = (
    "valence",
    "energy",
    "danceability",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "loudness",
    "tempo",
    "mode",
)
FEATURE_INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}
N_FEATURES = len(FEATURES)
MODE = FEATURE_INDEX["mode"]
TEMPO = FEATURE_INDEX["tempo"]

# Values a mood definition may use for each feature (validation domain).
DOMAINS: dict[str, tuple[float, float]] = {name: (0.0, 1.0) for name in FEATURES}
DOMAINS["loudness"] = (-60.0, 0.0)
DOMAINS["tempo"] = (30.0, 250.0)

# Linear maps to ~0..1 for distances. Tempo uses 40..220 rather than the validation domain
# because that is where nearly all real music sits; values outside land slightly beyond 0..1,
# which is harmless for a distance (we deliberately do not clip, so the fast pre-selection and
# the exact scoring agree).
SCALES: dict[str, tuple[float, float]] = {name: (0.0, 1.0) for name in FEATURES}
SCALES["loudness"] = (-60.0, 0.0)
SCALES["tempo"] = (40.0, 220.0)

SCALE_LO = np.array([SCALES[f][0] for f in FEATURES], dtype=np.float64)
SCALE_SPAN = np.array([SCALES[f][1] - SCALES[f][0] for f in FEATURES], dtype=np.float64)

# Spotify's mode is 0 (minor) or 1 (major). When it is unknown we store 0.5, halfway, so an
# unknown mode neither helps nor hurts a track against any mode target.
UNKNOWN_MODE = 0.5


def normalise(raw: np.ndarray) -> np.ndarray:
    """Map raw feature values (last axis = FEATURES) to the common ~0..1 scale (float64)."""
    return (np.asarray(raw, dtype=np.float64) - SCALE_LO) / SCALE_SPAN


def denormalise(norm: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalise`."""
    return np.asarray(norm, dtype=np.float64) * SCALE_SPAN + SCALE_LO


def _level(value: float, low: float, high: float, words: tuple[str, str, str]) -> str:
    if value <= low:
        return words[0]
    if value >= high:
        return words[2]
    return words[1]


def describe_feature(name: str, value: float) -> str | None:
    """A short human phrase for one raw feature value, e.g. ``("energy", 0.2) -> "low energy"``.

    Returns None when the value says nothing useful (unknown mode, NaN).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    v = float(value)
    return DESCRIBE[name](v)


def _describe_mode(v: float) -> str | None:
    if v == UNKNOWN_MODE:
        return None
    return "major key" if v > UNKNOWN_MODE else "minor key"


# describe_feature per feature, for a value already known to be a float and not NaN.
DESCRIBE = {
    "valence": lambda v: _level(v, 0.35, 0.65, ("dark mood", "bittersweet mood", "bright mood")),
    "energy": lambda v: _level(v, 0.35, 0.65, ("low energy", "moderate energy", "high energy")),
    "danceability": lambda v: _level(v, 0.4, 0.65, ("free-flowing rhythm", "steady groove", "danceable")),
    "acousticness": lambda v: "acoustic" if v >= 0.5 else "electric",
    "instrumentalness": lambda v: "instrumental" if v >= 0.5 else "with vocals",
    "speechiness": lambda v: "spoken word" if v >= 0.33 else "sung",
    "liveness": lambda v: "live recording" if v >= 0.6 else "studio recording",
    "loudness": lambda v: _level(v, -14.0, -7.0, ("quiet", "medium volume", "loud")),
    "tempo": lambda v: f"{round(v)} BPM",
    "mode": _describe_mode,
}
DESCRIBE_AT = [DESCRIBE[name] for name in FEATURES]


def reason_phrase(raw_features: np.ndarray, weights: np.ndarray, limit: int = 3) -> str:
    """Describe a track by the features that weighed most at its position.

    ``raw_features`` and ``weights`` are vectors over FEATURES. Features with zero weight are
    skipped; ties keep FEATURES order so the phrase is stable.
    """
    return phrase_by(np.asarray(raw_features, dtype=np.float64).tolist(), phrase_order(weights), limit)


def phrase_order(weights: np.ndarray) -> list[int]:
    """The features :func:`reason_phrase` considers for these weights, in the order it does."""
    w = np.asarray(weights, dtype=np.float64).tolist()
    order = []
    for i in sorted(range(N_FEATURES), key=lambda i: (-w[i], i)):
        if w[i] <= 0:
            break
        order.append(i)
    return order


def phrase_by(raw_features: list[float], order: list[int], limit: int = 3) -> str:
    """:func:`reason_phrase` from the raw values as floats and :func:`phrase_order` of the weights."""
    phrases: list[str] = []
    for i in order:
        if len(phrases) >= limit:
            break
        value = raw_features[i]  # describe_feature, inline
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        phrase = DESCRIBE_AT[i](float(value))
        if phrase:
            phrases.append(phrase)
    return ", ".join(phrases) if phrases else "closest match"
