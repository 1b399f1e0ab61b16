"""The track catalogue as columns of numpy arrays, so scoring never loops over tracks in Python.

Memory: the only (n, features) matrix is ``features`` (float32, raw units): 10 x 4 bytes =
40 MB per million tracks. We deliberately keep no normalised copy — normalisation is folded
into the scoring weights instead (see scoring.py) — which keeps us well under 64 MB/million.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
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


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Columnar, immutable track catalogue. Row ``i`` of every array describes the same track."""

    ids: np.ndarray  # object (str)
    names: np.ndarray  # object (str)
    artists: tuple[tuple[str, ...], ...]
    primary_artist: np.ndarray  # int32 codes
    durations_ms: np.ndarray  # int32
    explicit: np.ndarray  # bool
    isrc: np.ndarray  # object, None when unknown
    key: np.ndarray  # int8, -1 unknown
    mode: np.ndarray  # int8, -1 unknown
    recording_key: np.ndarray  # int64
    features: np.ndarray  # float32 (n, len(FEATURES)), raw units, C-contiguous
    tags: tuple[frozenset[str], ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.ids)
        feats = np.ascontiguousarray(self.features, dtype=np.float32)
        if feats.shape != (n, N_FEATURES):
            raise ValueError(f"features must have shape ({n}, {N_FEATURES}), got {feats.shape}")
        object.__setattr__(self, "features", feats)
        for name in ("names", "primary_artist", "durations_ms", "explicit", "isrc", "key", "mode", "recording_key"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, expected {n}")
        if len(self.artists) != n:
            raise ValueError(f"artists has {len(self.artists)} rows, expected {n}")
        if not self.tags:
            object.__setattr__(self, "tags", (frozenset(),) * n)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {str(track_id): i for i, track_id in enumerate(self.ids)}

    def index_of(self, track_id: str) -> int:
        """Row index of a track id; raises KeyError if absent."""
        return self._row_of[track_id]

    def rows_of(self, track_ids: Iterable[str]) -> np.ndarray:
        """Sorted row indices of the given ids that exist in the catalogue (unknown ids are ignored)."""
        lookup = self._row_of
        rows = [lookup[t] for t in track_ids if t in lookup]
        return np.unique(np.asarray(rows, dtype=np.int64))

    @cached_property
    def id_code(self) -> np.ndarray:
        """int64 per row; equal codes mean equal track ids (duplicate rows share one code)."""
        lookup = self._row_of
        return np.fromiter((lookup[str(t)] for t in self.ids), dtype=np.int64, count=len(self.ids))

    @cached_property
    def has_isrc(self) -> np.ndarray:
        return np.array([v is not None and v != "" for v in self.isrc], dtype=bool)

    @cached_property
    def threshold_sample(self) -> np.ndarray:
        """A fixed random sample of rows; scoring estimates distance quantiles from it."""
        n = len(self)
        size = min(n, 32_768)
        return np.sort(np.random.default_rng(0).choice(n, size=size, replace=False)) if n else np.empty(0, np.int64)

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]]) -> Catalogue:
        """Build from track dicts (Spotify-like: id, name, artists, duration_ms, features...).

        Missing ``mode`` is allowed (stored as 0.5 = unknown); other features are required.
        """
        ids, names, artists, durations, explicit, isrcs, keys, modes, rec_keys, tags = ([] for _ in range(10))
        primary_codes: list[int] = []
        artist_codes: dict[str, int] = {}
        rows: list[list[float]] = []
        for rec in records:
            track_id = rec.get("id")
            if not track_id:
                raise RecordInvalid("A catalogue record has no id.")
            names_list = tuple(str(a) for a in (rec.get("artists") or ()))
            artist_ids = rec.get("artist_ids") or ()
            primary = str(artist_ids[0]) if artist_ids else (names_list[0].strip().lower() if names_list else "")
            primary_codes.append(artist_codes.setdefault(primary, len(artist_codes)))
            ids.append(str(track_id))
            names.append(str(rec.get("name") or ""))
            artists.append(names_list)
            durations.append(int(rec.get("duration_ms") or 0))
            explicit.append(bool(rec.get("explicit", False)))
            isrc = rec.get("isrc")
            isrcs.append(str(isrc).upper() if isrc else None)
            key = rec.get("key")
            keys.append(int(key) if key is not None and 0 <= int(key) <= 11 else -1)
            mode = rec.get("mode")
            known_mode = mode is not None and float(mode) in (0.0, 1.0)
            modes.append(int(mode) if known_mode else -1)
            row = []
            for name in FEATURES:
                if name == "mode":
                    row.append(float(mode) if known_mode else UNKNOWN_MODE)
                    continue
                value = rec.get(name)
                if value is None:
                    raise RecordInvalid(f"Track {track_id} has no '{name}' audio feature.")
                row.append(float(value))
            rows.append(row)
            rec_keys.append(recording_key(names[-1], names_list[0] if names_list else primary))
            tags.append(frozenset(str(t) for t in (rec.get("tags") or ())))
        n = len(ids)
        features = np.asarray(rows, dtype=np.float32).reshape(n, N_FEATURES)
        return cls(
            ids=_objects(ids),
            names=_objects(names),
            artists=tuple(artists),
            primary_artist=np.asarray(primary_codes, dtype=np.int32),
            durations_ms=np.asarray(durations, dtype=np.int32),
            explicit=np.asarray(explicit, dtype=bool),
            isrc=_objects(isrcs),
            key=np.asarray(keys, dtype=np.int8),
            mode=np.asarray(modes, dtype=np.int8),
            recording_key=np.asarray(rec_keys, dtype=np.int64),
            features=features,
            tags=tuple(tags),
        )

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
        ids_arr = _objects(ids) if ids is not None else np.array([f"t{i}" for i in rows], dtype=object)
        names_arr = _objects(names) if names is not None else ids_arr.copy()
        if primary_artist is None:
            primary_artist = rows.astype(np.int32)
        if artists is None:
            artists = tuple((f"Artist {code}",) for code in np.asarray(primary_artist).tolist())
        mode_col = feats[:, MODE]
        mode = np.where(mode_col == 1.0, 1, np.where(mode_col == 0.0, 0, -1)).astype(np.int8)
        if recording_keys is None:
            recording_keys = np.array(
                [recording_key(str(nm), a[0] if a else "") for nm, a in zip(names_arr, artists)], dtype=np.int64
            )
        return cls(
            ids=ids_arr,
            names=names_arr,
            artists=tuple(tuple(a) for a in artists),
            primary_artist=np.asarray(primary_artist, dtype=np.int32),
            durations_ms=np.asarray(durations_ms if durations_ms is not None else np.full(n, 210_000), dtype=np.int32),
            explicit=np.asarray(explicit if explicit is not None else np.zeros(n, bool), dtype=bool),
            isrc=_objects(isrc) if isrc is not None else np.full(n, None, dtype=object),
            key=np.asarray(key if key is not None else np.full(n, -1), dtype=np.int8),
            mode=mode,
            recording_key=np.asarray(recording_keys, dtype=np.int64),
            features=feats,
        )

    def matrix_bytes(self) -> int:
        """Bytes held in (n, features) matrices — the figure the memory budget is about."""
        return int(self.features.nbytes)


def _objects(values: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr
