"""What a stored audio-feature value may be: the one range check for dataset imports and providers.

These are wider than the mood-definition domains in `curator.engine.features.DOMAINS` on
purpose: real data carries loudness above 0 dB (the shipped dev set has +1.3 dB) and tempo 0 for
silence, and such a track is still a track. A mood may not target those values; a catalogue may
hold them.
"""
from __future__ import annotations

import math

from curator.models.catalogue import FEATURE_COLUMNS

RANGES: dict[str, tuple[float, float]] = {name: (0.0, 1.0) for name in FEATURE_COLUMNS}
RANGES["loudness"] = (-70.0, 10.0)
RANGES["tempo"] = (0.0, 300.0)

_WHAT = {"loudness": "a loudness in dB", "tempo": "a tempo in BPM"}


def in_range(name: str, value: float) -> bool:
    low, high = RANGES[name]
    return math.isfinite(value) and low <= value <= high


def expected(name: str) -> str:
    """How an error names the accepted values, e.g. "a tempo in BPM between 0 and 300"."""
    low, high = RANGES[name]
    return f"{_WHAT.get(name, 'a number')} between {low:g} and {high:g}"
