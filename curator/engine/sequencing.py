"""Choosing one track per position: greedy along the arc, with the rules a good DJ follows.

Rules, from hard to soft:
  * never the same recording twice (same id, same ISRC or same normalised title + artist);
  * at most ``artist_cap`` tracks per (primary) artist, and never the same artist twice in a row;
  * tempo moves by at most ``max_tempo_jump`` BPM between neighbours — when some candidate allows
    it; otherwise the rule is relaxed for that step rather than leaving a gap;
  * among *near-ties* (within ``near_tie`` of the best distance) prefer harmonically compatible
    keys on the Camelot wheel, then pick at random with the seeded generator. Sampling only among
    near-ties keeps quality while letting another seed give another playlist.

Everything here works on a small candidate set (thousands of rows), one vectorised pass per
position.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_TIES = 12
# Absolute floor for the near-tie band so a catalogue with exact matches (distance 0) still varies.
TIE_FLOOR = 0.02


def camelot_codes(key: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Camelot wheel code per track: number-1 (0..11) + 12 for major ("B"), or -1 if unknown."""
    key = np.asarray(key, dtype=np.int64)
    mode = np.asarray(mode, dtype=np.int64)
    # A minor key shares its number with its relative major, three semitones up.
    major_key = np.where(mode == 1, key, (key + 3) % 12)
    number = ((major_key * 7) % 12 + 7) % 12  # C major -> 7 (i.e. "8B"), G -> 8 ("9B"), ...
    code = number + 12 * (mode == 1)
    return np.where((key >= 0) & (mode >= 0), code, -1)


def camelot_compatible(codes: np.ndarray, code: int) -> np.ndarray:
    """Which codes mix smoothly with ``code``: same key, relative major/minor, or one step round."""
    codes = np.asarray(codes)
    if code < 0:
        return np.zeros(codes.shape, dtype=bool)
    num, letter = code % 12, code // 12
    step = (codes % 12 - num) % 12
    same_letter = codes // 12 == letter
    return (codes >= 0) & ((step == 0) | (same_letter & ((step == 1) | (step == 11))))


@dataclass
class Candidates:
    """Columns of the candidate rows, aligned with the distance matrix."""

    distances: np.ndarray  # (C, P)
    artist: np.ndarray  # (C,) int
    id_code: np.ndarray  # (C,) int, equal codes = same track id
    isrc_code: np.ndarray  # (C,) int, -1 unknown
    recording: np.ndarray  # (C,) int64
    tempo: np.ndarray  # (C,) float
    camelot: np.ndarray  # (C,) int, -1 unknown
    durations_ms: np.ndarray  # (C,) int


@dataclass
class Selection:
    picks: list[int]  # candidate index per filled position, in order
    positions: list[int]  # arc position of each pick
    unfilled: int
    artist_cap_hit: bool


def select(
    cands: Candidates,
    *,
    artist_cap: int,
    max_tempo_jump: float,
    near_tie: float,
    rng: np.random.Generator,
) -> Selection:
    """Greedy choice per position (see module docstring). Unfillable positions are skipped."""
    n_cands, n_positions = cands.distances.shape
    blocked = np.zeros(n_cands, dtype=bool)
    # One position's distances as a contiguous row, +inf already meaning "not allowed here".
    by_position = np.ascontiguousarray(cands.distances.T)
    finite = np.isfinite(by_position)
    usable = finite.any(axis=0)
    artist_counts: dict[int, int] = {}
    picks: list[int] = []
    positions: list[int] = []
    cap_hit = False
    last = -1
    for p in range(n_positions):
        dist = by_position[p]
        ok = finite[p] & ~blocked
        if last >= 0:
            ok &= cands.artist != cands.artist[last]
            in_tempo = ok & (np.abs(cands.tempo - cands.tempo[last]) <= max_tempo_jump)
            if in_tempo.any():
                ok = in_tempo
        if not ok.any():
            continue
        masked = np.where(ok, dist, math.inf)
        best = float(masked.min())
        band = best * (1.0 + near_tie) + near_tie * TIE_FLOOR
        ties = np.flatnonzero(masked <= band)
        if ties.size > MAX_TIES:
            ties = ties[np.argpartition(masked[ties], MAX_TIES - 1)[:MAX_TIES]]
        if last >= 0 and ties.size > 1:
            smooth = ties[camelot_compatible(cands.camelot[ties], int(cands.camelot[last]))]
            if smooth.size:
                ties = smooth
        ties = np.sort(ties)  # order-independent sampling => determinism for a seed
        choice = int(ties[rng.integers(ties.size)]) if ties.size > 1 else int(ties[0])
        picks.append(choice)
        positions.append(p)
        last = choice
        blocked |= cands.recording == cands.recording[choice]
        blocked |= cands.id_code == cands.id_code[choice]
        if cands.isrc_code[choice] >= 0:
            blocked |= cands.isrc_code == cands.isrc_code[choice]
        artist = int(cands.artist[choice])
        artist_counts[artist] = artist_counts.get(artist, 0) + 1
        if artist_counts[artist] >= artist_cap:
            before = blocked.copy()
            blocked |= cands.artist == artist
            cap_hit = cap_hit or bool((blocked & ~before & usable).any())
    return Selection(picks=picks, positions=positions, unfilled=n_positions - len(picks), artist_cap_hit=cap_hit)
