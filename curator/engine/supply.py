"""How much of a catalogue a mood can use: the tracks inside its hard ranges, and of those the ones
close to its targets, by the same distance a preview uses when it says a mood is thinly supplied
(`curate.THIN_DISTANCE`). The admin's coverage counts these, so "usable" on the dashboard and
"close to Calm" in a listener's preview agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curator.engine.arc import build_arc
from curator.engine.catalogue import Catalogue
from curator.engine.curate import THIN_DISTANCE
from curator.engine.moods import MoodDefinition
from curator.engine.scoring import exact_distances


@dataclass(frozen=True)
class Supply:
    in_range: int  # tracks inside every hard range the mood sets
    close: int  # of those, within THIN_DISTANCE of its targets


def mood_supply(catalogue: Catalogue, mood: MoodDefinition) -> Supply:
    """The mood's supply in `catalogue`. A learned term pulls toward a corner rather than a place,
    so closeness is measured without it, as a preview's thin-supply note measures it."""
    if len(catalogue) == 0:
        return Supply(0, 0)
    plain = mood.model_copy(update={"learned": None}) if mood.learned is not None else mood
    distances = exact_distances(catalogue.features, build_arc(plain, plain, 1))[:, 0]
    return Supply(in_range=int(np.isfinite(distances).sum()),
                  close=int((distances <= THIN_DISTANCE).sum()))
