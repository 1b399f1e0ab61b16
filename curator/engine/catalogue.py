"""The track catalogue as columns of numpy arrays, so scoring never loops over tracks in Python.

Memory: the only (n, features) matrix is ``features`` (float32, raw units): 10 x 4 bytes =
40 MB per million tracks. We deliberately keep no normalised copy — normalisation is folded
into the scoring weights instead (see scoring.py). Text columns hold no Python object per track
either: ids and ISRCs are fixed-width byte arrays, names one UTF-8 buffer with offsets, artists
and tags small vocabularies with an int32 code per row. So every column is a plain array that
can be stored and memory-mapped as it is (:meth:`Catalogue.to_arrays` / :meth:`from_stored_arrays`),
and web workers share one copy of a million tracks instead of holding a gigabyte of objects each.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from curator.engine.errors import RecordInvalid
from curator.engine.features import FEATURES, MODE, N_FEATURES, UNKNOWN_MODE

# Words that mark a different *release* of the same recording, not a different song.
_VERSION_WORDS = r"(remaster(ed)?|live|mono|stereo|radio edit|edit|single version|album version|version|deluxe|bonus track|explicit|clean|feat\.?|ft\.?|featuring|with)"
_BRACKETED = re.compile(r"[\(\[][^\)\]]*\b" + _VERSION_WORDS + r"\b[^\)\]]*[\)\]]")
_DASH_SUFFIX = re.compile(r"\s+-\s+[^-]*\b" + _VERSION_WORDS.replace("|with)", ")") + r"\b.*$")
_FEAT = re.compile(r"\s+(feat\.?|ft\.?|featuring)\s+.*$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Joins the parts of one vocabulary entry (an artist list, a tag set) in a stored text column.
_PART = "\x1f"


def normalise_title(title: str) -> str:
    """Lowercase a title and strip release decorations ("- Remastered 2011", "(Live)", "feat. X")."""
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode().lower()
    text = _BRACKETED.sub(" ", text)
    text = _DASH_SUFFIX.sub("", text)
    text = _FEAT.sub("", text)
    return _NON_ALNUM.sub(" ", text).strip()


def recording_key(title: str, primary_artist: str) -> int:
    """A 64-bit hash of the normalised title and primary artist, for duplicate detection."""
    artist = _NON_ALNUM.sub(" ", (primary_artist or "").lower()).strip()
    digest = hashlib.blake2b(f"{normalise_title(title)}\x1f{artist}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def scan_matrix(features: np.ndarray) -> np.ndarray:
    """The rows of a raw (n, F) float32 matrix as [x*x, x, 1], transposed: (2F + 1, n) float32."""
    x = np.asarray(features, dtype=np.float32)
    f = x.shape[1]
    out = np.empty((2 * f + 1, x.shape[0]), dtype=np.float32)
    out[:f] = (x * x).T
    out[f : 2 * f] = x.T
    out[2 * f] = 1.0
    return out


def remember(memo: dict, key: Any, value: Any, limit: int) -> Any:
    """``memo[key] = value``, dropping the oldest entries beyond ``limit``. Web workers' threads
    share these memos: another thread changing the dict while the oldest key is looked up only
    skips this round's dropping (a lost or doubled entry costs a recomputation, never an error)."""
    while len(memo) >= limit:
        try:
            memo.pop(next(iter(memo)), None)
        except (StopIteration, RuntimeError):
            break
    memo[key] = value
    return value


