"""Choosing one track per position: greedy along the arc, with the rules a good DJ follows.

Rules, from hard to soft:
  * never the same recording twice (same id, same ISRC or same normalised title + artist);
  * at most ``artist_cap`` tracks per (primary) artist, and never the same artist twice in a row;
  * tempo moves by at most ``max_tempo_jump`` BPM between neighbours — when some candidate allows
    it; otherwise the rule is relaxed for that step rather than leaving a gap;
  * among *near-ties* (within ``near_tie`` of the best distance) prefer harmonically compatible
    keys on the Camelot wheel, then pick at random with the seeded generator. Sampling only among
    near-ties keeps quality while letting another seed give another playlist.

Some positions may be fixed in advance (a listener's locked tracks, the tracks an edit keeps):
they are placed as given, count towards the artist cap and the duplicate rule from the start, and
the free positions around them keep the rules with them as neighbours (the track before, and the
track after when that one is fixed). Within one position's choice a fixed next neighbour weighs
like the last pick: not its artist, and within ``max_tempo_jump`` of both when some candidate is.

Everything here works on a small candidate set (thousands of rows). Each position looks at its
candidates nearest first and stops once the near-tie band is closed (a few dozen rows, usually):
that walk runs in plain Python over the position's nearest rows as lists, since numpy's cost per
call (microseconds) outweighs the work on so few values. Only when those rows cannot settle a
position does it take vectorised passes over longer prefixes.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

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

    @cached_property
    def plan(self) -> _Plan:
        """What :func:`select` reads on every call, derived once (candidates are remembered and
        read-only, see ``curate._remembered_candidates``)."""
        return _Plan(self)


class _Plan:
    """Per-candidate-set lookups for :func:`select`: per position the in-range candidates in
    distance order (filled when a position is first asked for), and which candidates share a
    recording, id or ISRC with another."""

    def __init__(self, cands: Candidates):
        self.cands = cands
        self.n_positions = cands.distances.shape[1]
        finite = np.isfinite(cands.distances)
        self.usable = finite.any(axis=1)
        # The in-range candidates of the position that has fewest (how well supplied the arc is).
        self.fewest_in_range = int(finite.sum(axis=0).min()) if finite.size else 0
        self.artist = cands.artist.tolist()
        self.isrc_code = cands.isrc_code.tolist()
        self.camelot = cands.camelot.tolist()
        self.tempo = cands.tempo.tolist()
        self._orders: list[tuple[np.ndarray, ...] | None] = [None] * self.n_positions
        self._heads: list[tuple | None] = [None] * self.n_positions
        self._artists: dict[int, np.ndarray] = {}
        self._close: dict[tuple[int, float], int] = {}
        self._tails: dict[int, Candidates] = {}
        # Candidates that share a recording, an id or an ISRC with some other candidate, by value.
        known_isrc = np.flatnonzero(cands.isrc_code >= 0)  # unknown ISRCs are no match for each other
        self._shared = [_duplicates(cands.recording), _duplicates(cands.id_code),
                        _duplicates(cands.isrc_code[known_isrc], known_isrc)]
        self._columns = (cands.recording.tolist(), cands.id_code.tolist(), self.isrc_code)

    def order(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Position ``p``'s in-range candidates nearest first: (candidate, distance, artist, tempo)."""
        kept = self._orders[p]
        if kept is None:
            dist = self.cands.distances[:, p]
            rows = np.flatnonzero(np.isfinite(dist))
            rows = rows[np.argsort(dist[rows], kind="stable")]
            kept = (rows, dist[rows], self.cands.artist[rows], self.cands.tempo[rows])
            for column in kept:
                column.setflags(write=False)
            self._orders[p] = kept
        return kept

    def head(self, p: int) -> tuple[list[int], list[float], list[int], list[float], bool]:
        """The first :data:`FIRST_LOOK` rows of :meth:`order` as lists, and whether that is all of them."""
        kept = self._heads[p]
        if kept is None:
            rows, dist, artists, tempos = self.order(p)
            kept = self._heads[p] = (rows[:FIRST_LOOK].tolist(), dist[:FIRST_LOOK].tolist(),
                                     artists[:FIRST_LOOK].tolist(), tempos[:FIRST_LOOK].tolist(),
                                     len(rows) <= FIRST_LOOK)
        return kept

    def tail(self, first: int) -> Candidates:
        """The candidates as positions ``first`` onwards see them (remembered with this plan, so a
        remembered candidate set's tail keeps its own plan too)."""
        kept = self._tails.get(first)
        if kept is None:
            kept = self._tails[first] = replace(self.cands, distances=self.cands.distances[:, first:])
        return kept

    def same_recording(self, c: int) -> list[int]:
        """Candidates that are the same recording as ``c`` (same id, ISRC or recording key), ``c`` too."""
        found = [c]
        for shared, column in zip(self._shared, self._columns):
            if shared and column[c] in shared:
                found.extend(shared[column[c]])
        return found

    def of_artist(self, artist: int) -> np.ndarray:
        """The candidates by ``artist``."""
        rows = self._artists.get(artist)
        if rows is None:
            rows = self._artists[artist] = np.flatnonzero(self.cands.artist == artist)
        return rows

    def close(self, p: int, within: float) -> int:
        """How many candidates are within ``within`` of position ``p``'s target."""
        count = self._close.get((p, within))
        if count is None:
            count = self._close[(p, within)] = int((self.cands.distances[:, p] <= within).sum())
        return count


