"""Why each track is where it is, in the words a person would use.

A reason says what a track brings at its point of the arc compared with its neighbours: the
first meets the listener in their mood, the last arrives at the one they asked for, and those in
between say how they move on from the track before ("a little slower and softer than the last",
"first major-key track"). Pure functions over feature dicts (raw units: 0..1, dB, BPM).

A playlist reads as one text: no two tracks get the same sentence, a "most so far" is said once
(on a calming arc every track is the gentlest so far, and saying it seven times says nothing), and
a playlist that stays in one mood has no "halfway" and no "arrives" — it ends where it began.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter

from curator.engine.features import DESCRIBE, FEATURE_INDEX, MODE

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
    return _mode_of(_value(features, "mode"))


def _mode_of(value: float | None) -> int | None:
    """:func:`_mode` of a mode value already read (None or NaN unknown)."""
    if value is None or value != value or value == 0.5:
        return None
    return 1 if value > 0.5 else 0


# The features a reason reads, taken out of each track's mapping once (as floats, None when
# unknown), in this order; where each is in a track's values, and in a row over FEATURES.
_READ = tuple(dict.fromkeys((*TRAITS, *WORDS)))
_AT = {name: i for i, name in enumerate(_READ)}
_FROM_ROW = tuple(FEATURE_INDEX[name] for name in _READ)
_TAKE = itemgetter(*_FROM_ROW)  # a row's values in _READ order, as one tuple
# What _changes compares: (where in the values, NOTICEABLE, LARGE, word up, word down) per feature.
_COMPARED = tuple((_AT[name], NOTICEABLE[name], LARGE[name], up, down) for name, (up, down) in WORDS.items())
# describe_feature of each trait (for a value known to be a float, not NaN) and where it is.
_TRAITS_AT = tuple((DESCRIBE[name], _AT[name]) for name in TRAITS)


class _Track:
    """One track's values as the sentences use them (in :data:`_READ` order), read once per playlist."""

    __slots__ = ("values", "mode")

    def __init__(self, values: tuple[float | None, ...], mode: int | None):
        self.values = values
        self.mode = mode

    @classmethod
    def of(cls, features: Mapping) -> _Track:
        return cls(tuple(_value(features, name) for name in _READ), _mode(features))

    @classmethod
    def of_row(cls, row: Sequence[float], known_mode: bool) -> _Track:
        """A track from its values over FEATURES as floats (NaN unknown), its mode unknown unless
        ``known_mode``: what :meth:`of` reads from that row as a mapping (mode None when unknown)."""
        values = _TAKE(row)
        total = sum(values)
        if total != total:  # some value is NaN (unknown): read one by one
            values = tuple(None if v != v else v for v in values)
        return cls(values, _mode_of(row[MODE]) if known_mode else None)


def _traits(track: _Track, limit: int = 3) -> str:
    """A few words for one track: "low energy, bright mood, 92 BPM"."""
    values = track.values
    words = []
    for describe, i in _TRAITS_AT:  # each says something of any known value
        v = values[i]
        if v is not None:
            words.append(describe(v))
            if len(words) == limit:
                break
    return ", ".join(words)


def _by_size(change: tuple[float, str]) -> float:
    return -change[0]


def _changes(prev: _Track, cur: _Track) -> list[tuple[float, str]]:
    """Noticeable changes from `prev` to `cur`, largest first: (size as a share of LARGE, word)."""
    found = []
    before, after = prev.values, cur.values
    for i, noticeable, large, up, down in _COMPARED:
        a, b = before[i], after[i]
        if a is None or b is None:
            continue
        delta = b - a
        if abs(delta) >= noticeable:
            found.append((abs(delta) / large, up if delta > 0 else down))
    if len(found) < 2:
        return found
    # Energy and loudness mostly move together: "softer and quieter" says one thing twice.
    words = [w for _, w in found]
    if "softer" in words and "quieter" in words:
        found = [c for c in found if c[1] != "quieter"]
    if "livelier" in words and "louder" in words:
        found = [c for c in found if c[1] != "louder"]
    found.sort(key=_by_size)
    return found


