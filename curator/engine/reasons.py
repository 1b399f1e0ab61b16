"""Why each track is where it is, in the words a person would use.

A reason says what a track brings at its point of the arc compared with its neighbours: the
first meets the listener in their mood, the last arrives at the one they asked for, and those in
between say how they move on from the track before ("a little slower and softer than the last",
"first major-key track"). Pure functions over feature dicts (raw units: 0..1, dB, BPM); no two
neighbouring tracks get the same sentence.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from curator.engine.features import describe_feature

# How big a change must be to mention it, and the span that counts as a "large" change, per
# feature (raw units). A change below the first is not worth a word.
NOTICEABLE = {"tempo": 5.0, "energy": 0.06, "valence": 0.06, "acousticness": 0.2, "loudness": 2.0,
              "danceability": 0.12}
LARGE = {"tempo": 30.0, "energy": 0.3, "valence": 0.3, "acousticness": 0.6, "loudness": 8.0, "danceability": 0.4}
# The words for a rise and a fall of each feature, as comparatives.
WORDS = {"tempo": ("faster", "slower"), "energy": ("livelier", "softer"), "valence": ("brighter", "darker"),
         "acousticness": ("more acoustic", "more electric"), "loudness": ("louder", "quieter"),
         "danceability": ("more danceable", "looser in rhythm")}
# Traits used to describe a single track (start, finish, or a track that holds steady).
TRAITS = ("energy", "valence", "tempo", "acousticness")


def _value(features: Mapping, name: str) -> float | None:
    value = features.get(name)
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _mode(features: Mapping) -> int | None:
    """1 major, 0 minor, None unknown (stored as None or 0.5)."""
    value = _value(features, "mode")
    if value is None or value == 0.5:
        return None
    return 1 if value > 0.5 else 0


# The features a reason reads, taken out of each track's mapping once (as floats, None when unknown).
_READ = tuple(dict.fromkeys((*TRAITS, *WORDS)))


class _Track:
    """One track's values as the sentences use them, read once per playlist."""

    __slots__ = ("values", "mode")

    def __init__(self, features: Mapping):
        self.values = {name: _value(features, name) for name in _READ}
        self.mode = _mode(features)


def _traits(track: _Track, limit: int = 3) -> str:
    """A few words for one track: "low energy, bright mood, 92 BPM"."""
    values = track.values
    words = [describe_feature(name, v) for name in TRAITS if (v := values[name]) is not None]
    return ", ".join([w for w in words if w][:limit])


def _changes(prev: _Track, cur: _Track) -> list[tuple[float, str]]:
    """Noticeable changes from `prev` to `cur`, largest first: (size as a share of LARGE, word)."""
    found = []
    before, after = prev.values, cur.values
    for name, (up, down) in WORDS.items():
        a, b = before[name], after[name]
        if a is None or b is None:
            continue
        delta = b - a
        if abs(delta) >= NOTICEABLE[name]:
            found.append((abs(delta) / LARGE[name], up if delta > 0 else down))
    # Energy and loudness mostly move together: "softer and quieter" says one thing twice.
    words = [w for _, w in found]
    if "softer" in words and "quieter" in words:
        found = [c for c in found if c[1] != "quieter"]
    if "livelier" in words and "louder" in words:
        found = [c for c in found if c[1] != "louder"]
    return sorted(found, key=lambda c: -c[0])


def _degree(size: float) -> str:
    if size < 0.35:
        return "a little "
    if size >= 0.85:
        return "much "
    return ""


def _comparison(changes: list[tuple[float, str]], count: int) -> str | None:
    if not changes:
        return None
    picked = changes[:count]
    words = [w for _, w in picked]
    phrase = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"{_degree(picked[0][0])}{phrase} than the last"


# (feature, words when above everything before, words when below) for _History.firsts.
_EXTREMES = (("energy", "the liveliest so far", "the gentlest so far"),
             ("valence", "the brightest so far", "the darkest so far"))


