"""Editing a preview without surprises: swap one position, keep locked tracks, nudge the arc.

Pure helpers over the engine's catalogue and a preview's stored track rows; the edit rules
(`edits.py`) decide when to call them and store the result as a new preview (previews are never
edited in place, so "back" and the API see each step).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from curator.engine import MoodDefinition
from curator.engine.catalogue import Catalogue
from curator.engine.features import FEATURES, normalise, reason_phrase
from curator.engine.moods import shifted
from curator.engine.reasons import arc_reasons
from curator.engine.scoring import weighted_distance

# Each nudge moves the whole arc (start and target) by these amounts, in raw feature units.
NUDGES: dict[str, dict[str, float]] = {
    "gentler": {"energy": -0.1, "tempo": -8.0, "loudness": -1.5},
    "more-energy": {"energy": 0.1, "tempo": 8.0, "loudness": 1.5},
    "brighter": {"valence": 0.1},
    "darker": {"valence": -0.1},
}
NUDGE_LABELS = {"gentler": "Gentler", "more-energy": "More energy", "brighter": "Brighter", "darker": "Less bright"}
# The furthest the nudges may take the arc from the moods as defined, per feature.
NUDGE_LIMIT = {"energy": 0.3, "valence": 0.3, "tempo": 24.0, "loudness": 4.5}
# A replacement keeps within this many BPM of both neighbours when the catalogue allows.
TEMPO_STEP = 25.0


class NoReplacement(Exception):
    """Nothing in the catalogue can take this place (every fitting track is used or excluded)."""


def add_nudge(current: Mapping[str, float], direction: str) -> dict[str, float]:
    """The accumulated shift after one more nudge `direction` (bounded by NUDGE_LIMIT)."""
    if direction not in NUDGES:
        raise KeyError(direction)
    shifted = dict(current)
    for name, delta in NUDGES[direction].items():
        limit = NUDGE_LIMIT[name]
        shifted[name] = round(max(-limit, min(limit, shifted.get(name, 0.0) + delta)), 4)
    return {k: v for k, v in shifted.items() if v != 0}


def nudged(mood: MoodDefinition, shift: Mapping[str, float] | None) -> MoodDefinition:
    """`mood` with its feature targets (and ranges) moved by `shift` (the engine's ``shifted``: a
    mood's learned term and listener pull are folded into its targets first, so the nudge moves
    what the engine scores against)."""
    return shifted(mood, shift)


def track_row(catalogue: Catalogue, row: int, position: int, arc, image: str | None) -> dict:
    """A preview's stored row for catalogue row `row` placed at `position` of `arc`."""
    raw = catalogue.features[row].astype(np.float64)
    used = arc.weights.max(axis=0) > 0
    features = {name: round(float(raw[i]), 4) for i, name in enumerate(FEATURES)}
    if catalogue.mode[row] < 0:
        features["mode"] = None
    target = arc.raw_targets[position]
    distance = float(weighted_distance(normalise(raw), arc.targets[position], arc.weights[position]))
    return {
        "id": str(catalogue.ids[row]), "name": str(catalogue.names[row]), "artists": list(catalogue.artists[row]),
        "duration_ms": int(catalogue.durations_ms[row]), "position": position,
        "reason": reason_phrase(raw, arc.weights[position]), "distance": round(distance, 4),
        "position_target": {name: round(float(target[i]), 4) for i, name in enumerate(FEATURES) if used[i]},
        "features": features, "album_image": image,
    }


def best_replacement(catalogue: Catalogue, arc, position: int, rows: Sequence[Mapping], *,
                     exclude_ids: frozenset[str] = frozenset(), candidate_ids: frozenset[str] | None = None,
                     exclude_explicit: bool = False) -> int:
    """The catalogue row that best fits `position` of `arc`, not already in `rows` nor excluded.

    Inside the position's hard ranges and within TEMPO_STEP BPM of both neighbours when any such
    track exists; otherwise the nearest track that is at least not a duplicate.
    """
    used = {r["id"] for r in rows} | set(exclude_ids)
    ok = np.ones(len(catalogue), dtype=bool)
    if used:
        ok[catalogue.rows_of(used)] = False
    if candidate_ids is not None:
        allowed = np.zeros(len(catalogue), dtype=bool)
        allowed[catalogue.rows_of(candidate_ids)] = True
        ok &= allowed
    if exclude_explicit:
        ok &= ~catalogue.explicit
    if not ok.any():
        raise NoReplacement("No other track fits this place.")
    feats = catalogue.features
    in_range = np.all((feats >= arc.lower[position]) & (feats <= arc.upper[position]), axis=1)
    tempo = feats[:, FEATURES.index("tempo")]
    smooth = np.ones(len(catalogue), dtype=bool)
    for neighbour in (position - 1, position + 1):
        if 0 <= neighbour < len(rows):
            bpm = rows[neighbour]["features"].get("tempo")
            if bpm:
                smooth &= np.abs(tempo - float(bpm)) <= TEMPO_STEP
    distances = weighted_distance(normalise(feats), arc.targets[position], arc.weights[position])
    for mask in (ok & in_range & smooth, ok & in_range, ok):
        if mask.any():
            candidates = np.flatnonzero(mask)
            return int(candidates[np.argmin(distances[candidates])])
    raise NoReplacement("No other track fits this place.")  # not reachable: ok.any() above


def with_reasons(rows: list[dict], arc, start_name: str, target_name: str) -> list[dict]:
    """Rows renumbered and given fresh reasons (a neighbour changed, so the comparison did);
    `arc` has one position per row, as the engine built it."""
    traits = [reason_phrase(_raw(r), arc.weights[min(i, len(arc) - 1)]) for i, r in enumerate(rows)]
    reasons = arc_reasons([r["features"] for r in rows], start_name, target_name, traits)
    return [{**r, "position": i, "reason": reasons[i]} for i, r in enumerate(rows)]


def _raw(row: Mapping) -> np.ndarray:
    feats = row["features"]
    return np.array([0.5 if feats.get(f) is None else float(feats[f]) for f in FEATURES], dtype=np.float64)


def pin(rows: list[dict], pinned: Mapping[int, dict]) -> list[dict]:
    """`rows` with `pinned` rows put back at their positions (the track there makes way); a
    position past the end appends. `rows` must not already hold a pinned track."""
    out = list(rows)
    for position in sorted(pinned):
        if position < len(out):
            out[position] = pinned[position]
        else:
            out.append(pinned[position])
    return out


def changed_positions(before: Sequence[Mapping], after: Sequence[Mapping]) -> list[int]:
    """Positions whose track differs (positions past the shorter list count as changed)."""
    n = max(len(before), len(after))
    return [i for i in range(n) if i >= len(before) or i >= len(after) or before[i]["id"] != after[i]["id"]]


def mean_feature(rows: Sequence[Mapping], name: str) -> float | None:
    values = [float(r["features"][name]) for r in rows if r["features"].get(name) is not None]
    return sum(values) / len(values) if values else None