def _degree(size: float) -> str:
    if size < 0.35:
        return "a little "
    if size >= 0.85:
        return "much "
    return ""


def _comparisons(changes: list[tuple[float, str]]) -> tuple[str | None, str | None]:
    """How the track compares with the last, by its largest change and by its two largest:
    "a little slower than the last", "a little slower and softer than the last" (None, None when
    nothing changed noticeably; the same sentence twice when one thing did)."""
    if not changes:
        return None, None
    size, word = changes[0]
    degree = _degree(size)
    one = f"{degree}{word} than the last"
    if len(changes) == 1:
        return one, one
    return one, f"{degree}{word} and {changes[1][1]} than the last"


# (where in the values, words when above everything before, words when below, half of NOTICEABLE)
# per feature for _History.firsts.
_EXTREMES = tuple((_AT[name], high, low, NOTICEABLE[name] / 2) for name, high, low in (
    ("energy", "the liveliest so far", "the gentlest so far"),
    ("valence", "the brightest so far", "the darkest so far")))


class _History:
    """What the tracks so far add up to, for what a new track is the first (or most) of."""

    def __init__(self) -> None:
        self.count = 0
        self.modes: set[int] = set()
        self.known_modes = 0
        # Per _EXTREMES entry, the highest and lowest value so far (None before any).
        self.highest: list[float | None] = [None] * len(_EXTREMES)
        self.lowest: list[float | None] = [None] * len(_EXTREMES)
        self.said: set[str] = set()  # the "most so far" notes a reason has used

    def firsts(self, cur: _Track) -> list[str]:
        """What ``cur`` is the first (or most) of, compared with every track before it."""
        notes = []
        mode = cur.mode
        if mode is not None and self.known_modes >= 2 and mode not in self.modes:
            notes.append("first major-key track" if mode == 1 else "first minor-key track")
        if self.count >= 3:
            for e, (i, high, low, margin) in enumerate(_EXTREMES):
                v = cur.values[i]
                highest = self.highest[e]
                if v is None or highest is None:
                    continue
                if v > highest + margin and high not in self.said:
                    notes.append(high)
                elif v < self.lowest[e] - margin and low not in self.said:
                    notes.append(low)
        return notes[:1]

    def say(self, reason: str) -> None:
        """Remember the "most so far" notes ``reason`` used: each is said once a playlist."""
        if "so far" not in reason:
            return
        lowered = reason.lower()
        for _, high, low, _ in _EXTREMES:
            for note in (high, low):
                if note in lowered:
                    self.said.add(note)

    def add(self, track: _Track) -> None:
        self.count += 1
        if track.mode is not None:
            self.modes.add(track.mode)
            self.known_modes += 1
        for e, (i, _, _, _) in enumerate(_EXTREMES):
            v = track.values[i]
            if v is not None:
                highest, lowest = self.highest[e], self.lowest[e]
                if highest is None or v > highest:  # max(highest, v): the first of equals stays
                    self.highest[e] = v
                if lowest is None or v < lowest:
                    self.lowest[e] = v


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _candidates(i: int, tracks: Sequence[_Track], history: _History, start_name: str, target_name: str,
                traits: str | None) -> Iterator[str]:
    """Reasons for track `i`, best first; the caller takes the first that differs from the last.

    Made as they are asked for (mostly the first is taken); ``history`` must not change while
    they are (it is read before the first)."""
    cur, n = tracks[i], len(tracks)
    traits = _traits(cur) if traits is None else traits
    steady = start_name == target_name
    if n == 1:
        yield f"{target_name}: {traits}" if traits else target_name
        return
    if i == 0:
        meets = f"Meets you in your {start_name.lower()} mood"
        yield f"{meets}: {traits}" if traits else meets
        return
    one, two = _comparisons(_changes(tracks[i - 1], cur))
    if i == n - 1:
        arrive = f"Ends in your {target_name.lower()} mood" if steady else f"Arrives at {target_name.lower()}"
        yield f"{arrive}: {traits}" if traits else arrive
        if two:
            yield f"{arrive}, {two}"
        detail = _traits(cur)
        if detail and detail != traits:
            yield f"{arrive}: {detail}"
        yield arrive
        return
    firsts = history.firsts(cur)
    if n >= 5 and i == (n - 1) // 2 and not steady:
        lead = f"Halfway to {target_name.lower()}: "
        for option in _middle(one, two, firsts, traits, cur):
            yield lead + option[:1].lower() + option[1:]
    else:
        yield from _middle(one, two, firsts, traits, cur)


