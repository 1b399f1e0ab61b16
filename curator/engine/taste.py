"""A listener's taste as the engine reads it: a mask and a bonus over the catalogue's rows.

:class:`Taste` is plain data the web app builds per listener (no I/O here):

* **never** track ids: tracks the listener swapped out or removed; never chosen again (a mask);
* **avoid** artist names (case-insensitive, any credited artist): none of their tracks (a mask);
* **years**: a release-year range (either end open); rows of unknown year are left out while the
  range is set, unless the catalogue knows no year at all (then the range cannot apply and
  curate() says so in a note);
* **known** track ids and artist names: what the listener plays, saves and keeps. ``familiar``
  (0-100) is the share of the playlist's tracks to come from them. Each place is filled either
  preferring known rows or preferring new ones; preferring is a penalty added to the other kind's
  distance at that place (:data:`FAMILIAR_PENALTY`, on the scoring's weighted-RMS scale), not an
  exclusion, so a place whose nearest known row is far off the arc still takes a new one and the
  arc holds. Which places prefer known rows is a share control (:class:`ShareControl`): a place
  does while the known picks so far are behind the share, so a place that could not take a known
  row passes its turn on to the next, and the share tracks the setting wherever along the arc the
  listener's music sits (a fixed pattern of places gave 0.40 at familiar = 50 in bench/taste.py);
* **less** artist names: artists the listener removed twice, a smaller penalty everywhere.

Everything is worked out once per (catalogue, taste) as row indices (:class:`TasteRows`), through
an index of the catalogue's artist names built once per catalogue (:func:`artist_index`), so a
request never loops over rows in Python.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from curator.engine.catalogue import Catalogue, remember

# Added to a row's distance at a position that prefers the other kind (known / new). On the
# weighted-RMS scale a typical nearest candidate is ~0.05-0.1 away and THIN_DISTANCE is 0.25, so a
# known row up to 0.2 further from the target than the best new one still wins a familiar place.
FAMILIAR_PENALTY = 0.2
# Added to the distance of rows by an artist the listener removed twice ("used less").
LESS_PENALTY = 0.05
# Known rows beyond this many are narrowed to the ones nearest the arc before they join the
# candidates (a large library by prolific artists must not grow the scored set without bound).
KNOWN_CANDIDATES = 1536
TASTE_MEMO_ENTRIES = 64


def _names(values) -> frozenset[str]:
    return frozenset(" ".join(str(v).split()).casefold() for v in values if str(v).strip())


@dataclass(frozen=True)
class Taste:
    """One listener's taste (see the module docstring). Names are compared case-insensitively."""

    familiar: int = 0
    never_ids: frozenset[str] = frozenset()
    avoid_artists: frozenset[str] = frozenset()
    years: tuple[int | None, int | None] = (None, None)
    known_ids: frozenset[str] = frozenset()
    known_artists: frozenset[str] = frozenset()
    less_artists: frozenset[str] = frozenset()
    digest: bytes = field(default=b"", compare=False, repr=False)
    known_digest: bytes = field(default=b"", compare=False, repr=False)  # of what it knows alone

    def __post_init__(self) -> None:
        familiar = int(self.familiar)
        if not 0 <= familiar <= 100:
            raise ValueError("familiar is a share from 0 to 100.")
        object.__setattr__(self, "familiar", familiar)
        object.__setattr__(self, "never_ids", frozenset(str(t) for t in self.never_ids))
        object.__setattr__(self, "known_ids", frozenset(str(t) for t in self.known_ids))
        for name in ("avoid_artists", "known_artists", "less_artists"):
            object.__setattr__(self, name, _names(getattr(self, name)))
        lo, hi = self.years
        object.__setattr__(self, "years", (None if lo is None else int(lo), None if hi is None else int(hi)))
        h = hashlib.blake2b(digest_size=16)
        for part in (sorted(self.never_ids), sorted(self.avoid_artists), sorted(self.known_ids),
                     sorted(self.known_artists), sorted(self.less_artists)):
            h.update("\x1f".join(part).encode())
            h.update(b"\x1e")
        h.update(repr(self.years).encode())
        object.__setattr__(self, "digest", h.digest())
        k = hashlib.blake2b(digest_size=16)
        for part in (sorted(self.known_ids), sorted(self.known_artists)):
            k.update("\x1f".join(part).encode())
            k.update(b"\x1e")
        object.__setattr__(self, "known_digest", k.digest())

    @property
    def has_known(self) -> bool:
        return bool(self.known_ids or self.known_artists)

    @property
    def years_set(self) -> bool:
        return self.years != (None, None)


