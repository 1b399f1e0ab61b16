"""Calibrating a mood from example tracks: pick examples, propose targets, measure both versions.

The proposal comes from the engine (`propose_mood_features`); this module turns what a curator
gives us (a tag, pasted links) into a row mask, and reports precision at 20 for the proposal and
for the current version on the same examples, so "better" is a number and not a feeling.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from curator.engine import Catalogue, MoodDefinition
from curator.engine.calibration import propose
from curator.spotify.refs import SeedInvalid, normalise_seed

K = 20

@dataclass(frozen=True)
class TrackRefs:
    ids: list[str]  # normalised, in the order given, without duplicates
    unrecognised: list[str]  # tokens that are not a track link, URI or id


def parse_track_refs(text: str) -> TrackRefs:
    """Track ids from pasted links, `spotify:track:` URIs or bare ids (one or more per line).

    Each token is read the way seed lists read tracks, so both accept exactly the same forms.
    """
    ids: list[str] = []
    unrecognised: list[str] = []
    for token in re.split(r"[\s,]+", text or ""):
        if not token:
            continue
        try:
            track_id = normalise_seed("track", token)
        except SeedInvalid:
            unrecognised.append(token)
            continue
        if track_id not in ids:
            ids.append(track_id)
    return TrackRefs(ids, unrecognised)


def tag_counts(catalogue: Catalogue) -> list[tuple[str, int]]:
    """Tags present in the catalogue with how many tracks carry each, most common first."""
    counts: Counter[str] = Counter()
    for tags in catalogue.tags:
        counts.update(tags)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def tag_mask(catalogue: Catalogue, tag: str) -> np.ndarray:
    return np.fromiter((tag in tags for tags in catalogue.tags), dtype=bool, count=len(catalogue))


def ids_mask(catalogue: Catalogue, ids: list[str]) -> tuple[np.ndarray, list[str]]:
    """Row mask for the ids found in the catalogue, and the ids that are not in it."""
    mask = np.zeros(len(catalogue), dtype=bool)
    rows = catalogue.rows_of(ids)
    mask[rows] = True
    present = {str(catalogue.ids[r]) for r in rows}
    return mask, [i for i in ids if i not in present]


@dataclass(frozen=True)
class Calibration:
    proposed: MoodDefinition
    examples: int
    precision_proposed: float
    precision_current: float
    missing: list[str] = field(default_factory=list)
    unchanged: bool = False  # the proposal is the current version (nothing beat it)
    # Out of sample: mean precision on each half of the examples, with the other half fitted on
    # and left out of the catalogue. None when there are too few examples to split.
    held_out_proposed: float | None = None
    held_out_current: float | None = None

    @property
    def improves(self) -> bool:
        """Strictly better on the examples: only then is accepting the proposal the obvious step."""
        return self.precision_proposed > self.precision_current


def calibrate(catalogue: Catalogue, current: MoodDefinition, examples: np.ndarray, *,
              missing: list[str] | None = None) -> Calibration:
    """Propose features for `current` from the example rows and compare precision at 20.

    Everything but the features (name, guidance, colour...) is kept from the current version.
    Raises ValueError when no example is in the catalogue.
    """
    examples = np.asarray(examples, dtype=bool)
    result = propose(catalogue, examples, current=current, k=K)
    proposed = current.model_copy(update={"features": result.features})
    # model_copy skips validation; round-trip through the schema so the proposal is a valid mood.
    proposed = MoodDefinition.model_validate(proposed.model_dump())
    return Calibration(
        proposed=proposed,
        examples=int(examples.sum()),
        precision_proposed=result.precision,
        precision_current=result.current_precision,
        missing=list(missing or []),
        unchanged=proposed.features == current.features,
        held_out_proposed=result.held_out,
        held_out_current=result.current_held_out,
    )