def _duplicates(values: np.ndarray, rows: np.ndarray | None = None) -> dict[int, list[int]]:
    """{value: candidate indices} for the values more than one candidate has; ``rows`` are the
    candidate indices of ``values`` (default: their positions)."""
    if len(values) < 2:
        return {}
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    repeated = np.flatnonzero(ordered[1:] == ordered[:-1])
    if not repeated.size:
        return {}
    if rows is not None:
        order = rows[order]
    found: dict[int, list[int]] = {}
    for i in repeated.tolist():
        group = found.setdefault(int(ordered[i]), [int(order[i])])
        group.append(int(order[i + 1]))
    return found


@dataclass
class Selection:
    picks: list[int]  # candidate index per filled position, in order
    positions: list[int]  # arc position of each pick
    unfilled: int
    artist_cap_hit: bool
    # Per pick, how far its choice looked: it depends on no candidate farther than this (exactly
    # this far only for a band's end), so any set holding every candidate within it chooses alike.
    # Infinite when the tempo rule was relaxed (no candidate anywhere was in tempo); 0 when fixed.
    reach: list[float] = field(default_factory=list)
    # The places chosen with the distances that prefer the listener's known rows (``share``).
    preferred_known: list[int] = field(default_factory=list)


def select(
    cands: Candidates,
    *,
    artist_cap: int,
    max_tempo_jump: float,
    near_tie: float,
    rng: np.random.Generator,
    fixed: Mapping[int, int] | None = None,
    tail_first: int | None = None,
    steady: bool = False,
    preferring: Candidates | None = None,
    share=None,
) -> Selection:
    """Greedy choice per position (see module docstring). Unfillable positions are skipped.

    ``fixed``: position -> candidate placed there as it is (see the module docstring).
    ``steady``: every position wants the same (a steady playlist of one mood): the tracks are chosen
    first, as near as the other rules allow, and then put in an order that keeps the tempo rule
    where it can (see :func:`_in_flow`), so the rule shapes the order rather than which tracks.
    ``tail_first``: the positions from this one to the end all want the same (a long arc's held
    target) and are chosen first, as a steady playlist of their own; then the ones before it, the
    tail's first track as their next neighbour. So the approach cannot use up the target's nearest
    tracks before the tail is filled.
    ``preferring``: the same candidates with the distances of a place that prefers other rows (a
    listener's known ones, engine/taste.py); ``share`` says before each free place whether it does
    (``wants_known()``) and hears what was picked there (``passed(candidate or None)``).
    With ``fixed`` positions (an edit's) or a ``share`` (it decides place by place, in order), every
    position is chosen in turn, left to right."""
    n_positions = cands.distances.shape[1]
    if fixed or share is not None:
        steady, tail_first = False, None
    if tail_first is not None and 0 < tail_first < n_positions:
        tail = select(cands.plan.tail(tail_first), artist_cap=artist_cap,
                      max_tempo_jump=max_tempo_jump, near_tie=near_tie, rng=rng, steady=True)
        placed = {tail_first + p: c for p, c in zip(tail.positions, tail.picks)}
        whole = select(cands, artist_cap=artist_cap, max_tempo_jump=max_tempo_jump, near_tie=near_tie, rng=rng,
                       fixed=placed)
        reach = dict(zip(placed, tail.reach))  # the tail's own, not a fixed position's 0
        return replace(whole, reach=[reach.get(p, r) for p, r in zip(whole.positions, whole.reach)],
                       artist_cap_hit=whole.artist_cap_hit or tail.artist_cap_hit)
    if steady:
        chosen = select(cands, artist_cap=artist_cap, max_tempo_jump=math.inf, near_tie=near_tie, rng=rng)
        return _in_flow(cands, chosen, max_tempo_jump)
    plan = cands.plan
    n_positions = plan.n_positions
    artist, camelot = plan.artist, plan.camelot
    # Candidates ruled out for the rest of the playlist: a picked recording, an artist at the cap.
    # One set of flags, read one by one as a bytearray and as a whole through the numpy view.
    blocked = bytearray(len(artist))
    blocked_rows = np.frombuffer(blocked, dtype=np.bool_)
    artist_counts: dict[int, int] = {}
    picks: list[int] = []
    positions: list[int] = []
    reach: list[float] = []
    cap_hit = False
    if fixed:
        for choice in fixed.values():
            for c in plan.same_recording(choice):
                blocked[c] = 1
            a = artist[choice]
            artist_counts[a] = artist_counts.get(a, 0) + 1
        for a, count in artist_counts.items():
            if count >= artist_cap:
                theirs = plan.of_artist(a)
                cap_hit = cap_hit or bool((plan.usable[theirs] & ~blocked_rows[theirs]).any())
                blocked_rows[theirs] = True
    last = -1
    plain_plan, plain_cands, preferred = plan, cands, []
    for p in range(n_positions):
        nxt = -1
        if fixed:
            if p in fixed:
                last = fixed[p]
                picks.append(last)
                positions.append(p)
                reach.append(0.0)
                continue
            nxt = fixed.get(p + 1, -1)
        plan, cands = plain_plan, plain_cands
        if share is not None and preferring is not None and share.wants_known():
            plan, cands = preferring.plan, preferring
            preferred.append(p)
        # The nearest rows' walk knows one neighbour; a fixed next one goes the vectorised way.
        found = _near_ties_head(plan, p, last, blocked, max_tempo_jump, near_tie) if nxt < 0 else None
        if found is None:  # the nearest rows cannot settle it: look further
            ties, looked = _near_ties(plan, p, last, blocked_rows, max_tempo_jump, near_tie, nxt)
            if len(ties) > MAX_TIES:
                chosen = np.array(ties)
                near = cands.distances[chosen, p]
                nearest = np.argpartition(near, MAX_TIES - 1)
                if math.isfinite(looked):  # the MAX_TIES nearest, when set apart from the rest, are all it needed
                    kept, rest = near[nearest[:MAX_TIES]].max(), near[nearest[MAX_TIES:]].min()
                    looked = float(kept) if rest > kept else looked
                ties = chosen[nearest[:MAX_TIES]].tolist()
        else:
            ties, looked = found
        if not ties:
            if share is not None:
                share.passed(None)
            continue
        if last >= 0 and len(ties) > 1:
            mixes = _MIXES_WITH[camelot[last] + 1]
            smooth = [c for c in ties if camelot[c] in mixes]
            if smooth:
                ties = smooth
        ties.sort()  # order-independent sampling => determinism for a seed
        choice = ties[int(rng.integers(len(ties)))] if len(ties) > 1 else ties[0]
        picks.append(choice)
        positions.append(p)
        reach.append(looked)
        last = choice
        if share is not None:
            share.passed(choice)
        for c in plan.same_recording(choice):
            blocked[c] = 1
        a = artist[choice]
        artist_counts[a] = artist_counts.get(a, 0) + 1
        if artist_counts[a] >= artist_cap:
            theirs = plan.of_artist(a)
            # Did the cap shut out a track that could have filled some position?
            cap_hit = cap_hit or bool((plan.usable[theirs] & ~blocked_rows[theirs]).any())
            blocked_rows[theirs] = True
    return Selection(picks=picks, positions=positions, unfilled=n_positions - len(picks), artist_cap_hit=cap_hit,
                     reach=reach, preferred_known=preferred)


def _in_flow(cands: Candidates, chosen: Selection, max_tempo_jump: float) -> Selection:
    """A steady playlist's tracks in an order for listening: each place takes the first (in the
    order they were chosen, nearest first) of the tracks left that is not by the last one's
    artist and within ``max_tempo_jump`` of its tempo; else the first not by that artist. When
    only the last one's artist is left, the order they were chosen in stands (it never puts an
    artist twice running). Every place's reach is the largest of the choice's: the set of tracks
    depends on no candidate farther than that, and the order on nothing but the set."""
    plan = cands.plan
    left = list(chosen.picks)
    ordered: list[int] = []
    last = -1
    while left:
        pick = 0
        if last >= 0:
            artist, tempo = plan.artist[last], plan.tempo[last]
            others = [i for i, c in enumerate(left) if plan.artist[c] != artist]
            if not others:
                ordered = list(chosen.picks)
                break
            in_tempo = [i for i in others if abs(plan.tempo[left[i]] - tempo) <= max_tempo_jump]
            pick = in_tempo[0] if in_tempo else others[0]
        last = left.pop(pick)
        ordered.append(last)
    reach = [max(chosen.reach)] * len(ordered) if ordered else []
    return Selection(picks=ordered, positions=list(chosen.positions), unfilled=chosen.unfilled,
                     artist_cap_hit=chosen.artist_cap_hit, reach=reach)