class _Column:
    """A read-only sequence over rows: ``col[i]`` is one value, ``col[rows or mask]`` an object array."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _one(self, i: int) -> Any:
        raise NotImplementedError

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            i = int(key)
            if i < 0:
                i += len(self)
            if not 0 <= i < len(self):
                raise IndexError(key)
            return self._one(i)
        rows = np.arange(len(self))[key]
        out = np.empty(len(rows), dtype=object)
        out[:] = [self._one(int(i)) for i in rows]
        return out

    def __iter__(self) -> Iterator[Any]:
        return (self._one(i) for i in range(len(self)))

    def take(self, rows: np.ndarray) -> list[Any]:
        """``[col[i] for i in rows]`` for valid, non-negative row indices, without the checks."""
        return [self._one(i) for i in np.asarray(rows, dtype=np.int64).tolist()]

    def __eq__(self, other) -> bool:
        return isinstance(other, (_Column, Sequence, np.ndarray)) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class Keys(_Column):
    """Short text keys (track ids, ISRCs) in one fixed-width bytes array (sortable, searchable)."""

    def __init__(self, raw: np.ndarray, none_if_empty: bool = False):
        self.raw = raw
        self.none_if_empty = none_if_empty

    @classmethod
    def of(cls, values: Iterable[str | None], none_if_empty: bool = False) -> Keys:
        encoded = [(v or "").encode() for v in values]
        return cls(np.array(encoded, dtype=bytes) if encoded else np.empty(0, dtype="S1"), none_if_empty)

    def __len__(self) -> int:
        return len(self.raw)

    def _one(self, i: int) -> str | None:
        text = self.raw[i].decode()
        return None if self.none_if_empty and not text else text

    def take(self, rows: np.ndarray) -> list[str | None]:
        texts = [key.decode() for key in self.raw[np.asarray(rows, dtype=np.int64)].tolist()]
        return [text or None for text in texts] if self.none_if_empty else texts


class Texts(_Column):
    """Free text (track names) as one UTF-8 byte buffer and row offsets into it."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray):
        self.data = data
        self.offsets = offsets

    @classmethod
    def of(cls, values: Iterable[str]) -> Texts:
        encoded = [v.encode() for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _one(self, i: int) -> str:
        return self.data[self.offsets[i]:self.offsets[i + 1]].tobytes().decode()

    def take(self, rows: np.ndarray) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64)
        data = memoryview(self.data)  # sliced more cheaply than the array
        return [data[a:b].tobytes().decode() for a, b in zip(self.offsets[rows].tolist(), self.offsets[rows + 1].tolist())]

    def __iter__(self) -> Iterator[str]:
        blob = self.data.tobytes()
        bounds = self.offsets.tolist()
        return (blob[a:b].decode() for a, b in zip(bounds, bounds[1:]))


class Coded(_Column):
    """Values that repeat across rows (artist lists, tag sets): an int32 code per row into a
    vocabulary stored as text, each entry decoded when first asked for."""

    def __init__(self, codes: np.ndarray, vocabulary: Texts, decode: Callable[[str], Any]):
        self.codes = codes
        self.vocabulary = vocabulary
        self._decode = decode
        self._decoded: dict[int, Any] = {}

    @classmethod
    def of(cls, values: Iterable[Iterable[str]], encode: Callable[[Any], str], decode: Callable[[str], Any]) -> Coded:
        index: dict[str, int] = {}
        codes = [index.setdefault(encode(v), len(index)) for v in values]
        return cls(np.asarray(codes, dtype=np.int32), Texts.of(index), decode)

    def __len__(self) -> int:
        return len(self.codes)

    def _one(self, i: int) -> Any:
        return self._value(int(self.codes[i]))

    def _value(self, code: int) -> Any:
        try:
            return self._decoded[code]
        except KeyError:  # first time (a decoded None, an unknown album image, is kept too)
            value = self._decoded[code] = self._decode(self.vocabulary[code])
            return value

    def take(self, rows: np.ndarray) -> list[Any]:
        return [self._value(code) for code in self.codes[np.asarray(rows, dtype=np.int64)].tolist()]

    def __iter__(self) -> Iterator[Any]:
        vocabulary = [self._decode(v) for v in self.vocabulary]
        return (vocabulary[c] for c in self.codes.tolist())