def _middle(one: str | None, two: str | None, firsts: list[str], traits: str, cur: _Track) -> Iterator[str]:
    """:func:`_candidates` for a track between the first and the last, before any lead: the
    plainest first, then the same with what the track is like, so that a sentence already used
    in the playlist has a fresh one after it."""
    if firsts and two:
        yield f"{_capital(firsts[0])}, {one}"
    if two:
        yield _capital(two)
    if firsts:
        yield _capital(firsts[0])
    if one and one != two:
        yield _capital(one)
    comparisons = [c for c in dict.fromkeys((two, one)) if c]
    if traits:
        for comparison in comparisons:
            yield f"{_capital(comparison)}: {traits}"
    yield "Holds the mood of the last" + (f": {traits}" if traits else "")
    if traits:
        yield f"Stays close to the last, {traits}"
    detail = _traits(cur)  # energy, brightness and tempo: the words that vary most between tracks
    if detail and detail != traits:
        for comparison in comparisons:
            yield f"{_capital(comparison)}: {detail}"
        yield f"Holds the mood of the last: {detail}"
        yield f"Stays close to the last, {detail}"
    tempo = cur.values[_AT["tempo"]]
    if tempo is not None:  # a steady run of alike tracks: their tempo still tells them apart
        at = f"at {round(tempo)} BPM"
        yield f"Holds the mood of the last {at}" + (f": {traits}" if traits else "")
        yield f"Stays close to the last {at}"


def arc_reasons(tracks: Sequence[Mapping], start_name: str, target_name: str,
                traits: Sequence[str] | None = None) -> list[str]:
    """One reason per track of a playlist, in order; never the same sentence twice.

    `tracks` are feature dicts in raw units (energy, valence, tempo, acousticness, loudness,
    danceability, mode: 1 major, 0 minor, None or 0.5 unknown). `traits`, when given, describes
    each track in a few words (e.g. the features its mood weighs most); otherwise energy,
    valence and tempo do.
    """
    return _reasons([_Track.of(features) for features in tracks], start_name, target_name, traits)


def row_reasons(rows: Sequence[Sequence[float]], known_modes: Sequence[bool], start_name: str, target_name: str,
                traits: Sequence[str] | None = None) -> list[str]:
    """:func:`arc_reasons` for tracks given as rows of values over FEATURES (floats, NaN unknown),
    each track's mode unknown unless ``known_modes`` says otherwise: the reasons of the mappings
    ``dict(zip(FEATURES, row))`` with ``"mode": None`` where the mode is unknown."""
    return _reasons([_Track.of_row(row, known) for row, known in zip(rows, known_modes)],
                    start_name, target_name, traits)


def _reasons(read: list[_Track], start_name: str, target_name: str, traits: Sequence[str] | None) -> list[str]:
    history = _History()
    reasons: list[str] = []
    used: set[str] = set()
    for i in range(len(read)):
        options = _candidates(i, read, history, start_name, target_name, traits[i] if traits is not None else None)
        best = choice = next(options)
        if choice in used:
            for choice in options:
                if choice not in used:
                    break
            else:  # every wording was used already: say where it sits instead
                choice = f"{best} (track {i + 1})"
        history.say(choice)
        history.add(read[i])
        reasons.append(choice)
        used.add(choice)
    return reasons
