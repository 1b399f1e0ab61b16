"""Importing CSV datasets of Spotify tracks (with or without audio features) into the catalogue.

Reading is separate from writing: `read_csv` turns a file into clean rows plus a list of
problems, each naming its line and column; `import_csv` writes the rows in one transaction
(all or nothing unless bad rows are to be skipped) and records a report either way.
"""
from __future__ import annotations

import ast
import csv
import io
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from curator.catalogue import store
from curator.catalogue.feature_ranges import expected, in_range
from curator.catalogue.seed_refs import parse_spotify_ref
from curator.engine.catalogue import recording_key
from curator.errors import Unprocessable
from curator.extensions import db
from curator.models.catalogue import FEATURE_COLUMNS, CatalogueImport, join_list
from curator.models.user import utcnow

# Column names seen in public datasets, by what they mean (headers are compared lower-cased,
# with spaces and dashes as underscores). The first present alias wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "track_id", "spotify_id", "spotify_track_id", "uri", "track_uri", "spotify_uri"),
    "name": ("name", "track_name", "title", "track_title", "song", "song_name"),
    "artists": ("artists", "artist", "artist_name", "artist_names", "artists_names", "track_artist"),
    "album": ("album", "album_name", "track_album_name"),
    "duration_ms": ("duration_ms", "length", "duration"),
    "explicit": ("explicit",),
    "popularity": ("popularity", "track_popularity"),
    "isrc": ("isrc",),
    "key": ("key",),
    "mode": ("mode",),
    "time_signature": ("time_signature",),
    **{name: (name,) for name in FEATURE_COLUMNS},
}
# Label columns kept as tags, as "<label>:<value>" (e.g. mood:calm, genre:ambient).
LABELS: dict[str, str] = {
    "mood": "mood", "moods": "mood", "label": "mood",
    "genre": "genre", "genres": "genre", "track_genre": "genre", "playlist_genre": "genre",
    "playlist_subgenre": "subgenre", "subgenre": "subgenre",
}
REQUIRED = ("id", "name", "artists")
MAX_PROBLEMS_KEPT = 100

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class ImportFileError(Unprocessable):
    """The file as a whole can't be imported (unreadable, empty, missing columns)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    rows: list[dict] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows_read: int = 0
    has_features: bool = False
    present: set[str] = field(default_factory=set)  # meanings found among the columns


@dataclass
class ImportResult:
    filename: str
    status: str  # imported | rejected
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    duplicates: int = 0
    has_features: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int | None = None


class _Bad(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


def _decode(data: bytes, filename: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{filename} is neither UTF-8 nor Windows-1252 text; save it as UTF-8 CSV.")


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _number(column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not in_range(column, value):
        shown = f'"{text}"' if text else "the empty value"
        raise _Bad(column, f"{shown} is not {expected(column)}")
    return value


def _whole(column: str, text: str, low: int, high: int, what: str) -> int:
    try:
        value = float(text)
        if value.is_integer() and low <= value <= high:
            return int(value)
    except ValueError:
        pass
    raise _Bad(column, f'"{text}" is not {what}')


def split_artists(text: str, plural: bool) -> list[str]:
    """Artist names from one cell: "['A', 'B']" (Kaggle style), "A;B", or "A, B" when `plural`."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value if str(v).strip()]
    separator = ";" if ";" in text else ("," if plural else None)
    parts = text.split(separator) if separator else [text]
    return [p.strip() for p in parts if p.strip()]


def _track_id(text: str) -> str:
    text = text.strip()
    ref = parse_spotify_ref(text)
    if ref is not None:
        kind, value = ref
        if kind == "track" and len(value) == 22 and value.isalnum():
            return value
    elif len(text) == 22 and text.isascii() and text.isalnum():
        return text
    shown = f'"{text}"' if text else "the empty value"
    raise _Bad("id", f"{shown} is not a Spotify track id")