# Nearest candidates a position looks at first; it looks further only when these cannot tell.
FIRST_LOOK = 64


def _near_ties_head(plan: _Plan, p: int, last: int, blocked: bytearray, max_tempo_jump: float,
                    near_tie: float) -> tuple[list[int], float] | None:
    """:func:`_near_ties`, capped at the :data:`MAX_TIES` nearest as :func:`select` caps them, from
    position ``p``'s :meth:`_Plan.head` alone; None when those rows cannot tell (no allowed
    candidate in tempo among them, the band going on beyond them, or the nearest
    :data:`MAX_TIES` not set apart from the rest by their distance). With the ties, how far the
    choice looked (see ``Selection.reach``)."""
    rows, dist, artists, tempos, complete = plan.head(p)
    k = len(rows)
    first = -1
    if last < 0:
        last_artist, last_tempo = None, 0.0
        for j in range(k):
            if not blocked[rows[j]]:
                first = j
                break
    else:
        last_artist, last_tempo = plan.artist[last], plan.tempo[last]
        for j in range(k):
            if blocked[rows[j]] or artists[j] == last_artist:
                continue
            if abs(tempos[j] - last_tempo) <= max_tempo_jump:
                first = j
                break
    if first < 0:
        return ([], math.inf) if complete and last < 0 else None
    band = dist[first] * (1.0 + near_tie) + near_tie * TIE_FLOOR
    ties = [rows[first]]
    farthest = dist[first]  # of the ties so far
    for j in range(first + 1, k):
        d = dist[j]
        if d > band:
            break
        c = rows[j]
        if blocked[c] or (last >= 0 and (artists[j] == last_artist or not abs(tempos[j] - last_tempo) <= max_tempo_jump)):
            continue
        if len(ties) == MAX_TIES:
            # A further tie: select keeps the MAX_TIES nearest, which these are unless this one is
            # as near as the last of them (then numpy's choice among equals decides).
            return (ties, farthest) if farthest < d else None
        ties.append(c)
        farthest = d
    else:
        if not complete:  # the band may go on beyond the rows looked at
            return None
    return ties, band


def _near_ties(plan: _Plan, p: int, last: int, blocked: np.ndarray, max_tempo_jump: float,
               near_tie: float, nxt: int = -1) -> tuple[list[int], float]:
    """Position ``p``'s near-ties: the allowed candidates within the near-tie band of the nearest
    allowed one (candidate indices, ascending; [] when none is allowed).

    Allowed: in range here, not blocked, not by the artist of a neighbour (the last pick, and the
    fixed next track ``nxt`` when there is one), and within ``max_tempo_jump`` of those
    neighbours' tempos when any candidate allowed otherwise is. The candidates are in distance
    order, so only a prefix needs looking at: up to the end of the band once a candidate in tempo
    is found, everything when none is. With the ties, how far the choice looked (the band's end;
    infinite when the tempo rule was relaxed, see ``Selection.reach``).
    """
    rows, dist, artists, tempos = plan.order(p)
    neighbours = [c for c in (last, nxt) if c >= 0]
    n = len(rows)
    k = min(n, FIRST_LOOK)
    while True:
        seen = rows[:k]
        ok = ~blocked[seen]
        for c in neighbours:
            ok &= artists[:k] != plan.artist[c]
        in_tempo = ok
        for c in neighbours:
            in_tempo = in_tempo & (np.abs(tempos[:k] - plan.cands.tempo[c]) <= max_tempo_jump)
        first = int(in_tempo.argmax()) if k else 0
        if k and in_tempo[first]:
            allowed = in_tempo
        elif k < n:  # no candidate in tempo yet: whether there is one decides the rule
            k = min(n, 4 * k)
            continue
        else:  # none anywhere: the tempo rule is relaxed for this step
            allowed = ok
            first = int(ok.argmax()) if k else 0
            if not k or not ok[first]:
                return [], math.inf
        band = float(dist[first]) * (1.0 + near_tie) + near_tie * TIE_FLOOR
        end = int(dist.searchsorted(band, side="right"))
        if end > k:  # the band goes on beyond what was looked at
            k = end
            continue
        ties = seen[:end][allowed[:end]].tolist()
        ties.sort()
        return ties, (band if allowed is in_tempo else math.inf)


def _compatible(code: int, last: int) -> bool:
    """:func:`camelot_compatible` for one pair of codes."""
    if last < 0 or code < 0:
        return False
    step = (code % 12 - last % 12) % 12
    return step == 0 or (code // 12 == last // 12 and step in (1, 11))


# The codes (-1..23, see camelot_codes) that mix with each code, at index code + 1.
_MIXES_WITH = [frozenset(c for c in range(24) if _compatible(c, last)) for last in range(-1, 24)]
