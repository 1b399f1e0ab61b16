"""curate(): from "how I feel" to "how I want to feel", one track at a time.

Pipeline: build the arc (arc.py) -> narrow the catalogue to a few thousand promising rows
(scoring.certified_preselect: around every position, each with a radius inside which no row is
left out) -> score those exactly for every position (scoring.exact_distances) -> choose a track
per position under the sequencing rules (sequencing.select) -> check that no choice looked past
its position's radius, else widen (so the playlist is the one scoring every row would give, see
_certified_choice) -> explain each pick.
An edit of a playlist the listener has (locked tracks, one track replaced, a nudge that keeps what
still fits; edits.py) goes the same way, with the positions it fixes handed to select.
"""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from curator.engine.arc import ARC_SHAPES, LONG_ARC, Arc, build_arc, mood_point
from curator.engine.catalogue import Catalogue, remember
from curator.engine.edits import Edit, EditRows
from curator.engine.errors import CatalogueEmpty, EditInvalid, EngineError, LengthInvalid
from curator.engine.features import (
    FEATURES,
    TEMPO,
    UNKNOWN_MODE,
    denormalise,
    normalise,
    phrase_by,
    phrase_order,
)
from curator.engine.moods import MoodDefinition
from curator.engine.reasons import row_reasons
from curator.engine.scoring import (
    anchor_positions,
    anchor_terms,
    certified_preselect,
    exact_distances,
    normalised_distance,
    normalised_weights,
    preselect,
)
from curator.engine.sequencing import Candidates, Selection, camelot_codes, select
from curator.engine.taste import (
    FAMILIAR_PENALTY,
    KNOWN_CANDIDATES,
    TASTE_MEMO_ENTRIES,
    ShareControl,
    Taste,
    TasteRows,
    member,
    penalties,
    taste_phrases,
    taste_rows,
    year_mask,
)

MAX_TRACKS = 500
MAX_MINUTES = 600
# Rows kept around each anchor by the pre-selection; the union is typically 2-5 thousand rows.
PER_ANCHOR = 384
# A position is "well supplied" when it has at least this many in-range candidates; otherwise
# the fast path widens its search (see _choose).
MIN_PER_POSITION = 24
# The certified pre-selection (see _certified_choice): rows kept around every position of the arc
# at first, and how many times the positions whose choice looked further are scanned again, each
# time four times further around (128, 512, ... 32,768 rows).
CERTIFIED_PER_ANCHOR = 128
CERTIFIED_PASSES = 5
# Scored candidate sets kept per catalogue (a few thousand rows x positions of float64 each:
# ~0.5 MB for a 20-track arc, so at most ~10 MB per worker).
CANDIDATE_MEMO_ENTRIES = 16
# A track is "close" to a mood within this weighted RMS distance (a quarter of each feature's range
# off, on average). When fewer close tracks exist than the mood's share of the playlist, the preview
# says so instead of quietly filling the places from neighbouring moods (issue 10).
THIN_DISTANCE = 0.25


class OptionsInvalid(EngineError):
    """A curation option is out of range."""


@dataclass(frozen=True)
class Length:
    """Playlist length: ``Length(tracks=N)`` or ``Length(minutes=M)``."""

    tracks: int | None = None
    minutes: float | None = None

    def __post_init__(self) -> None:
        if (self.tracks is None) == (self.minutes is None):
            raise LengthInvalid("Choose a length in tracks or in minutes (exactly one of them).")
        if self.tracks is not None and not (isinstance(self.tracks, int) and 1 <= self.tracks <= MAX_TRACKS):
            raise LengthInvalid(f"A playlist needs between 1 and {MAX_TRACKS} tracks (got {self.tracks}).")
        if self.minutes is not None and not (
            isinstance(self.minutes, (int, float)) and 0 < self.minutes <= MAX_MINUTES and math.isfinite(self.minutes)
        ):
            raise LengthInvalid(f"A playlist must last more than 0 and at most {MAX_MINUTES} minutes (got {self.minutes}).")


@dataclass(frozen=True)
class CurateOptions:
    """Knobs for :func:`curate`. ``max_per_artist`` is per 20 tracks and scales with length."""

    exclude_explicit: bool = False
    max_per_artist: int = 2
    exclude_ids: frozenset[str] = frozenset()
    candidate_ids: frozenset[str] | None = None
    seed: int | None = None
    arc: str = "linear"
    max_tempo_jump: float = 25.0
    near_tie: float = 0.05  # picks within 5% (+ a small floor) of the best are treated as equals
    taste: Taste | None = None  # the listener's (engine/taste.py): a mask and a bonus over the rows

    def __post_init__(self) -> None:
        if self.arc not in ARC_SHAPES:
            raise OptionsInvalid(f"Unknown arc shape '{self.arc}'; choose one of {', '.join(ARC_SHAPES)}.")
        if self.max_per_artist < 1:
            raise OptionsInvalid("max_per_artist must be at least 1.")
        if not self.max_tempo_jump > 0:
            raise OptionsInvalid("max_tempo_jump must be a positive number of BPM.")
        if not 0 <= self.near_tie <= 1:
            raise OptionsInvalid("near_tie must be between 0 and 1.")