def read_csv(path: str, *, extra_tags: Iterable[str] = (), progress: Callable[[int, int], None] | None = None) -> ParsedFile:
    """Parse and check a dataset file. File-level problems raise ImportFileError; row-level
    problems are collected in `problems` with their line numbers (the header is line 1)."""
    filename = os.path.basename(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ImportFileError(f"Can't read {path}: {exc.strerror or exc}.") from exc
    text = _decode(data, filename)
    if not text.strip():
        raise ImportFileError(f"{filename} is empty: there is no header row and no tracks.")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ImportFileError(f"{filename} has no readable header row.") from exc
    keys = [_header_key(h) for h in header]
    where: dict[str, int] = {}
    for meaning, aliases in ALIASES.items():
        for alias in aliases:
            if alias in keys:
                where[meaning] = keys.index(alias)
                break
    labels = {keys.index(k): LABELS[k] for k in LABELS if k in keys}
    missing = [m for m in REQUIRED if m not in where]
    if missing:
        names = {"id": "id (or track_id, spotify_id, uri)", "name": "name (or track_name)",
                 "artists": "artists (or artist, artist_name)"}
        raise ImportFileError(f"{filename} lacks the required column(s): {', '.join(names[m] for m in missing)}. "
                              f"Its columns are: {', '.join(h.strip() for h in header)}.")
    features_found = [f for f in FEATURE_COLUMNS if f in where]
    if features_found and len(features_found) < len(FEATURE_COLUMNS):
        absent = [f for f in FEATURE_COLUMNS if f not in where]
        raise ImportFileError(f"{filename} has some audio-feature columns but lacks: {', '.join(absent)}. "
                              "Give all of them, or none (features are then fetched on refresh).")
    parsed = ParsedFile(has_features=bool(features_found), present=set(where))
    records = [(reader.line_num, cells) for cells in _rows(reader, filename)]
    artists_at = where["artists"]
    # Commas separate artists only in a plural column of a file that never uses ";" there:
    # single names such as "Tyler, The Creator" contain commas.
    plural = header[artists_at].strip().lower() in ("artists", "artist_names", "artists_names") and not any(
        artists_at < len(cells) and ";" in cells[artists_at] for _, cells in records)
    extra = [t.strip() for t in extra_tags if t.strip()]
    source = f"import:{filename}"[:120]
    now = utcnow()
    width = len(header)
    lines = len(records) or 1
    idx = where.get
    for line, cells in records:
        parsed.rows_read += 1
        if progress and parsed.rows_read % 2000 == 0:
            progress(parsed.rows_read, lines)
        if not any(c.strip() for c in cells):
            parsed.rows_read -= 1
            continue  # blank line
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        try:
            row = _parse_row(cells, idx, plural, parsed.has_features, source, now)
        except _Bad as bad:
            column = header[where[bad.column]].strip() if bad.column in where else bad.column
            parsed.problems.append(RowProblem(line, column, bad.message))
            continue
        parsed.rows.append(row)
        for column, label in labels.items():
            value = " ".join(cells[column].split()).lower()
            if value:
                parsed.tags.append((row["id"], f"{label}:{value}"[:120]))
        for tag in extra:
            parsed.tags.append((row["id"], tag[:120]))
    if progress:
        progress(lines, lines)
    if parsed.rows_read == 0:
        raise ImportFileError(f"{filename} has a header row but no tracks.")
    return parsed


def _rows(reader, filename: str):
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"{filename}, line {reader.line_num}: the CSV is malformed ({exc}).") from exc


