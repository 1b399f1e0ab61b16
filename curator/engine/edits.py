"""Edits to a playlist the listener already has, made by curate() itself.

An :class:`Edit` beside the options says how the new playlist relates to the one being edited:

* **pinned** tracks (the listener's locks), position -> track id: placed exactly there, whatever
  the arc and the filters say now;
* **replace** one position of ``previous``: every other track stays where it is, and that
  position gets the track that fits it best (the nearest, not a near-tie drawn at random) that is
  not in the playlist and not excluded, within the sequencing rules with its neighbours. It is
  sought among every eligible row of a catalogue small enough to score whole, else among the few
  hundred rows nearest that position (pre-selected around it, not around the arc's anchors);
* **keep** after the arc moved (a nudge): a track of ``previous`` stays at its position when it
  still fits that position, and only the other positions are chosen again. Fits: inside the
  position's hard ranges, and at most ``keep_within`` further from its (moved) target than the
  nearest candidate there (:func:`excess_over`: on squared distances, read at the scale of a
  typical nearest distance) — the slack is on the scoring's own scale (weighted RMS, 0..1), so a
  small nudge, which moves the targets a little, leaves most tracks within it, and a bigger one
  leaves fewer. A nudge is a step, not a new playlist: when fewer than ``keep_share`` of the
  previous tracks fit so, the ones that fit best of those still inside their ranges stay too, up
  to that share. A track outside its position's ranges always makes way.

The positions an edit fixes go to :func:`sequencing.select` as fixed picks, neighbours to the
rest. Every distance read here is one the candidates already carry
(:func:`scoring.exact_distances`, computed once by curate()): an edit is never scored another way.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from curator.engine.catalogue import Catalogue
from curator.engine.errors import EditInvalid
from curator.engine.sequencing import Candidates

# How much further from its position's target than the nearest candidate a kept track may be.
# One nudge step (valence +0.1, or energy 0.1 with tempo and loudness 8 BPM and 1.5 dB) moves the
# shipped moods' arc targets by about 0.01-0.05 on this scale. Measured over the shipped mood
# pairs (20 tracks): 0.03 alone keeps a median of 10-19 tracks for one step and 0-7 for three
# steps at once, on the labelled set, on 20,000 tracks resampled from it and on uniform ones.
KEEP_WITHIN = 0.03
# The distance scale KEEP_WITHIN was measured at: a typical nearest distance (see excess_over).
KEEP_REFERENCE = 0.1
# The least share of the previous tracks a nudge keeps while they stay inside their ranges: with
# the slack alone, pairs whose weight sits on the nudged feature kept as few as 2 of 20.
KEEP_SHARE = 0.5


@dataclass(frozen=True)
class Edit:
    """How a new playlist relates to one the listener already has (track ids by position)."""

    previous: Sequence[str] = ()  # the playlist being edited
    pinned: Mapping[int, str] = field(default_factory=dict)  # position -> track id, placed exactly there
    replace: int | None = None  # the one position of ``previous`` that changes
    keep: bool = False  # tracks of ``previous`` that still fit their position stay
    keep_within: float = KEEP_WITHIN
    keep_share: float = KEEP_SHARE

    def __post_init__(self) -> None:
        object.__setattr__(self, "previous", tuple(str(t) for t in self.previous))
        object.__setattr__(self, "pinned", {int(p): str(t) for p, t in dict(self.pinned).items()})
        if any(p < 0 for p in self.pinned):
            raise EditInvalid("A locked track's position must be 0 or more.")
        if self.replace is not None:
            if not 0 <= self.replace < len(self.previous):
                raise EditInvalid(f"There is no track {self.replace + 1} to replace in a playlist of "
                                  f"{len(self.previous)}.")
            if self.replace in self.pinned:
                raise EditInvalid("A locked track can't be replaced; unlock it first.")
            if self.keep:
                raise EditInvalid("Replace one track or keep what still fits, not both at once.")
        if self.keep and not self.previous:
            raise EditInvalid("Keeping tracks needs the playlist they come from.")
        if not (self.keep_within >= 0 and math.isfinite(self.keep_within)):
            raise EditInvalid("keep_within must be a distance of 0 or more.")
        if not 0 <= self.keep_share <= 1:
            raise EditInvalid("keep_share must be between 0 and 1.")

    @property
    def fixed_ids(self) -> dict[int, str]:
        """The positions whose track is given: the pins, and when replacing every other position."""
        if self.replace is None:
            return dict(self.pinned)
        return {**{i: t for i, t in enumerate(self.previous) if i != self.replace}, **self.pinned}

    @property
    def least_positions(self) -> int:
        """The fewest positions a playlist needs to hold every pinned track in its place."""
        return max(self.fixed_ids, default=-1) + 1


class EditRows:
    """An :class:`Edit` in catalogue rows, worked out once per curate().

    ``allowed``: which catalogue rows the request's filters let in (previous tracks they rule out
    are not kept; pinned tracks stay whatever the filters say).
    """

    def __init__(self, edit: Edit, catalogue: Catalogue, allowed: np.ndarray | None):
        self.focus = edit.replace  # the one position chosen (the nearest fit, no near-tie drawn)
        self.keep_within = edit.keep_within
        self.keep_share = edit.keep_share
        self.pinned: dict[int, int] = {}
        self.missing = 0  # pinned tracks the catalogue no longer holds: their places are chosen afresh
        for position, track_id in edit.fixed_ids.items():
            row = _row(catalogue, track_id)
            if row is None:
                self.missing += 1
            else:
                self.pinned[position] = row
        self.keepable: dict[int, int] = {}
        if edit.keep:
            for position, track_id in enumerate(edit.previous):
                row = None if position in self.pinned else _row(catalogue, track_id)
                if row is not None and (allowed is None or allowed[row]):
                    self.keepable[position] = row
        self.rows = np.unique(np.array([*self.pinned.values(), *self.keepable.values()], dtype=np.int64))

    def with_rows(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` and the edit's rows they lack, after them (``rows`` itself when none lacks)."""
        extra = self.rows[~np.isin(self.rows, rows)]
        return np.concatenate([rows, extra]) if len(extra) else rows

    def fixed(self, rows: np.ndarray, cands: Candidates, n_positions: int) -> dict[int, int]:
        """Position -> candidate index of the tracks that stay: the pins, then what keep keeps.

        ``rows`` are the candidates' catalogue rows, holding every row of :attr:`rows`."""
        order = np.argsort(rows, kind="stable")
        found = order[np.searchsorted(rows, self.rows, sorter=order)]
        index = dict(zip(self.rows.tolist(), found.tolist()))
        fixed = {p: index[r] for p, r in self.pinned.items() if p < n_positions}
        if not self.keepable:
            return fixed
        plan = cands.plan
        pinned = set(fixed.values())
        taken = {c for f in pinned for c in plan.same_recording(f)}
        # (how much further than the nearest candidate, position, candidate) of each track that may stay
        fits = []
        for position, row in self.keepable.items():
            c = index[row]
            distance = float(cands.distances[c, position]) if position < n_positions else math.inf
            if math.isfinite(distance) and c not in taken:  # else out of this position's ranges now
                fits.append((excess_over(distance, _nearest(plan.order(position), pinned)), position, c))
        least = math.ceil(self.keep_share * sum(1 for p in self.keepable if p < n_positions))
        kept = 0
        for excess, position, c in sorted(fits):
            if excess > self.keep_within and kept >= least:
                break
            if c not in taken:
                fixed[position] = c
                taken.update(plan.same_recording(c))
                kept += 1
        return fixed


def excess_over(distance: float, nearest: float) -> float:
    """How much further than the nearest candidate a track is, measured on squared distances and
    read at the scale of a typical nearest distance (KEEP_REFERENCE): near that scale it is the
    plain difference, and it does not loosen when every distance moves away from zero (a mood's
    learned term pulls its targets toward a corner of the feature box, which adds the same to
    every track's squared distance and so shrinks their plain differences)."""
    return (distance * distance - nearest * nearest) / (2 * KEEP_REFERENCE)


def _nearest(order: tuple[np.ndarray, ...], pinned: set[int]) -> float:
    """The distance of a position's nearest candidate that is not pinned elsewhere."""
    rows, dist = order[0], order[1]
    for j in range(len(rows)):
        if int(rows[j]) not in pinned:
            return float(dist[j])
    return math.inf


def _row(catalogue: Catalogue, track_id: str) -> int | None:
    rows = catalogue.rows_of([track_id])
    return int(rows[0]) if len(rows) else None