@dataclass(frozen=True)
class ArcStats:
    """How well the playlist follows the arc (all distances on the normalised 0..1 scale)."""

    start_distance: float  # first track to the start mood
    end_distance: float  # last track to the target mood
    mean_distance: float  # tracks to their position targets
    largest_step: float  # largest weighted distance between neighbouring tracks


@dataclass(frozen=True)
class PlaylistTrack:
    id: str
    name: str
    artists: list[str]
    duration_ms: int
    position: int
    position_target: dict[str, float]
    distance: float
    features: dict[str, float | None]
    reason: str
    album_image: str | None = None  # the catalogue's album image URL, when it knows one


@dataclass(frozen=True)
class Playlist:
    tracks: list[PlaylistTrack]
    start: str
    target: str
    seed: int
    arc: str
    stats: ArcStats
    shortfall: str | None = None
    requested: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # for the listener, e.g. a mood's thin supply

    @property
    def duration_ms(self) -> int:
        return sum(t.duration_ms for t in self.tracks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe representation."""
        data = asdict(self)
        data["duration_ms"] = self.duration_ms
        return data


def artist_cap(max_per_artist: int, n_tracks: int) -> int:
    """``max_per_artist`` applies per 20 tracks: ceil(max_per_artist * n / 20), at least 1."""
    return max(1, math.ceil(max_per_artist * n_tracks / 20))


def _eligible_mask(catalogue: Catalogue, start: MoodDefinition, target: MoodDefinition, opts: CurateOptions) -> np.ndarray | None:
    """Rows allowed by the listener's filters (None = all rows)."""
    eligible = None
    if opts.exclude_explicit or not start.allow_explicit or not target.allow_explicit:
        eligible = ~catalogue.explicit
    if opts.exclude_ids:
        if eligible is None:
            eligible = np.ones(len(catalogue), dtype=bool)
        eligible[catalogue.rows_of(opts.exclude_ids)] = False
    taste = opts.taste
    if taste is not None:
        blocked = taste_rows(catalogue, taste).blocked
        if len(blocked):
            if eligible is None:
                eligible = np.ones(len(catalogue), dtype=bool)
            eligible[blocked] = False
        years = year_mask(catalogue, taste)
        if years is not None:
            eligible = years if eligible is None else eligible & years
    return eligible


def _filter(rows: np.ndarray | None, eligible: np.ndarray | None, n: int) -> np.ndarray:
    if rows is None:
        return np.flatnonzero(eligible) if eligible is not None else np.arange(n)
    return rows[eligible[rows]] if eligible is not None else rows


def _envelope(rows: np.ndarray, catalogue: Catalogue, arc: Arc) -> np.ndarray:
    """Rows that satisfy the hard ranges of at least one position's widest bounds."""
    lo, hi = arc.lower.min(axis=0), arc.upper.max(axis=0)
    keep = np.ones(len(rows), dtype=bool)
    for f in np.flatnonzero(np.isfinite(lo) | np.isfinite(hi)):
        col = catalogue.features[rows, f]
        inside = (col >= lo[f] - 1e-6 * max(1.0, abs(lo[f]))) & (col <= hi[f] + 1e-6 * max(1.0, abs(hi[f])))
        if FEATURES[f] == "mode":
            inside |= col == UNKNOWN_MODE
        keep &= inside
    return rows[keep]


def _exact_limit(n_positions: int) -> int:
    # Pools this small are scored exhaustively; beyond it pre-selection is cheaper than scoring
    # every row at every position (the candidates x positions matrix dominates the cost).
    return int(min(20_000, max(2_000, 200_000 // n_positions)))


class _ArcFacts:
    """An arc and what curate() derives from it alone, worked out once per (moods, length, shape)."""

    def __init__(self, start: MoodDefinition, target: MoodDefinition, n_positions: int, shape: str):
        self.arc = arc = build_arc(start, target, n_positions, shape)
        for column in (arc.fractions, arc.targets, arc.weights, arc.lower, arc.upper):
            column.setflags(write=False)
        digest = hashlib.blake2b(digest_size=16)
        for part in (arc.targets, arc.weights, arc.lower, arc.upper):
            digest.update(np.ascontiguousarray(part).tobytes())
        self.digest = digest.digest()
        self.terms = anchor_terms(arc)
        self.raw_targets = denormalise(arc.targets)
        used = arc.weights.max(axis=0) > 0
        self.used_features = [(f, name) for f, name in enumerate(FEATURES) if used[f]]
        # Each position's target as a track shows it (each track gets its own copy).
        self.position_targets = [{name: row[f] for f, name in self.used_features}
                                 for row in np.round(self.raw_targets, 4).tolist()]
        self.phrase_orders = [phrase_order(w) for w in arc.weights]
        s_point, s_weight = mood_point(start)
        t_point, t_weight = mood_point(target)
        self.start_point, self.start_weights = s_point, normalised_weights(s_weight)
        self.target_point, self.target_weights = t_point, normalised_weights(t_weight)
        self.step_weights = normalised_weights(arc.weights.mean(axis=0))
        fractions = arc.fractions
        # A long arc holds its target over its last stretch (arc.LONG_ARC): those places are chosen
        # first, so the approach cannot use up the target's nearest tracks before the tail is filled.
        held = np.flatnonzero(fractions >= 1.0)
        self.tail_first = (int(held[0]) if start != target and len(fractions) > LONG_ARC and shape != "hold"
                           and len(held) > 1 and held[0] > 0 else None)
        self.steady = start == target
        if self.steady:  # a steady playlist: every place is the mood's
            self.ends = [(target, len(fractions) - 1, len(fractions))]
        else:
            self.ends = [(start, 0, int((fractions < 0.5).sum())),
                         (target, len(fractions) - 1, int((fractions >= 0.5).sum()))]


# Arcs seen lately, by the identity of their moods (the web app hands the engine the same frozen
# definitions for as long as a mood version is current); each entry holds its moods, so their
# ids stay theirs.
_ARCS: dict[tuple, tuple[MoodDefinition, MoodDefinition, _ArcFacts]] = {}
_ARCS_KEPT = 256


def _arc_facts(start: MoodDefinition, target: MoodDefinition, n_positions: int, shape: str) -> _ArcFacts:
    key = (id(start), id(target), n_positions, shape)
    kept = _ARCS.get(key)
    if kept is not None and kept[0] is start and kept[1] is target:
        return kept[2]
    facts = _ArcFacts(start, target, n_positions, shape)
    remember(_ARCS, key, (start, target, facts), _ARCS_KEPT)
    return facts


def _candidates(catalogue: Catalogue, rows: np.ndarray, arc: Arc) -> Candidates:
    id_code = catalogue.id_codes(rows)
    has_isrc = catalogue.has_isrc[rows]
    isrc_code = np.full(len(rows), -1, dtype=np.int64)
    if has_isrc.any():
        isrc_code[has_isrc] = np.unique(catalogue.isrc.raw[rows[has_isrc]], return_inverse=True)[1]
    return Candidates(
        distances=exact_distances(catalogue.features[rows], arc),
        artist=catalogue.primary_artist[rows],
        id_code=id_code,
        isrc_code=isrc_code,
        recording=catalogue.recording_key[rows],
        tempo=catalogue.features[rows, TEMPO].astype(np.float64),
        camelot=camelot_codes(catalogue.key[rows], catalogue.mode[rows]),
        durations_ms=catalogue.durations_ms[rows].astype(np.int64),
    )


def _remembered_candidates(catalogue: Catalogue, rows: np.ndarray, facts: _ArcFacts,
                           preselected: str | None = None) -> Candidates:
    """:func:`_candidates`, remembered with the catalogue (see ``Catalogue.candidate_memo``).

    ``preselected``: ``rows`` are the catalogue's remembered pre-selection of this kind for this
    arc, as they come (unfiltered), so the arc and the kind name them and they need no hashing.
    """
    memo = catalogue.candidate_memo
    arc = facts.arc
    if preselected is not None:
        key = (facts.digest, "preselected", preselected)
    else:
        digest = hashlib.blake2b(facts.digest, digest_size=16)
        digest.update(np.ascontiguousarray(rows, dtype=np.int64).tobytes())
        key = digest.digest()
    cands = memo.get(key)
    if cands is None:
        cands = _candidates(catalogue, rows, arc)
        for column in fields(cands):
            getattr(cands, column.name).setflags(write=False)
        remember(memo, key, cands, CANDIDATE_MEMO_ENTRIES)
    return cands


@dataclass
class _Attempt:
    facts: _ArcFacts
    rows: np.ndarray
    cands: Candidates
    selection: Selection
    exhaustive: bool
    plain: Candidates | None = None  # the candidates before the taste's penalties (None: the same)
    # Per position, a distance within which every eligible row is among ``rows`` (None: unknown).
    radius: np.ndarray | None = None
    slack: np.ndarray | None = None  # a taste's extra reach per position (see _taste_slack)

    @property
    def unbent(self) -> Candidates:
        """The candidates' own distances to the arc, whatever the taste preferred."""
        return self.cands if self.plain is None else self.plain

    @property
    def arc(self) -> Arc:
        return self.facts.arc

    @property
    def matching(self) -> int:
        return int(np.isfinite(self.cands.distances).any(axis=1).sum())


def _choose(
    catalogue: Catalogue,
    start: MoodDefinition,
    target: MoodDefinition,
    n_positions: int,
    opts: CurateOptions,
    base_rows: np.ndarray | None,
    eligible: np.ndarray | None,
    seed: int,
    edit: EditRows | None = None,
) -> _Attempt:
    """Fast path first; widen the search when the candidate set is thin or the length falls short.

    ``edit``: its tracks join every candidate set tried, and the positions it fixes stay fixed."""
    facts = _arc_facts(start, target, n_positions, opts.arc)
    arc = facts.arc
    cap = artist_cap(opts.max_per_artist, n_positions)
    pool_size = len(catalogue) if base_rows is None else len(base_rows)
    limit = _exact_limit(n_positions)

    taste = opts.taste
    tasted = None if taste is None else taste_rows(catalogue, taste)

    def run(rows: np.ndarray, exhaustive: bool, preselected: str | None = None) -> _Attempt:
        fixed = None
        if edit is not None:
            grown = edit.with_rows(rows)
            preselected = preselected if grown is rows else None
            rows = grown
        cands = plain = _remembered_candidates(catalogue, rows, facts, preselected)
        preferring = known = None
        if tasted is not None:
            cands, preferring, known = _tasted_candidates(catalogue, plain, rows, taste, tasted)
        if edit is not None:
            fixed = edit.fixed(rows, plain, n_positions)  # what still fits the arc, whatever the taste
        sel = select(
            cands,
            artist_cap=cap,
            max_tempo_jump=opts.max_tempo_jump,
            near_tie=0.0 if edit is not None and edit.focus is not None else opts.near_tie,
            rng=np.random.default_rng(seed),
            fixed=fixed,
            tail_first=facts.tail_first,
            steady=facts.steady and tasted is None,  # a taste's familiar places differ from the others
            preferring=preferring,
            share=None if preferring is None else ShareControl(taste.familiar, known, n_positions, fixed),
        )
        return _Attempt(facts, rows, cands, sel, exhaustive, None if cands is plain else plain)

    def with_known(rows: np.ndarray, terms) -> np.ndarray:
        """The listener's known rows join a pre-selected set (the nearest of them when many), so a
        familiar place can find them wherever the pre-selection looked."""
        if tasted is None or not len(tasted.known) or taste.familiar == 0:
            return rows
        known = _filter(_nearest_known(catalogue, taste, tasted, arc, terms), eligible, len(catalogue))
        if edit is None and base_rows is not None:
            known = known[np.isin(known, base_rows)]
        ordered = len(rows) < 2 or bool((rows[1:] >= rows[:-1]).all())
        extra = known[~(member(known, rows) if ordered else np.isin(known, rows))]
        return np.concatenate([rows, extra]) if len(extra) else rows

    if pool_size <= limit:
        return run(_filter(base_rows, eligible, len(catalogue)), True)

    # Replacing one position: the rows nearest that position itself, not the arc's anchors (a
    # position between two anchors may find its very nearest row just outside both).
    focus = None if edit is None else edit.focus
    terms = facts.terms if focus is None else anchor_terms(arc, [focus])
    # A taste whose known rows are narrowed (more than KNOWN_CANDIDATES) leaves some out that a
    # familiar place might prefer: certification could not vouch for them, so the fast path decides.
    narrowed = tasted is not None and taste.familiar > 0 and len(tasted.known) > KNOWN_CANDIDATES
    if base_rows is None and edit is None and not narrowed:
        def grow(rows: np.ndarray) -> np.ndarray:  # known rows join in row order, as scoring every row has them
            grown = with_known(rows, terms)
            return rows if grown is rows else np.sort(grown)

        attempt = _certified_choice(catalogue, facts, opts, eligible, run, grow)
        if attempt is not None:
            return attempt
        rows = preselect(catalogue.features, arc, PER_ANCHOR, catalogue.threshold_sample,
                         memo=catalogue.preselection_memo, terms=terms)
    elif base_rows is None:
        rows = preselect(catalogue.features, arc, PER_ANCHOR, catalogue.threshold_sample,
                         memo=catalogue.preselection_memo, terms=terms)
    else:
        rows = base_rows[preselect(catalogue.features[base_rows], arc, PER_ANCHOR, terms=terms)]
    preselected = f"anchors {PER_ANCHOR}" if base_rows is None and eligible is None and focus is None else None
    rows = _filter(rows, eligible, len(catalogue))
    grown = with_known(rows, terms)
    preselected = preselected if grown is rows else None
    rows = grown
    if len(rows):
        attempt = run(rows, False, preselected)
        plan = attempt.cands.plan
        supplied = plan.fewest_in_range if focus is None else len(plan.order(focus)[0])
        if supplied >= MIN_PER_POSITION and attempt.selection.unfilled == 0:
            return attempt

    # Wide path: apply the filters and the ranges' envelope to every row, then search that.
    wide = _envelope(_filter(base_rows, eligible, len(catalogue)), catalogue, arc)
    if len(wide) <= limit:
        return run(wide, True)
    picked = preselect(catalogue.features[wide], arc, PER_ANCHOR * 4, terms=terms)
    return run(with_known(wide[picked], terms), False)


def _nearest_known(catalogue: Catalogue, taste: Taste, tasted: TasteRows, arc: Arc, terms) -> np.ndarray:
    """The listener's known rows, narrowed to the ones nearest the arc's anchors when there are more
    than KNOWN_CANDIDATES (remembered per taste and anchors: a listener asks for the same arcs again)."""
    known = tasted.known
    if len(known) <= KNOWN_CANDIDATES:
        return known
    digest = hashlib.blake2b(taste.known_digest, digest_size=16)
    for part in terms:
        digest.update(np.ascontiguousarray(part).tobytes())
    key = ("nearest known", digest.digest())
    found = catalogue.taste_memo.get(key)
    if found is None:
        found = known[preselect(catalogue.features[known], arc, KNOWN_CANDIDATES // 4, terms=terms)]
        found.setflags(write=False)
        remember(catalogue.taste_memo, key, found, TASTE_MEMO_ENTRIES)
    return found


def _tasted_candidates(catalogue: Catalogue, plain: Candidates, rows: np.ndarray, taste: Taste, tasted: TasteRows,
                       ) -> tuple[Candidates, Candidates | None, np.ndarray | None]:
    """``plain`` with the taste's penalties added to its distances, as a place that prefers new rows
    sees them and (when familiar > 0 and something is known) as one that prefers known rows does;
    and which candidates are known (remembered beside ``plain``)."""
    memo = catalogue.candidate_memo
    key = ("tasted", id(plain), taste.digest, taste.familiar > 0)
    kept = memo.get(key)
    if kept is not None and kept[0] is plain:
        return kept[1]
    extra = penalties(rows, taste, tasted)
    if extra is None:
        return plain, None, None
    found = []
    for added in (extra.prefer_new, extra.prefer_known):
        if added is None:
            found.append(None)
            continue
        cands = replace(plain, distances=plain.distances + added[:, None])
        cands.distances.setflags(write=False)
        found.append(cands)
    result = (found[0], found[1], extra.known)
    remember(memo, key, (plain, result), CANDIDATE_MEMO_ENTRIES)
    return result


def _certified_choice(catalogue: Catalogue, facts: _ArcFacts, opts: CurateOptions, eligible: np.ndarray | None,
                      run, grow) -> _Attempt | None:
    """The playlist scoring every row would give, found among pre-selected rows; None when the
    pre-selection cannot show that it is (then the caller searches wider, as before).

    Every position of the arc is an anchor of the scan (scoring.certified_preselect), which gives
    each a radius within which every row is a candidate. When every pick's choice looked no
    further than its position's radius (:func:`_uncertified`), the choice is the one scoring every
    row would make. Else the positions that failed are scanned again, further around, and the
    whole choice is made and checked again (at most CERTIFIED_PASSES times). ``grow`` adds the
    rows a taste must be able to pick (its known tracks). A taste's penalties only lengthen
    distances, so a row left out is still farther than the radius, and the check holds with them.
    """
    arc = facts.arc
    anchors = anchor_positions(arc, len(arc))
    rows, radius = certified_preselect(catalogue.features, arc, CERTIFIED_PER_ANCHOR, catalogue.threshold_sample,
                                       catalogue.scan, memo=catalogue.preselection_memo, anchors=anchors)
    preselected = "certified" if eligible is None else None
    per_anchor = CERTIFIED_PER_ANCHOR
    for attempt_number in range(CERTIFIED_PASSES):
        chosen = grow(_filter(rows, eligible, len(catalogue)))
        attempt = run(chosen, False, preselected if chosen is rows else None)
        attempt.radius = radius
        attempt.slack = _taste_slack(attempt)
        failed = _uncertified(catalogue, attempt, opts)
        if failed is None:
            return attempt
        if not len(failed) or attempt_number == CERTIFIED_PASSES - 1:
            return None
        per_anchor *= 4
        more, wider = certified_preselect(catalogue.features, arc, per_anchor, catalogue.threshold_sample,
                                          catalogue.scan, memo=catalogue.preselection_memo, anchors=failed)
        rows, radius, preselected = np.union1d(rows, more), np.maximum(radius, wider), None
    return None


def _taste_slack(attempt: _Attempt) -> np.ndarray | None:
    """How much further than its radius a position may look and still be certified under a taste.

    Every known row is a candidate (grown in, never narrowed on this path), so a row left out is a
    new one: at a place that preferred known rows its distance there carries FAMILIAR_PENALTY on
    top of being beyond the radius; elsewhere nothing (penalties only lengthen distances). Which
    places preferred known rows follows from the picks before them (taste.ShareControl), which a
    certified attempt shares with scoring every row, place by place."""
    preferred = attempt.selection.preferred_known
    if not preferred:
        return None
    slack = np.zeros(len(attempt.arc))
    slack[preferred] = FAMILIAR_PENALTY
    return slack


def _uncertified(catalogue: Catalogue, attempt: _Attempt, opts: CurateOptions) -> np.ndarray | None:
    """None when the attempt's playlist is provably the one scoring every row gives; else the
    positions that could not be shown (possibly none, when what failed is not a position's)."""
    sel, radius = attempt.selection, attempt.radius
    if sel.unfilled:  # a shortfall: how many rows match is the whole catalogue's to say
        return np.empty(0, dtype=np.int64)
    positions = np.asarray(sel.positions, dtype=np.int64)
    # Each choice depended on no candidate farther than its reach (sequencing.Selection.reach).
    reach = radius if attempt.slack is None else radius + attempt.slack
    failed = positions[~(np.asarray(sel.reach) <= reach[positions])]
    if len(failed):
        return failed
    # The notes count the rows close to each end's mood: exact when the radius there covers
    # THIN_DISTANCE, or when enough are close among the candidates already.
    for mood, position, places in attempt.facts.ends:
        if _close_as_curated(attempt, catalogue, mood, position) >= places:
            continue
        if (mood.learned is not None and mood.learned.weight > 0) or not radius[position] >= THIN_DISTANCE:
            return np.empty(0, dtype=np.int64)
    return None


def _shortfall(attempt: _Attempt, filled: int, wanted: str, cap: int, filtered: bool,
               verb: str = "could be chosen") -> str:
    matching = attempt.matching
    qualifier = "" if attempt.exhaustive else "at least "
    where = "the moods' ranges and your filters" if filtered else "the moods' ranges"
    reasons = [f"{qualifier}{matching} track{'s' if matching != 1 else ''} match{'es' if matching == 1 else ''} {where}"]
    if attempt.selection.artist_cap_hit:
        reasons.append(f"at most {cap} track{'s' if cap != 1 else ''} per artist are allowed")
    return f"Only {filled} of {wanted} {verb}: " + "; ".join(reasons) + "."


def _round(value: float) -> float:
    return round(float(value), 4)


def curate(
    catalogue: Catalogue,
    start: MoodDefinition,
    target: MoodDefinition,
    length: Length,
    options: CurateOptions | None = None,
    edit: Edit | None = None,
) -> Playlist:
    """Build an iso-principle playlist from ``start`` to ``target`` mood.

    Deterministic for a given ``options.seed``; when no seed is given one is drawn and recorded
    in ``Playlist.seed`` so the playlist can be reproduced. Raises :class:`CatalogueEmpty` for an
    empty catalogue; :class:`LengthInvalid` comes from constructing ``Length``.

    ``edit`` (edits.py): pinned tracks stay at their positions; replacing one position keeps the
    length of ``edit.previous`` whatever ``length`` says; keep prefers the previous tracks that
    still fit. Raises :class:`EditInvalid` for a pinned position past a length in tracks.
    """
    opts = options or CurateOptions()
    if len(catalogue) == 0:
        raise CatalogueEmpty("The catalogue has no tracks yet, so there is nothing to choose from.")
    seed = opts.seed if opts.seed is not None else secrets.randbits(32)
    n_tracks = length.tracks
    if edit is not None:
        if edit.replace is not None:  # another track, not the one being replaced
            opts = replace(opts, exclude_ids=opts.exclude_ids | {edit.previous[edit.replace]})
            n_tracks = len(edit.previous)
        if n_tracks is not None and edit.least_positions > n_tracks:
            raise EditInvalid(f"A locked track is at position {edit.least_positions} of a playlist of {n_tracks}.")
    eligible = _eligible_mask(catalogue, start, target, opts)
    filtered = eligible is not None
    base_rows = None
    if opts.candidate_ids is not None:
        base_rows = catalogue.rows_of(opts.candidate_ids)
        filtered = True
        if len(base_rows) == 0:
            return _empty_playlist(start, target, seed, opts, length, len(opts.candidate_ids))
    edit_rows = None if edit is None else EditRows(edit, catalogue, _allowed(catalogue, eligible, base_rows))

    if n_tracks is not None:
        attempt = _choose(catalogue, start, target, n_tracks, opts, base_rows, eligible, seed, edit_rows)
        picks = attempt.selection.picks
        shortfall = None
        if len(picks) < n_tracks:
            shortfall = _shortfall(attempt, len(picks), f"{n_tracks} tracks",
                                   artist_cap(opts.max_per_artist, n_tracks), filtered)
    else:
        attempt, shortfall = _choose_for_minutes(catalogue, start, target, length.minutes, opts, base_rows, eligible,
                                                 seed, filtered, edit_rows, edit.least_positions if edit else 1)
    return _playlist(catalogue, start, target, seed, opts, length, attempt, shortfall, edit_rows)


def _allowed(catalogue: Catalogue, eligible: np.ndarray | None, base_rows: np.ndarray | None) -> np.ndarray | None:
    """Rows the request's filters and candidate ids let in (None = all)."""
    if base_rows is None:
        return eligible
    allowed = np.zeros(len(catalogue), dtype=bool)
    allowed[base_rows] = True
    return allowed if eligible is None else allowed & eligible


def _choose_for_minutes(catalogue, start, target, minutes, opts, base_rows, eligible, seed, filtered,
                        edit=None, least=1):
    """Find the track count whose arc fills ``minutes`` (minus half a typical track), at least
    ``least`` tracks (so that every pinned track keeps its place)."""
    pool = catalogue.durations_ms if base_rows is None else catalogue.durations_ms[base_rows]
    sample = pool[:: max(1, len(pool) // 4096)]
    typical = float(np.median(sample)) if len(sample) else 210_000.0
    typical = max(typical, 1_000.0)
    goal = minutes * 60_000 - typical / 2
    n = int(min(MAX_TRACKS, max(least, math.ceil(goal / typical))))
    tried: dict[int, _Attempt] = {}
    best: tuple[int, _Attempt] | None = None
    for _ in range(8):
        attempt = _choose(catalogue, start, target, n, opts, base_rows, eligible, seed, edit)
        tried[n] = attempt
        durations = attempt.cands.durations_ms[attempt.selection.picks]
        cumulative = np.cumsum(durations)
        total = int(cumulative[-1]) if len(cumulative) else 0
        if total >= goal:
            enough = int(np.searchsorted(cumulative, goal, side="left")) + 1
            if best is None or n < best[0]:
                best = (n, attempt)
            nxt = enough  # fewer tracks may do; the arc is recompressed over them
        else:
            if attempt.selection.unfilled > 0 or n >= MAX_TRACKS:
                break  # the catalogue (or the cap) cannot supply more
            nxt = min(MAX_TRACKS, n + max(1, math.ceil((goal - total) / typical)))
        nxt = max(nxt, least)
        if nxt in tried or nxt == n:
            break
        n = nxt
    if best is not None:
        return best[1], None
    attempt = tried[n]
    filled = int(attempt.cands.durations_ms[attempt.selection.picks].sum() / 60_000)
    message = _shortfall(attempt, filled, _fmt_minutes(minutes), artist_cap(opts.max_per_artist, n), filtered,
                         verb=f"minutes could be filled ({len(attempt.selection.picks)} tracks)")
    return attempt, message


def _fmt_minutes(minutes: float) -> str:
    return str(int(minutes)) if float(minutes).is_integer() else f"{minutes:g}"


def _empty_playlist(start, target, seed, opts, length, n_candidates) -> Playlist:
    wanted = f"{length.tracks} tracks" if length.tracks is not None else f"{_fmt_minutes(length.minutes)} minutes"
    return Playlist(
        tracks=[], start=start.slug, target=target.slug, seed=seed, arc=opts.arc,
        stats=ArcStats(0.0, 0.0, 0.0, 0.0),
        shortfall=f"Only 0 of {wanted} could be chosen: none of the {n_candidates} candidate tracks are in the catalogue.",
        requested=_requested(length),
    )


def _requested(length: Length) -> dict[str, float]:
    return {"tracks": length.tracks} if length.tracks is not None else {"minutes": length.minutes}


def _playlist(catalogue, start, target, seed, opts, length, attempt: _Attempt, shortfall,
              edit: EditRows | None = None) -> Playlist:
    facts, cands, sel = attempt.facts, attempt.unbent, attempt.selection
    positions = sel.positions
    rows = attempt.rows[sel.picks]
    raw = catalogue.features[rows].astype(np.float64)
    # Round and convert whole arrays once: per-value Python rounding cost more than the scoring.
    raw_rows = raw.tolist()
    feature_rows = raw.round(4).tolist()
    picked_distances = cands.distances[sel.picks, positions]
    if edit is not None:  # a pinned track may sit outside its position's ranges: how far it is
        outside = np.flatnonzero(~np.isfinite(picked_distances))
        if len(outside):
            at = np.asarray(positions)[outside]
            picked_distances[outside] = exact_distances(raw[outside], facts.arc, ranges=False)[np.arange(len(at)), at]
    rounded_distances = picked_distances.round(4)
    distances = rounded_distances.tolist()
    known_modes = [not unknown for unknown in (catalogue.mode[rows] < 0).tolist()]
    all_feats = []
    for row, known_mode in zip(feature_rows, known_modes):
        feats = dict(zip(FEATURES, row))
        if not known_mode:
            feats["mode"] = None
        all_feats.append(feats)
    # Each track against its neighbours, described by the features its position weighs most.
    phrase_orders = facts.phrase_orders
    reasons = row_reasons(feature_rows, known_modes, start.name, target.name,
                          [phrase_by(raw_row, phrase_orders[pos]) for raw_row, pos in zip(raw_rows, positions)])
    if opts.taste is not None:
        tasted = taste_rows(catalogue, opts.taste)
        phrases = taste_phrases(catalogue, rows, tasted, bool(opts.taste.known_artists))
        reasons = [reason if phrase is None else f"{phrase}. {reason}" for phrase, reason in zip(phrases, reasons)]
    position_targets = facts.position_targets
    tracks = [
        PlaylistTrack(
            id=track_id,
            name=name,
            artists=list(artists),
            duration_ms=int(duration),
            position=i,
            position_target=dict(position_targets[pos]),
            distance=distances[i],
            features=all_feats[i],
            reason=reasons[i],
            album_image=image,
        )
        for i, (pos, track_id, name, artists, duration, image) in enumerate(zip(
            positions, catalogue.ids.take(rows), catalogue.names.take(rows), catalogue.artists.take(rows),
            catalogue.durations_ms[rows].tolist(), catalogue.images.take(rows)))
    ]
    if tracks:
        norm = normalise(raw)
        steps = normalised_distance(norm[1:], norm[:-1], facts.step_weights) if len(tracks) > 1 else np.zeros(1)
        stats = ArcStats(
            start_distance=_round(normalised_distance(norm[0], facts.start_point, facts.start_weights)),
            end_distance=_round(normalised_distance(norm[-1], facts.target_point, facts.target_weights)),
            mean_distance=_round(rounded_distances.sum() / len(distances)),  # np.mean's sum and division
            largest_step=_round(steps.max()),
        )
    else:
        stats = ArcStats(0.0, 0.0, 0.0, 0.0)
    notes = _thin_supply(attempt, catalogue) if tracks else []
    if opts.taste is not None and taste_rows(catalogue, opts.taste).years_ignored:
        notes.append("The catalogue knows no release years yet, so the years you chose could not be applied.")
    if edit is not None and edit.missing:
        many = edit.missing != 1
        notes.append(f"{edit.missing} track{'s' if many else ''} that {'were' if many else 'was'} to stay "
                     f"{'are' if many else 'is'} no longer in the catalogue, so {'their places were' if many else 'its place was'} "
                     f"chosen afresh.")
    return Playlist(
        tracks=tracks, start=start.slug, target=target.slug, seed=seed, arc=opts.arc,
        stats=stats, shortfall=shortfall, requested=_requested(length), notes=notes,
    )


# One-position arcs of moods without their learned term, by the mood's identity (see _ARCS).
_PLAIN: dict[int, tuple[MoodDefinition, Arc]] = {}


def _plain_arc(mood: MoodDefinition) -> Arc:
    kept = _PLAIN.get(id(mood))
    if kept is not None and kept[0] is mood:
        return kept[1]
    plain = mood.model_copy(update={"learned": None})
    arc = build_arc(plain, plain, 1)
    remember(_PLAIN, id(mood), (mood, arc), _ARCS_KEPT)
    return arc


def _close_as_curated(attempt: _Attempt, catalogue: Catalogue, mood: MoodDefinition, position: int) -> int:
    """Candidates within THIN_DISTANCE of the mood's own targets. A learned term pulls the scoring
    targets toward its favourite corner of the feature box, a direction rather than a place, so
    closeness is measured without it (once per candidate set)."""
    plan = attempt.unbent.plan
    if mood.learned is None or mood.learned.weight <= 0:
        return plan.close(position, THIN_DISTANCE)
    key = (position, THIN_DISTANCE, "as curated")
    count = plan._close.get(key)
    if count is None:
        d = exact_distances(catalogue.features[attempt.rows], _plain_arc(mood))[:, 0]
        count = plan._close[key] = int((d <= THIN_DISTANCE).sum())
    return count


def _thin_supply(attempt: _Attempt, catalogue: Catalogue) -> list[str]:
    """A note per mood that has fewer close candidates than places in the playlist that are its."""
    notes = []
    for mood, position, places in attempt.facts.ends:
        close = _close_as_curated(attempt, catalogue, mood, position)
        if close < places:
            found = f"only {close} track{'s' if close != 1 else ''}" if close else "no track"
            notes.append(f"The catalogue has {found} close to {mood.name} for {places} place{'s' if places != 1 else ''}, "
                         f"so some picks there are the nearest available and may feel like a neighbouring mood.")
    return notes