def _parse_row(cells: list[str], idx, plural: bool, has_features: bool, source: str, now) -> dict:
    track_id = _track_id(cells[idx("id")])
    name = cells[idx("name")].strip()
    if not name:
        raise _Bad("name", "the track name is empty")
    artists = split_artists(cells[idx("artists")], plural)
    if not artists:
        raise _Bad("artists", "no artist is given")
    row = {
        "id": track_id, "name": name, "artists": join_list(artists), "artist_ids": "",
        "recording_key": recording_key(name, artists[0]),
        "album": cells[idx("album")].strip() if idx("album") is not None else "",
        "album_id": None, "duration_ms": 0, "explicit": False, "popularity": None, "isrc": None,
        "image_url": None, "added_at": now, "updated_at": now,
        "key": None, "mode": None, "time_signature": None,
        "features_source": None, "features_fetched_at": None, "features_missing_at": None,
    }
    if (i := idx("duration_ms")) is not None and cells[i].strip():
        row["duration_ms"] = _whole("duration_ms", cells[i].strip(), 1, 10**8, "a duration in milliseconds")
    if (i := idx("explicit")) is not None:
        value = cells[i].strip().lower()
        if value in _TRUE:
            row["explicit"] = True
        elif value not in _FALSE:
            raise _Bad("explicit", f'"{cells[i]}" is not true or false')
    if (i := idx("popularity")) is not None and cells[i].strip():
        row["popularity"] = _whole("popularity", cells[i].strip(), 0, 100, "a whole number between 0 and 100")
    if (i := idx("isrc")) is not None and cells[i].strip():
        row["isrc"] = cells[i].strip().upper()[:16]
    for name in FEATURE_COLUMNS:
        i = idx(name)
        row[name] = _number(name, cells[i].strip()) if i is not None else None
    if (i := idx("key")) is not None and cells[i].strip():
        row["key"] = _whole("key", cells[i].strip(), -1, 11, "a key between -1 and 11")
    if (i := idx("mode")) is not None and cells[i].strip():
        row["mode"] = _whole("mode", cells[i].strip(), 0, 1, "a mode (0 = minor, 1 = major)")
    if (i := idx("time_signature")) is not None and cells[i].strip():
        row["time_signature"] = _whole("time_signature", cells[i].strip(), 0, 7, "a time signature between 0 and 7")
    if has_features:
        row["features_source"] = source
        row["features_fetched_at"] = now
    return row


def _update_columns(parsed: ParsedFile) -> list[str]:
    # Re-importing updates what the file knows and leaves the rest (e.g. album art from Spotify).
    columns = ["name", "artists", "recording_key"]
    for meaning in ("album", "duration_ms", "explicit"):
        if meaning in parsed.present:
            columns.append(meaning)
    if parsed.has_features:
        columns += [*FEATURE_COLUMNS, "features_source", "features_fetched_at", "features_missing_at"]
        columns += [c for c in ("key", "mode", "time_signature") if c in parsed.present]
    return columns


def import_csv(path: str, *, skip_bad: bool = False, tags: Iterable[str] = (), actor_label: str = "command line",
               progress: Callable[[str, int, int], None] | None = None) -> ImportResult:
    """Import one CSV file: all rows in one transaction, or nothing if any row is bad (unless
    `skip_bad`). Upserts by Spotify id, so importing the same file again changes nothing new.
    Raises ImportFileError for file-level problems; returns the result (also stored as a report).
    """
    started = time.perf_counter()
    filename = os.path.basename(path)
    parsed = read_csv(path, extra_tags=tags, progress=(lambda d, t: progress("read", d, t)) if progress else None)
    result = ImportResult(filename, "imported", rows_read=parsed.rows_read, problems=parsed.problems,
                          skipped=len(parsed.problems), has_features=parsed.has_features)
    if parsed.problems and not skip_bad:
        result.status = "rejected"
        result.skipped = parsed.rows_read
        result.seconds = time.perf_counter() - started
        _record(result, actor_label)
        db.session.commit()
        return result
    unique = list({row["id"]: row for row in parsed.rows}.values())
    result.duplicates = len(parsed.rows) - len(unique)
    try:
        ids = [row["id"] for row in unique]
        # Counting before and after (one cheap query each) instead of looking up 100k ids: an
        # id lookup on a table the planner has no statistics for yet can take minutes on PostgreSQL.
        before = store.track_count()
        columns = _update_columns(parsed)
        keep = [c for c in ("popularity", "isrc") if c in parsed.present]
        total = len(unique)
        for start in range(0, total, 10 * store.CHUNK):
            store.upsert_rows(unique[start:start + 10 * store.CHUNK], columns, keep)
            if progress:
                progress("write", min(total, start + 10 * store.CHUNK), total)
        result.imported = store.track_count() - before
        result.updated = len(unique) - result.imported
        store.add_tags(parsed.tags)
        store.add_sources(ids, f"import:{filename}"[:200])
        store.bump_version()
        result.seconds = time.perf_counter() - started
        _record(result, actor_label)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _record(result: ImportResult, actor_label: str) -> None:
    entry = CatalogueImport(
        filename=result.filename, actor_label=actor_label, status=result.status, rows_read=result.rows_read,
        imported=result.imported, updated=result.updated, skipped=result.skipped,
        problems=[str(p) for p in result.problems[:MAX_PROBLEMS_KEPT]], seconds=round(result.seconds, 3),
    )
    db.session.add(entry)
    db.session.flush()
    result.import_id = entry.id
