"""Labelled tracks from a CSV, and which of them belong to each mood: the examples a learned term is fitted on.

Two kinds of label, by column:

* ``mood``: a class per track (e.g. Calm / Energetic / Happy / Sad). A class names a mood by its
  slug or name, by a common synonym (Energetic -> energised), or as the curator maps it.
* ``tag_valence`` and ``tag_arousal`` (or ``listener_valence`` / ``listener_arousal``): where
  listeners place each track. A mood's examples are the tracks in its *region* of that plane,
  cut at the set's own percentiles (see :data:`REGIONS`).

Features are read by name (Spotify's audio-feature columns); a missing ``mode`` column is unknown
mode for every row, and the artist column (``artist`` or ``artists``) groups the cross-validation.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from curator.engine import MoodDefinition
from curator.engine.features import FEATURES, UNKNOWN_MODE
from curator.engine.learned import Fit, fit_learned
from curator.problems import Unprocessable

# Common words for the shipped moods, as labelled sets name their classes.
SYNONYMS = {
    "energetic": "energised", "energized": "energised", "happy": "uplifted", "sad": "melancholic",
    "relaxed": "calm", "peaceful": "calm", "angry": "angry", "tense": "anxious",
}
VALENCE_COLUMNS = ("tag_valence", "listener_valence")
AROUSAL_COLUMNS = ("tag_arousal", "listener_arousal")


def _regions(v: np.ndarray, a: np.ndarray) -> dict[str, np.ndarray]:
    v_mid, a_mid = np.median(v), np.median(a)
    v_third, a_two_thirds = np.quantile(v, 1 / 3), np.quantile(a, 2 / 3)
    return {
        "anxious": (a > a_mid) & (v < v_mid),
        "angry": (a > a_mid) & (v < v_third),
        "melancholic": (v < v_mid) & (a < a_mid),
        "tired": a < a_mid,
        "calm": (a < a_mid) & (v > v_mid),
        "focused": a < a_two_thirds,
        "uplifted": v > v_mid,
        "energised": a > a_mid,
    }


# Where listeners place each shipped mood on the listener valence/arousal plane ("high"/"low" =
# above/below the set's median): the regions bench/curation_quality.py judges the moods by.
REGIONS: dict[str, str] = {
    "anxious": "arousal > median, valence < median",
    "angry": "arousal > median, valence in lowest third",
    "melancholic": "valence < median, arousal < median",
    "tired": "arousal < median",
    "calm": "arousal < median, valence > median",
    "focused": "arousal below two-thirds",
    "uplifted": "valence > median",
    "energised": "arousal > median",
}


def listener_regions(valence: np.ndarray, arousal: np.ndarray) -> dict[str, np.ndarray]:
    """Each shipped mood's region as a row mask (see :data:`REGIONS`)."""
    return _regions(np.asarray(valence, float), np.asarray(arousal, float))