@dataclass(frozen=True)
class ArtistIndex:
    """Catalogue rows by credited artist name (casefolded): rows of each artist-list code, and the
    codes each name appears in."""

    order: np.ndarray  # rows sorted by artist-list code
    starts: np.ndarray  # where each code's rows begin in ``order`` (len = vocabulary + 1)
    codes_of: dict[str, list[int]]

    def rows(self, names) -> np.ndarray:
        codes = sorted({c for name in names for c in self.codes_of.get(name, ())})
        if not codes:
            return np.empty(0, dtype=np.int64)
        parts = [self.order[self.starts[c]:self.starts[c + 1]] for c in codes]
        return np.sort(np.concatenate(parts)).astype(np.int64)


def artist_index(catalogue: Catalogue) -> ArtistIndex:
    """The catalogue's :class:`ArtistIndex`, built once and kept with it."""
    memo = catalogue.taste_memo
    index = memo.get("artist index")
    if index is None:
        codes = np.asarray(catalogue.artists.codes, dtype=np.int64)
        vocabulary = catalogue.artists.vocabulary
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(vocabulary) + 1))
        codes_of: dict[str, list[int]] = {}
        for code, text in enumerate(vocabulary):
            for name in _names(text.split("\x1f")) if text else ():
                codes_of.setdefault(name, []).append(code)
        index = memo["artist index"] = ArtistIndex(order, starts, codes_of)
    return index


@dataclass(frozen=True)
class TasteRows:
    """A :class:`Taste` in one catalogue's rows."""

    blocked: np.ndarray  # sorted rows never to choose (never-again, avoided artists)
    known: np.ndarray  # sorted rows the listener knows (their tracks, their artists' tracks)
    known_tracks: np.ndarray  # sorted rows of the listener's own tracks
    less: np.ndarray  # sorted rows by artists used less
    years_ignored: bool  # a year range was asked for but the catalogue knows no year


def taste_rows(catalogue: Catalogue, taste: Taste) -> TasteRows:
    memo = catalogue.taste_memo
    key = ("rows", taste.digest)
    found = memo.get(key)
    if found is not None:
        return found
    index = artist_index(catalogue) if (taste.avoid_artists or taste.known_artists or taste.less_artists) else None
    blocked = catalogue.rows_of(taste.never_ids)
    if taste.avoid_artists:
        blocked = np.union1d(blocked, index.rows(taste.avoid_artists))
    # What the listener knows changes less often than what they swapped out: kept apart, so the
    # next preview after a swap does not look it up again.
    kept = memo.get(("known", taste.known_digest))
    if kept is None:
        known_tracks = catalogue.rows_of(taste.known_ids)
        known = known_tracks
        if taste.known_artists:
            known = np.union1d(known, index.rows(taste.known_artists))
        kept = remember(memo, ("known", taste.known_digest), (known_tracks, known), TASTE_MEMO_ENTRIES)
    known_tracks, known = kept
    less = index.rows(taste.less_artists) if taste.less_artists else np.empty(0, dtype=np.int64)
    years_ignored = taste.years_set and not catalogue.knows_years
    found = TasteRows(blocked, known, known_tracks, less, years_ignored)
    return remember(memo, key, found, TASTE_MEMO_ENTRIES)


def year_mask(catalogue: Catalogue, taste: Taste) -> np.ndarray | None:
    """Rows inside the taste's year range (None: no range, or none can apply)."""
    if not taste.years_set or not catalogue.knows_years:
        return None
    years = catalogue.years
    lo, hi = taste.years
    inside = years > 0
    if lo is not None:
        inside &= years >= lo
    if hi is not None:
        inside &= years <= hi
    return inside