class _History:
    """What the tracks so far add up to, for what a new track is the first (or most) of."""

    def __init__(self) -> None:
        self.count = 0
        self.modes: set[int] = set()
        self.known_modes = 0
        self.highest: dict[str, float] = {}
        self.lowest: dict[str, float] = {}

    def firsts(self, cur: _Track) -> list[str]:
        """What ``cur`` is the first (or most) of, compared with every track before it."""
        notes = []
        mode = cur.mode
        if mode is not None and self.known_modes >= 2 and mode not in self.modes:
            notes.append("first major-key track" if mode == 1 else "first minor-key track")
        if self.count >= 3:
            for name, high, low in _EXTREMES:
                v = cur.values[name]
                if v is None or name not in self.highest:
                    continue
                if v > self.highest[name] + NOTICEABLE[name] / 2:
                    notes.append(high)
                elif v < self.lowest[name] - NOTICEABLE[name] / 2:
                    notes.append(low)
        return notes[:1]

    def add(self, track: _Track) -> None:
        self.count += 1
        if track.mode is not None:
            self.modes.add(track.mode)
            self.known_modes += 1
        for name, _, _ in _EXTREMES:
            v = track.values[name]
            if v is not None:
                self.highest[name] = max(self.highest.get(name, v), v)
                self.lowest[name] = min(self.lowest.get(name, v), v)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _candidates(i: int, tracks: Sequence[_Track], history: _History, start_name: str, target_name: str,
                traits: str | None) -> list[str]:
    """Reasons for track `i`, best first; the caller takes the first that differs from the last."""
    cur, n = tracks[i], len(tracks)
    traits = _traits(cur) if traits is None else traits
    if n == 1:
        return [f"{target_name}: {traits}" if traits else target_name]
    if i == 0:
        meets = f"Meets you in your {start_name.lower()} mood"
        return [f"{meets}: {traits}" if traits else meets]
    changes = _changes(tracks[i - 1], cur)
    one, two = _comparison(changes, 1), _comparison(changes, 2)
    if i == n - 1:
        arrive = f"Arrives at {target_name.lower()}"
        return [f"{arrive}: {traits}" if traits else arrive, f"{arrive}, {two}" if two else arrive]
    firsts = history.firsts(cur)
    options = []
    lead = f"Halfway to {target_name.lower()}: " if n >= 5 and i == (n - 1) // 2 else ""
    if firsts and two:
        options.append(f"{_capital(firsts[0])}, {one}")
    if two:
        options.append(_capital(two))
    if firsts:
        options.append(_capital(firsts[0]))
    if one and one != two:
        options.append(_capital(one))
    options.append("Holds the mood of the last" + (f": {traits}" if traits else ""))
    if traits:
        options.append(f"Stays close to the last, {traits}")
    return [lead + (o if not lead else o[:1].lower() + o[1:]) for o in options]


def arc_reasons(tracks: Sequence[Mapping], start_name: str, target_name: str,
                traits: Sequence[str] | None = None) -> list[str]:
    """One reason per track of a playlist, in order; never the same sentence twice in a row.

    `tracks` are feature dicts in raw units (energy, valence, tempo, acousticness, loudness,
    danceability, mode: 1 major, 0 minor, None or 0.5 unknown). `traits`, when given, describes
    each track in a few words (e.g. the features its mood weighs most); otherwise energy,
    valence and tempo do.
    """
    read = [_Track(features) for features in tracks]
    history = _History()
    reasons: list[str] = []
    for i in range(len(read)):
        previous = reasons[-1] if reasons else None
        options = _candidates(i, read, history, start_name, target_name, traits[i] if traits is not None else None)
        history.add(read[i])
        choice = next((o for o in options if o != previous), None)
        if choice is None:  # every wording matched the last one: say where it sits instead
            choice = f"{options[0]} (track {i + 1})"
        reasons.append(choice)
    return reasons