def _year(value) -> int:
    """A release year as stored (0 unknown): a plausible whole year, else unknown."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return 0
    return year if 1000 <= year <= 3000 else 0


def _join(parts: Iterable[str]) -> str:
    return _PART.join(parts)


def _artists(text: str) -> tuple[str, ...]:
    return tuple(text.split(_PART)) if text else ()


def _tag_set(text: str) -> frozenset[str]:
    return frozenset(text.split(_PART)) if text else frozenset()


def _artist_column(values: Iterable[Sequence[str]]) -> Coded:
    return Coded.of(values, _join, _artists)


def _tag_column(values: Iterable[Iterable[str]]) -> Coded:
    return Coded.of(values, lambda tags: _join(sorted(tags)), _tag_set)


def _image_url(text: str) -> str | None:
    return text or None


def _image_column(values: Iterable[str | None]) -> Coded:
    # An album's tracks share its image: one vocabulary entry per album, not one URL per track.
    return Coded.of(values, lambda url: url or "", _image_url)


# Rows in ``Catalogue.threshold_sample`` (scoring.THRESHOLD_SAMPLE is the same number).
THRESHOLD_SAMPLE = 32_768
# Columns kept as arrays, in the order :meth:`Catalogue.to_arrays` names them.
_ARRAYS = ("features", "primary_artist", "durations_ms", "explicit", "key", "mode", "recording_key")


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Columnar, immutable track catalogue. Row ``i`` of every column describes the same track."""

    ids: Keys
    names: Texts
    artists: Coded  # tuple[str, ...] per row
    primary_artist: np.ndarray  # int32 codes
    durations_ms: np.ndarray  # int32
    explicit: np.ndarray  # bool
    isrc: Keys  # None when unknown
    key: np.ndarray  # int8, -1 unknown
    mode: np.ndarray  # int8, -1 unknown
    recording_key: np.ndarray  # int64
    features: np.ndarray  # float32 (n, len(FEATURES)), raw units, C-contiguous
    tags: Coded = field(default=None)  # frozenset[str] per row
    images: Coded = field(default=None)  # album image URL per row, None when unknown
    years: np.ndarray = field(default=None)  # int16 release year per row, 0 when unknown

    def __post_init__(self) -> None:
        n = len(self.ids)
        feats = self.features
        if feats.dtype != np.float32 or not feats.flags.c_contiguous:
            feats = np.ascontiguousarray(feats, dtype=np.float32)
        if feats.shape != (n, N_FEATURES):
            raise ValueError(f"features must have shape ({n}, {N_FEATURES}), got {feats.shape}")
        object.__setattr__(self, "features", feats)
        if self.tags is None:
            object.__setattr__(self, "tags", _tag_column([()] * n))
        if self.images is None:
            object.__setattr__(self, "images", _image_column([None] * n))
        if self.years is None:
            object.__setattr__(self, "years", np.zeros(n, dtype=np.int16))
        for name in ("names", "artists", "primary_artist", "durations_ms", "explicit", "isrc", "key", "mode",
                     "recording_key", "tags", "images", "years"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def _id_index(self) -> tuple[np.ndarray, np.ndarray | None, bool]:
        """(ids sorted, their rows or None when already sorted, ids unique?) for binary search."""
        raw = self.ids.raw
        order = None
        if len(raw) > 1 and not bool(np.all(raw[1:] >= raw[:-1])):
            order = np.argsort(raw, kind="stable")
            raw = raw[order]
        unique = len(raw) < 2 or bool(np.all(raw[1:] != raw[:-1]))
        return raw, order, unique

    def rows_of(self, track_ids: Iterable[str]) -> np.ndarray:
        """Sorted row indices of the given ids that exist in the catalogue (unknown ids are ignored)."""
        wanted = [str(t).encode() for t in track_ids]
        if not wanted or not len(self):
            return np.empty(0, dtype=np.int64)
        raw, order, unique = self._id_index
        query = np.array(wanted, dtype=bytes)
        found = np.searchsorted(raw, query)
        inside = found < len(raw)
        found, query = found[inside], query[inside]
        found = found[raw[found] == query]
        if not unique:  # every row carrying a wanted id, as a lookup by value would give
            last = np.searchsorted(raw, raw[found], side="right")
            found = np.concatenate([np.arange(a, b) for a, b in zip(found.tolist(), last.tolist())] or [found])
        rows = found if order is None else order[found]
        return np.unique(rows.astype(np.int64))

    def index_of(self, track_id: str) -> int:
        """Row index of a track id; raises KeyError if absent."""
        rows = self.rows_of([track_id])
        if not len(rows):
            raise KeyError(track_id)
        return int(rows[0])

    def id_codes(self, rows: np.ndarray) -> np.ndarray:
        """int64 per given row; equal codes mean equal track ids (duplicate rows share one code)."""
        raw, order, unique = self._id_index
        if unique:
            return np.asarray(rows, dtype=np.int64)
        return self._duplicate_codes[rows]

    @cached_property
    def _duplicate_codes(self) -> np.ndarray:
        return np.unique(self.ids.raw, return_inverse=True)[1].astype(np.int64)

    @cached_property
    def has_isrc(self) -> np.ndarray:
        return self.isrc.raw != b""

    @cached_property
    def threshold_sample(self) -> np.ndarray:
        """A fixed random sample of rows; scoring estimates distance quantiles from it."""
        n = len(self)
        size = min(n, THRESHOLD_SAMPLE)
        return np.sort(np.random.default_rng(0).choice(n, size=size, replace=False)) if n else np.empty(0, np.int64)

    @cached_property
    def scan(self) -> np.ndarray:
        """The rows as [x*x, x, 1] transposed, (2F + 1, n) float32: what the pre-selection's scan
        reads (:func:`scan_matrix`). Stored and memory-mapped with the other columns, so web
        workers share one copy; a catalogue built in memory makes it when first scanned."""
        return scan_matrix(self.features)

    def warm(self) -> Catalogue:
        """Fill the lazy caches and read the feature matrix once, so a process's first curate()
        after opening a (memory-mapped) catalogue costs what every later new mood pair costs."""
        self.threshold_sample, self.has_isrc, self._id_index  # noqa: B018 - filling cached properties
        np.add.reduce(self.features, axis=0)  # pages the mapped matrix in
        np.add.reduce(self.scan, axis=1)  # and the scan matrix
        return self

    @cached_property
    def preselection_memo(self) -> dict:
        """Pre-selected rows per arc (scoring.preselect), kept as long as this catalogue is: most
        requests ask for one of a few mood pairs, and the answer depends on nothing else."""
        return {}

    @cached_property
    def knows_years(self) -> bool:
        """Whether any row has a release year (a year range can apply at all)."""
        return bool(len(self.years) and self.years.max() > 0)

    @cached_property
    def taste_memo(self) -> dict:
        """Listeners' tastes in this catalogue's rows, and its artist-name index (engine/taste.py)."""
        return {}

    @cached_property
    def candidate_memo(self) -> dict:
        """Scored candidates per (arc, rows) (curate._candidates): the exact distances and the
        columns the sequencing reads depend on neither the seed nor the request, so a mood pair
        asked for again with the same filters skips them."""
        return {}

    @classmethod
    def from_columns(
        cls,
        *,
        ids: Sequence[str],
        names: Sequence[str],
        artists: Sequence[Sequence[str]],
        primary_keys: Sequence[str],
        durations_ms: Sequence[int],
        explicit: Sequence[bool],
        isrc: Sequence[str | None],
        key: Sequence[int | None],
        mode: Sequence[float | None],
        recording_keys: Sequence[int | None],
        features: np.ndarray,
        tags: Sequence[Iterable[str]] | None = None,
        images: Sequence[str | None] | None = None,
        years: Sequence[int | None] | None = None,
    ) -> Catalogue:
        """The one place that turns per-track values into the engine's columns.

        ``features`` is (n, F) in FEATURES order; its mode column is replaced by ``mode`` (0 or 1
        known, anything else unknown = 0.5). ``primary_keys`` name each row's primary artist (equal
        keys, same artist). A missing recording key is computed from the name and first artist.
        """
        n = len(ids)
        codes: dict[str, int] = {}
        primary = np.fromiter((codes.setdefault(k, len(codes)) for k in primary_keys), dtype=np.int32, count=n)
        known = [m if m is not None and m in (0, 1) else None for m in mode]
        feats = np.array(features, dtype=np.float32, copy=True).reshape(n, N_FEATURES)
        feats[:, MODE] = [UNKNOWN_MODE if m is None else float(m) for m in known]
        keys = [k if k is not None and 0 <= k <= 11 else -1 for k in key]
        rec = [k if k is not None else recording_key(nm, a[0] if a else p)
               for k, nm, a, p in zip(recording_keys, names, artists, primary_keys, strict=True)]
        return cls(
            ids=Keys.of(ids),
            names=Texts.of(names),
            artists=_artist_column(artists),
            primary_artist=primary,
            durations_ms=np.asarray(durations_ms, dtype=np.int32).reshape(n),
            explicit=np.asarray(explicit, dtype=bool).reshape(n),
            isrc=Keys.of([i.upper() if i else None for i in isrc], none_if_empty=True),
            key=np.asarray(keys, dtype=np.int8).reshape(n),
            mode=np.asarray([-1 if m is None else m for m in known], dtype=np.int8).reshape(n),
            recording_key=np.asarray(rec, dtype=np.int64).reshape(n),
            features=feats,
            tags=_tag_column(tags if tags is not None else [()] * n),
            images=_image_column(images if images is not None else [None] * n),
            years=None if years is None else np.asarray([_year(y) for y in years], dtype=np.int16).reshape(n),
        )

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]]) -> Catalogue:
        """Build from track dicts (Spotify-like: id, name, artists, duration_ms, features...).

        Missing ``mode`` is allowed (stored as 0.5 = unknown); other features are required.
        """
        columns: dict[str, list] = {name: [] for name in (
            "ids", "names", "artists", "primary_keys", "durations_ms", "explicit", "isrc", "key", "mode",
            "recording_keys", "tags", "images", "years")}
        rows: list[list[float]] = []
        for rec in records:
            track_id = rec.get("id")
            if not track_id:
                raise RecordInvalid("A catalogue record has no id.")
            names_list = tuple(str(a) for a in (rec.get("artists") or ()))
            artist_ids = rec.get("artist_ids") or ()
            row = []
            for name in FEATURES:
                value = rec.get(name)
                if value is None and name != "mode":
                    raise RecordInvalid(f"Track {track_id} has no '{name}' audio feature.")
                row.append(0.0 if value is None else float(value))
            rows.append(row)
            key, mode = rec.get("key"), rec.get("mode")
            columns["ids"].append(str(track_id))
            columns["names"].append(str(rec.get("name") or ""))
            columns["artists"].append(names_list)
            columns["primary_keys"].append(
                str(artist_ids[0]) if artist_ids else (names_list[0].strip().lower() if names_list else ""))
            columns["durations_ms"].append(int(rec.get("duration_ms") or 0))
            columns["explicit"].append(bool(rec.get("explicit", False)))
            columns["isrc"].append(str(rec["isrc"]) if rec.get("isrc") else None)
            columns["key"].append(None if key is None else int(key))
            columns["mode"].append(None if mode is None else float(mode))
            columns["recording_keys"].append(None)
            columns["tags"].append(frozenset(str(t) for t in (rec.get("tags") or ())))
            columns["images"].append(rec.get("image_url") or None)
            columns["years"].append(rec.get("year"))
        features = np.asarray(rows, dtype=np.float32).reshape(len(rows), N_FEATURES)
        return cls.from_columns(features=features, **columns)

    @classmethod
    def from_arrays(
        cls,
        features: np.ndarray,
        *,
        ids: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
        artists: Sequence[Sequence[str]] | None = None,
        primary_artist: np.ndarray | None = None,
        durations_ms: np.ndarray | None = None,
        explicit: np.ndarray | None = None,
        isrc: Sequence[str | None] | None = None,
        key: np.ndarray | None = None,
        recording_keys: np.ndarray | None = None,
    ) -> Catalogue:
        """Fast construction from a raw feature matrix; unspecified columns get neutral defaults.

        Each row defaults to its own artist and recording, ids ``"t<row>"``. The mode column is
        derived from the mode feature (0/1 known, anything else unknown).
        """
        feats = np.ascontiguousarray(features, dtype=np.float32)
        n = feats.shape[0]
        rows = np.arange(n)
        id_list = [str(i) for i in ids] if ids is not None else [f"t{i}" for i in rows]
        name_list = [str(nm) for nm in names] if names is not None else id_list
        if primary_artist is None:
            primary_artist = rows.astype(np.int32)
        if artists is None:
            artists = [(f"Artist {code}",) for code in np.asarray(primary_artist).tolist()]
        mode_col = feats[:, MODE]
        mode = np.where(mode_col == 1.0, 1, np.where(mode_col == 0.0, 0, -1)).astype(np.int8)
        if recording_keys is None:
            recording_keys = np.array(
                [recording_key(nm, a[0] if a else "") for nm, a in zip(name_list, artists)], dtype=np.int64
            )
        return cls(
            ids=Keys.of(id_list),
            names=Texts.of(name_list),
            artists=_artist_column(tuple(a) for a in artists),
            primary_artist=np.asarray(primary_artist, dtype=np.int32),
            durations_ms=np.asarray(durations_ms if durations_ms is not None else np.full(n, 210_000), dtype=np.int32),
            explicit=np.asarray(explicit if explicit is not None else np.zeros(n, bool), dtype=bool),
            isrc=Keys.of(isrc if isrc is not None else [None] * n, none_if_empty=True),
            key=np.asarray(key if key is not None else np.full(n, -1), dtype=np.int8),
            mode=mode,
            recording_key=np.asarray(recording_keys, dtype=np.int64),
            features=feats,
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every column as a plain numpy array (no objects), for storing and memory-mapping."""
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        arrays.update({
            "ids": self.ids.raw, "isrc": self.isrc.raw,
            "names_data": self.names.data, "names_offsets": self.names.offsets,
            "artist_codes": self.artists.codes, "artists_data": self.artists.vocabulary.data,
            "artists_offsets": self.artists.vocabulary.offsets,
            "tag_codes": self.tags.codes, "tags_data": self.tags.vocabulary.data,
            "tags_offsets": self.tags.vocabulary.offsets,
            "years": self.years,
            "image_codes": self.images.codes, "images_data": self.images.vocabulary.data,
            "images_offsets": self.images.vocabulary.offsets,
            # What the id lookup must otherwise check on a worker's first request (1M ids: ~0.1 s).
            "id_facts": np.array([self._id_index[1] is None, self._id_index[2]], dtype=bool),
            "scan": self.scan,
            # The fixed sample scoring estimates thresholds from (a permutation of every row to draw).
            "threshold_sample": self.threshold_sample,
        })
        return arrays

    @classmethod
    def from_stored_arrays(cls, arrays: dict[str, np.ndarray]) -> Catalogue:
        """The inverse of :meth:`to_arrays`; the arrays may be read-only memory maps (never copied)."""
        catalogue = cls._from_stored(arrays)
        facts = arrays.get("id_facts")
        if facts is not None and bool(facts[0]):  # ids stored sorted: nothing to sort or check
            catalogue.__dict__["_id_index"] = (catalogue.ids.raw, None, bool(facts[1]))
        scan = arrays.get("scan")
        if scan is not None and scan.shape == (2 * N_FEATURES + 1, len(catalogue)):
            catalogue.__dict__["scan"] = scan
        sample = arrays.get("threshold_sample")
        if sample is not None and sample.shape == (min(len(catalogue), THRESHOLD_SAMPLE),):
            catalogue.__dict__["threshold_sample"] = sample
        return catalogue

    @classmethod
    def _from_stored(cls, arrays: dict[str, np.ndarray]) -> Catalogue:
        return cls(
            **{name: arrays[name] for name in _ARRAYS},
            ids=Keys(arrays["ids"]),
            isrc=Keys(arrays["isrc"], none_if_empty=True),
            names=Texts(arrays["names_data"], arrays["names_offsets"]),
            artists=Coded(arrays["artist_codes"], Texts(arrays["artists_data"], arrays["artists_offsets"]), _artists),
            tags=Coded(arrays["tag_codes"], Texts(arrays["tags_data"], arrays["tags_offsets"]), _tag_set),
            images=Coded(arrays["image_codes"], Texts(arrays["images_data"], arrays["images_offsets"]), _image_url),
            years=arrays.get("years"),  # absent from catalogues stored before years were kept
        )

    def matrix_bytes(self) -> int:
        """Bytes held in (n, features) matrices — the figure the memory budget is about."""
        return int(self.features.nbytes)

    def column_bytes(self) -> int:
        """Bytes held by every column: the whole catalogue (there are no per-track objects)."""
        return int(sum(a.nbytes for a in self.to_arrays().values()))