def member(rows: np.ndarray, sorted_rows: np.ndarray) -> np.ndarray:
    """``np.isin(rows, sorted_rows)`` for a sorted second array, by binary search (no sorting, no hashing)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(sorted_rows):
        return np.zeros(len(rows), dtype=bool)
    at = np.searchsorted(sorted_rows, rows)
    return sorted_rows[np.minimum(at, len(sorted_rows) - 1)] == rows


@dataclass(frozen=True)
class TastePenalties:
    """Per candidate, what the taste adds to its distance: at a place that prefers new rows
    (known rows pay FAMILIAR_PENALTY) and at one that prefers known rows (new rows pay it); and
    which candidates are known. Artists used less pay LESS_PENALTY at both."""

    prefer_new: np.ndarray
    prefer_known: np.ndarray | None  # None: nothing known, every place prefers new
    known: np.ndarray | None


def penalties(rows: np.ndarray, taste: Taste, found: TasteRows) -> TastePenalties | None:
    """The taste's :class:`TastePenalties` for candidate ``rows`` (None when it adds none)."""
    has_known = len(found.known) > 0
    less = member(rows, found.less) if len(found.less) else None
    if not has_known and less is None:
        return None
    base = LESS_PENALTY * less if less is not None else np.zeros(len(rows))
    if not has_known:
        return TastePenalties(base, None, None)
    known = member(rows, found.known)
    prefer_new = base + FAMILIAR_PENALTY * known
    prefer_known = base + FAMILIAR_PENALTY * ~known if taste.familiar > 0 else None
    return TastePenalties(prefer_new, prefer_known, known)


class ShareControl:
    """Which kind each free place prefers, so that the playlist's share of known rows tracks
    ``familiar`` (a share control, not a fixed pattern).

    The places are filled in order; a place prefers known rows while the known picks so far are
    behind round(familiar% of the places so far). A place that preferred known rows but took a
    new one (none of the listener's rows near enough to its target, or the rules of sequencing
    left none) leaves the next place behind, so it prefers known rows in turn; a known row taken
    where new ones were preferred counts the other way. Fixed places (an edit's kept tracks) count
    with what they hold: the free ones make up the rest of the share. With nothing known, or
    familiar = 0, every place prefers new rows.
    """

    def __init__(self, familiar: int, known: np.ndarray, n_positions: int, fixed: dict[int, int] | None = None):
        self.known = known
        fixed = fixed or {}
        self.free = sum(1 for p in range(n_positions) if p not in fixed)
        wanted = int(round(familiar * n_positions / 100))
        self.target = max(0, min(self.free, wanted - sum(int(known[c]) for c in fixed.values())))
        self.done = 0  # free places passed
        self.known_picks = 0

    def wants_known(self) -> bool:
        """Whether the next free place prefers known rows: the known picks are behind round(the
        share of the places up to and including it)."""
        free = max(self.free, 1)
        return self.known_picks < (2 * (self.done + 1) * self.target + free) // (2 * free)

    def passed(self, choice: int | None) -> None:
        self.done += 1
        if choice is not None and self.known[choice]:
            self.known_picks += 1


def taste_phrases(catalogue: Catalogue, rows: np.ndarray, found: TasteRows, index_known_artists: bool) -> list[str | None]:
    """What each picked row is to the listener, in a few words (None: nothing to say)."""
    if not len(found.known):
        return [None] * len(rows)
    own = member(rows, found.known_tracks)
    known = member(rows, found.known)
    phrases: list[str | None] = []
    for i, (is_own, is_known) in enumerate(zip(own.tolist(), known.tolist())):
        if is_own:
            phrases.append("A track you know")
        elif is_known and index_known_artists:
            phrases.append("An artist you play often")
        elif i > 0:
            phrases.append("New to you, close to the last track")
        else:
            phrases.append("New to you")
    return phrases


def artists_starting(catalogue: Catalogue, prefix: str, limit: int = 10) -> list[str]:
    """Up to ``limit`` artist names of the catalogue starting with ``prefix`` (case-insensitive),
    as the catalogue spells them, alphabetically (a sorted list kept with the catalogue, bisected)."""
    import bisect

    wanted = " ".join(prefix.split()).casefold()
    if not wanted:
        return []
    index = artist_index(catalogue)
    memo = catalogue.taste_memo
    names = memo.get("artist names")
    if names is None:
        names = memo["artist names"] = sorted(index.codes_of)
    vocabulary = catalogue.artists.vocabulary
    out = []
    for key in names[bisect.bisect_left(names, wanted):]:
        if not key.startswith(wanted) or len(out) >= limit:
            break
        text = vocabulary[index.codes_of[key][0]]
        out.append(next((n for n in text.split("\x1f") if " ".join(n.split()).casefold() == key), key))
    return out