def region_of(mood: MoodDefinition, valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
    """A mood's region: the shipped one by slug, else the side(s) of the medians its circumplex
    point is clearly on (at least 0.2 from the centre); all False when it sits near the centre."""
    shipped = listener_regions(valence, arousal)
    if mood.slug in shipped:
        return shipped[mood.slug]
    mask = np.ones(len(valence), dtype=bool)
    sides = 0
    for point, values in ((mood.valence, np.asarray(valence, float)), (mood.arousal, np.asarray(arousal, float))):
        if abs(point - 0.5) >= 0.2:
            mask &= (values > np.median(values)) if point > 0.5 else (values < np.median(values))
            sides += 1
    return mask if sides else np.zeros(len(valence), dtype=bool)


class LabelledInvalid(Unprocessable):
    """The CSV cannot be read as labelled tracks; the message says why, for the curator."""


@dataclass(frozen=True)
class LabelledSet:
    name: str
    raw: np.ndarray  # (n, FEATURES) raw feature values, mode UNKNOWN_MODE where absent
    artists: list[str]
    classes: np.ndarray | None  # (n,) str, the mood column
    valence: np.ndarray | None  # listeners' valence / arousal
    arousal: np.ndarray | None

    def __len__(self) -> int:
        return len(self.artists)

    def subset(self, rows: np.ndarray) -> LabelledSet:
        def pick(column: np.ndarray | None) -> np.ndarray | None:
            return None if column is None else column[rows]

        return LabelledSet(self.name, self.raw[rows], [self.artists[i] for i in rows], pick(self.classes),
                           pick(self.valence), pick(self.arousal))

    def examples(self, mood: MoodDefinition, mapping: Mapping[str, str] | None = None) -> np.ndarray | None:
        """Row mask of the mood's examples here (class or region), None when this set says nothing of it."""
        if self.classes is not None:
            labels = [label for label in np.unique(self.classes) if map_label(label, mapping) == mood.slug]
            if labels:
                return np.isin(self.classes, labels)
        if self.valence is not None:
            mask = region_of(mood, self.valence, self.arousal)
            if mask.any() and not mask.all():
                return mask
        return None


def map_label(label: str, mapping: Mapping[str, str] | None = None) -> str:
    """The mood slug a class label stands for: the curator's mapping, a synonym, or the label itself."""
    key = label.strip().lower()
    if mapping:
        for given, slug in mapping.items():
            if given.strip().lower() == key:
                return slug
    return SYNONYMS.get(key, key)


def _number(value: str, column: str, line: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LabelledInvalid(f"line {line}: {column} “{value}” is not a number") from None
    if not np.isfinite(number):
        raise LabelledInvalid(f"line {line}: {column} is not a finite number")
    return number


def read_labelled(text: str, name: str = "labelled.csv") -> LabelledSet:
    """Parse a labelled CSV (see the module docstring); raises :class:`LabelledInvalid`."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = [f for f in FEATURES if f != "mode" and f not in columns]
    if missing:
        raise LabelledInvalid(f"{name} has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}; "
                              "a labelled CSV needs the audio features by name")
    artist_column = next((c for c in ("artist", "artists") if c in columns), None)
    if artist_column is None:
        raise LabelledInvalid(f"{name} has no artist (or artists) column; cross-validation groups tracks by artist")
    v_col = next((c for c in VALENCE_COLUMNS if c in columns), None)
    a_col = next((c for c in AROUSAL_COLUMNS if c in columns), None)
    if "mood" not in columns and not (v_col and a_col):
        raise LabelledInvalid(f"{name} has neither a mood column nor listener valence and arousal columns "
                              f"({' / '.join(VALENCE_COLUMNS)} and {' / '.join(AROUSAL_COLUMNS)})")
    raw, artists, classes, valence, arousal = [], [], [], [], []
    for line, row in enumerate(reader, start=2):
        values = [UNKNOWN_MODE if f == "mode" and not row.get("mode") else _number(row.get(f), f, line)
                  for f in FEATURES]
        raw.append(values)
        artists.append((row.get(artist_column) or "").strip())
        if "mood" in columns:
            classes.append((row.get("mood") or "").strip())
        if v_col and a_col:
            valence.append(_number(row.get(v_col), v_col, line))
            arousal.append(_number(row.get(a_col), a_col, line))
    if not raw:
        raise LabelledInvalid(f"{name} has no rows")
    return LabelledSet(name=name, raw=np.asarray(raw, dtype=np.float64), artists=artists,
                       classes=np.asarray(classes) if classes else None,
                       valence=np.asarray(valence) if valence else None,
                       arousal=np.asarray(arousal) if arousal else None)


def fit_mood(mood: MoodDefinition, sets: Iterable[LabelledSet], *, weight: float,
             mapping: Mapping[str, str] | None = None,
             fit: Callable[..., Fit] = fit_learned) -> Fit | None:
    """The mood's learned term fitted on every set that labels it (pooled, each set weighing
    equally), or None when no set does."""
    raws, ys, groups, set_ids, parts = [], [], [], [], []
    for i, data in enumerate(sets):
        mask = data.examples(mood, mapping)
        if mask is None:
            continue
        raws.append(data.raw)
        ys.append(mask)
        groups.extend(data.artists)
        set_ids.append(np.full(len(data), i))
        parts.append(f"{data.name} ({int(mask.sum())} of {len(data)})")
    if not raws:
        return None
    result = fit(np.vstack(raws), np.concatenate(ys), groups, weight=weight, sets=np.concatenate(set_ids),
                 source="fitted on " + " + ".join(parts))
    source = f"{result.term.source}; penalty {result.penalty:g} chosen by artist-grouped cross-validation"
    term = result.term.model_copy(update={"source": source[:500]})
    return Fit(term=term, penalty=result.penalty, log_loss=result.log_loss)
