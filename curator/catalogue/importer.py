"""Importing CSV datasets of Spotify tracks (with or without audio features) into the catalogue.

The file is streamed, so a million rows fit in bounded memory: a first pass checks that it is a
regular file whose bytes decode (UTF-8 unless a byte-order mark or --encoding says otherwise: never
guessed) with no line longer than MAX_LINE, and counts lines (for progress) without keeping
anything; the second parses each row, checks it (problems name the line it starts on and the
column) and writes rows in batches, all in one transaction. Any bad row means nothing is kept
(the transaction is rolled back), unless bad rows are to be skipped; either way checking goes on
to the end so every bad line is reported, and a report is recorded. Memory is one batch plus 22 bytes a row (the ids, to count repeated ones).
"""
from __future__ import annotations

import ast
import csv
import itertools
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from curator import textfiles
from curator.catalogue import matrix, store
from curator.catalogue.feature_ranges import RANGES, expected
from curator.clock import utcnow
from curator.engine.catalogue import recording_key
from curator.extensions import db
from curator.models.catalogue import FEATURE_COLUMNS, CatalogueImport, CatalogueTrack, TrackSource, TrackTag, join_list
from curator.problems import Unprocessable
from curator.spotify.refs import parse_spotify_ref
from curator.textfiles import Decoder, TextFileError, choose_encoding, regular_file

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
    "release_year": ("year", "release_year", "release_date", "track_album_release_date", "album_release_date"),
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
MAX_PROBLEMS_KEPT = 100  # in the stored report
MAX_PROBLEMS_HELD = 1000  # in memory, for the command's output; the rest are only counted
BATCH = 5000  # rows written per round trip: large enough to be fast, small enough to stay lean
PROGRESS_EVERY = 5000
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
NUL = "\x00"
MAX_LINE = 1_000_000  # characters on one line of the file: a CSV row is a few hundred
SNIFF_SAMPLE = 4096  # characters of the header row the CSV dialect is guessed from


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
class ImportResult:
    filename: str
    status: str  # imported | rejected
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    duplicates: int = 0
    has_features: bool = False
    problems: list[RowProblem] = field(default_factory=list)  # the first MAX_PROBLEMS_HELD
    problem_count: int = 0  # all of them
    seconds: float = 0.0
    import_id: int | None = None


class _Bad(Exception):
    def __init__(self, column: str, message: str):
        self.column, self.message = column, message


@dataclass(frozen=True)
class _Scan:
    encoding: str
    lines: int
    has_semicolon: bool
    has_nul: bool


def _scan(path: str, filename: str, encoding: str | None = None) -> _Scan:
    """One pass over the file: a regular file whose every byte decodes (UTF-8 unless a byte-order
    mark or `encoding` says otherwise; an error names the line and byte that doesn't) and whose
    lines are at most MAX_LINE long. Answers how many lines, and whether a ";" or a NUL occurs at
    all (each lets the row pass skip work when it doesn't)."""
    try:
        regular_file(path, filename)
        with open(path, "rb") as handle:
            block = handle.read(textfiles.CHUNK)
            hint = (f"is --encoding {encoding} right?" if encoding else
                    "save the file as UTF-8, or name its encoding (e.g. --encoding cp1252).")
            decoder = Decoder(choose_encoding(block, filename, encoding), filename, hint)
            semicolon, nul, content, last = False, False, False, ""
            run = 0  # characters since the last line break
            while True:
                before = decoder.newlines
                text = decoder.decode(block, final=not block)
                if text:
                    semicolon = semicolon or ";" in text
                    nul = nul or NUL in text
                    content = content or not text.isspace()
                    last = text[-1]
                    first = text.find("\n")
                    if first < 0:
                        run += len(text)
                    elif run + first > MAX_LINE:
                        raise _long_line(filename, before + 1)
                    else:  # lines inside one chunk are at most a chunk long
                        run = len(text) - text.rfind("\n") - 1
                    if run > MAX_LINE:
                        raise _long_line(filename, decoder.newlines + 1)
                if not block:
                    break
                block = handle.read(textfiles.CHUNK)
    except TextFileError as exc:
        raise ImportFileError(exc.message) from None
    except OSError as exc:
        raise ImportFileError(f"Can't read {path}: {exc.strerror or exc}.") from exc
    if not content:
        raise ImportFileError(f"{filename} is empty: there is no header row and no tracks.")
    lines = decoder.newlines + (1 if last != "\n" else 0)
    return _Scan(decoder.encoding, lines, semicolon, nul)


def _long_line(filename: str, line: int) -> ImportFileError:
    return ImportFileError(f"{filename}, line {line:,}: the line is longer than {MAX_LINE:,} characters (a CSV row "
                           "is a few hundred); is this really a CSV file?")


@dataclass
class _Layout:
    """What the header row says: where each meaning sits, label columns, features or not."""

    header: list[str]
    where: dict[str, int]
    labels: dict[int, str]
    has_features: bool
    plural: bool = False

    def column_name(self, meaning: str) -> str:
        return self.header[self.where[meaning]].strip() if meaning in self.where else meaning

    def update_columns(self) -> list[str]:
        # Re-importing updates what the file knows and leaves the rest (e.g. album art from Spotify).
        columns = ["name", "artists", "recording_key"]
        columns += [m for m in ("album", "duration_ms", "explicit", "release_year") if m in self.where]
        if self.has_features:
            columns += [*FEATURE_COLUMNS, "features_source", "features_fetched_at", "features_missing_at"]
            columns += [c for c in ("key", "mode", "time_signature") if c in self.where]
        return columns

    def keep_if_missing(self) -> list[str]:
        return [c for c in ("popularity", "isrc") if c in self.where]


def _layout(header: list[str], filename: str) -> _Layout:
    if any(NUL in h for h in header):
        raise ImportFileError(f"{filename}, line 1: the header row contains a NUL character (byte 0); "
                              "remove it and import again.")
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
    return _Layout(header, where, labels, bool(features_found))


class _CsvFile:
    """The file opened for the row pass: its dialect, header and records (line, cells)."""

    def __init__(self, path: str, scan: _Scan, filename: str):
        self.filename = filename
        self.handle = open(path, encoding=scan.encoding, newline="")  # noqa: SIM115 - closed by close()
        first = self.handle.readline()
        try:
            # The sniffer's time grows with the square of its sample (a minute for 60 KB of ',"x'):
            # the start of the header says enough.
            self.dialect = csv.Sniffer().sniff(first[:SNIFF_SAMPLE], delimiters=",;\t")
        except csv.Error:
            self.dialect = csv.excel
        self.reader = csv.reader(itertools.chain([first], self.handle), self.dialect)
        try:
            self.header = next(self.reader)
        except (StopIteration, csv.Error) as exc:
            self.close()
            raise ImportFileError(f"{filename} has no readable header row.") from exc

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(the line the record starts on, its cells) for every record after the header."""
        reader = self.reader
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self._malformed(start, exc) from None
            yield start, cells

    def spans_to(self, start: int) -> str:
        """A note saying where the record begun on line `start` ended, if on another line ("" if not)."""
        end = self.reader.line_num
        return f" (the row runs on to line {end:,}: is a quote (\") left open on line {start:,}?)" if end > start else ""

    def _malformed(self, start: int, exc: csv.Error) -> ImportFileError:
        end, limit = self.reader.line_num, csv.field_size_limit()
        if "field larger than field limit" in str(exc):
            if end > start:
                return ImportFileError(
                    f"{self.filename}, line {start:,}: a quoted field that starts on this line is never closed (it "
                    f"runs on to line {end:,}, past {limit:,} characters); check the quotes (\") on line {start:,}.")
            return ImportFileError(f"{self.filename}, line {start:,}: a field is longer than {limit:,} characters.")
        return ImportFileError(f"{self.filename}, line {start:,}: the CSV is malformed ({exc}).")

    def close(self) -> None:
        self.handle.close()


def _semicolon_in_column(path: str, scan: _Scan, filename: str, column: int) -> bool:
    source = _CsvFile(path, scan, filename)
    try:
        return any(column < len(cells) and ";" in cells[column] for _, cells in source.records())
    finally:
        source.close()


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _shown(text: str) -> str:
    text = text.strip()
    return f'"{text}"' if text else "the empty value"


def split_artists(text: str, plural: bool) -> list[str]:
    """Artist names from one cell: "['A', 'B']" (Kaggle style), "A;B", or "A, B" when `plural`."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, (list, tuple)):
            names = [str(v).strip() for v in value if str(v).strip()]
            if "\\" in text:  # escapes ("\x00", "\ud800") make what the file's own text could not hold
                _check_storable(names)
            return names
    separator = ";" if ";" in text else ("," if plural else None)
    parts = text.split(separator) if separator else [text]
    return [p.strip() for p in parts if p.strip()]


def _check_storable(names: list[str]) -> None:
    for name in names:
        if NUL in name:
            raise _Bad("artists", "an artist's name contains a NUL character (byte 0, written \\x00 or \\0), "
                                  "which the catalogue can't store; remove it")
        if not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise _Bad("artists", "an artist's name contains a lone surrogate escape (\\ud800-\\udfff), "
                                      "which is not text; remove it") from None


def _track_id(text: str) -> str:
    text = text.strip()
    if len(text) == 22 and text.isascii() and text.isalnum():
        return text  # the common case: a bare id
    ref = parse_spotify_ref(text)
    if ref is not None:
        kind, value = ref
        if kind == "track" and len(value) == 22 and value.isalnum():
            return value
    shown = f'"{text}"' if text else "the empty value"
    raise _Bad("id", f"{shown} is not a Spotify track id")


# Whole-number columns: (meaning, lowest, highest, what a value should be).
_WHOLE = (
    ("duration_ms", 1, 10**8, "a duration in milliseconds"),
    ("popularity", 0, 100, "a whole number between 0 and 100"),
    ("key", -1, 11, "a key between -1 and 11"),
    ("mode", 0, 1, "a mode (0 = minor, 1 = major)"),
    ("time_signature", 0, 7, "a time signature between 0 and 7"),
)
# Catalogue columns an import writes, in the order `_RowParser.parse` answers them (the table's
# order, so the compiled INSERT takes the tuples as they are).
TRACK_COLUMNS = (
    "id", "name", "artists", "artist_ids", "album", "album_id", "duration_ms", "explicit", "popularity", "isrc",
    "image_url", "recording_key", "added_at", "updated_at", *FEATURE_COLUMNS, "key", "mode",
    "time_signature", "features_source", "features_fetched_at", "features_missing_at", "release_year",
)


class _RowParser:
    """Checks one row's cells and answers its catalogue values (in TRACK_COLUMNS order).

    Built once per file from the header, so the per-row work is only what the row needs: a
    million rows go through here.
    """

    def __init__(self, layout: _Layout, features_source: str, stamp) -> None:
        where = layout.where
        self.id_at, self.name_at, self.artists_at = where["id"], where["name"], where["artists"]
        self.album_at = where.get("album")
        self.explicit_at = where.get("explicit")
        self.isrc_at = where.get("isrc")
        self.year_at = where.get("release_year")
        self.plural = layout.plural
        self.whole = {meaning: (where.get(meaning), low, high, what) for meaning, low, high, what in _WHOLE}
        self.features = [(name, where[name], *RANGES[name]) for name in FEATURE_COLUMNS] if layout.has_features else []
        self.no_features = (None,) * len(FEATURE_COLUMNS)
        self.stamp = stamp
        self.features_source = features_source if layout.has_features else None
        self.features_stamp = stamp if layout.has_features else None

    def _whole(self, cells: list[str], meaning: str) -> int | None:
        at, low, high, what = self.whole[meaning]
        if at is None:
            return None
        text = cells[at]
        try:
            value = int(text)
        except ValueError:
            if not text.strip():
                return None
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            value = int(number) if number.is_integer() else None
        if value is None or not low <= value <= high:
            raise _Bad(meaning, f'"{text.strip()}" is not {what}')
        return value

    def parse(self, cells: list[str]) -> tuple:
        track_id = _track_id(cells[self.id_at])
        name = cells[self.name_at].strip()
        if not name:
            raise _Bad("name", "the track name is empty")
        artists = split_artists(cells[self.artists_at], self.plural)
        if not artists:
            raise _Bad("artists", "no artist is given")
        explicit = False
        if self.explicit_at is not None:
            value = cells[self.explicit_at].strip().lower()
            if value in _TRUE:
                explicit = True
            elif value not in _FALSE:
                raise _Bad("explicit", f'"{cells[self.explicit_at]}" is not true or false')
        isrc = cells[self.isrc_at].strip().upper()[:16] or None if self.isrc_at is not None else None
        duration = self._whole(cells, "duration_ms") or 0
        popularity = self._whole(cells, "popularity")
        if self.features:
            values = []
            for feature, at, low, high in self.features:
                text = cells[at]
                try:
                    value = float(text)
                except ValueError:
                    value = math.nan
                if not low <= value <= high:  # NaN fails too
                    raise _Bad(feature, f"{_shown(text)} is not {expected(feature)}")
                values.append(value)
            features = tuple(values)
        else:
            features = self.no_features
        key, mode, signature = self._whole(cells, "key"), self._whole(cells, "mode"), self._whole(cells, "time_signature")
        return (
            track_id, name, join_list(artists), "", cells[self.album_at].strip() if self.album_at is not None else "",
            None, duration, explicit, popularity, isrc, None, recording_key(name, artists[0]), self.stamp, self.stamp,
            *features, key, mode, signature, self.features_source, self.features_stamp, None,
            release_year(cells[self.year_at]) if self.year_at is not None else None,
        )


def release_year(text: str | None) -> int | None:
    """The year a date or year cell starts with ("1987", "1987-06-01", "1987.0"); None when it
    names no plausible year (a dataset's missing or odd dates are no reason to refuse a row)."""
    head = (text or "").strip()[:4]
    if len(head) == 4 and head.isdigit() and 1000 <= int(head) <= 3000:
        return int(head)
    return None


def _nul_problem(cells: list[str], layout: _Layout) -> _Bad | None:
    for index, cell in enumerate(cells):
        if NUL in cell:
            name = layout.header[index].strip() if index < len(layout.header) else f"#{index + 1}"
            return _Bad(name, "contains a NUL character (byte 0), which the catalogue can't store; remove it")
    return None


def _safe_text(text: str) -> str:
    # Reports and messages are stored in the database: no NUL, no lone surrogate (from odd file names).
    return text.replace(NUL, "\\0").encode("utf-8", "replace").decode("utf-8")


def import_csv(path: str, *, skip_bad: bool = False, tags: Iterable[str] = (), actor_label: str = "command line",
               progress: Callable[[str, int, int], None] | None = None, encoding: str | None = None) -> ImportResult:
    """Import one CSV file: all rows in one transaction, or nothing if any row is bad (unless
    `skip_bad`). Upserts by Spotify id, so importing the same file again changes nothing new.
    The file is UTF-8 unless it starts with a byte-order mark or `encoding` names another.
    Raises ImportFileError for file-level problems; otherwise returns the result, also stored as
    a report. `progress("import", rows done, rows expected)` is called as rows go by.
    This is a use case: it commits (the import with its report, or the rejection report alone).
    """
    started = time.perf_counter()
    filename = _safe_text(os.path.basename(path))
    extra = [t.strip() for t in tags if t.strip()]
    for tag in extra:
        if NUL in tag:
            raise ImportFileError("A --tag contains a NUL character (byte 0); remove it.")
    scan = _scan(path, filename, encoding)
    source = _CsvFile(path, scan, filename)
    try:
        layout = _layout(source.header, filename)
        artists_at = layout.where["artists"]
        # Commas separate artists only in a plural column of a file that never uses ";" there:
        # single names such as "Tyler, The Creator" contain commas.
        layout.plural = source.header[artists_at].strip().lower() in ("artists", "artist_names", "artists_names") \
            and not (scan.has_semicolon and _semicolon_in_column(path, scan, filename, artists_at))
        result = ImportResult(filename, "imported", has_features=layout.has_features)
        try:
            with store.bulk_load():
                _stream(source, layout, scan, result, skip_bad=skip_bad, extra=extra, progress=progress)
            if result.problem_count and not skip_bad:  # nothing of a file with a bad row is kept
                result.status = "rejected"
                result.skipped = result.rows_read
                result.imported = result.updated = result.duplicates = 0
            else:
                result.skipped = result.problem_count
                store.bump_version()
            result.seconds = time.perf_counter() - started
            _record(result, actor_label)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    finally:
        source.close()
    if result.status == "imported":
        matrix.prepare()  # the engine's files for the new version, so no request has to build them
    return result


def _stream(source: _CsvFile, layout: _Layout, scan: _Scan, result: ImportResult, *, skip_bad: bool,
            extra: list[str], progress: Callable[[str, int, int], None] | None) -> None:
    """Check every row and write the good ones in batches (writing stops at the first bad row
    unless `skip_bad`); fills `result`'s counts and problems."""
    filename = source.filename
    origin = f"import:{filename}"
    tracks = store.BulkUpsert(CatalogueTrack, TRACK_COLUMNS, ["id"], layout.update_columns(), layout.keep_if_missing())
    tags = store.BulkUpsert(TrackTag, ("track_id", "tag"), ["track_id", "tag"])
    sources = store.BulkUpsert(TrackSource, ("track_id", "source", "mood"), ["track_id", "source", "mood"])
    parser = _RowParser(layout, origin[:120], tracks.value("added_at", utcnow()))
    source_label = origin[:200]
    width = len(layout.header)
    expected_rows = max(1, scan.lines - 1)
    labels = list(layout.labels.items())
    extra = [tag[:120] for tag in extra]
    writing = True
    before = store.track_count()
    rows: dict[str, tuple] = {}  # by id: a repeated id within a batch is written once, the last wins
    tag_pairs: set[tuple[str, str]] = set()
    ids: list[np.ndarray] = []
    good = 0

    def flush() -> None:
        tracks.run(list(rows.values()))
        tags.run(list(tag_pairs))
        sources.run([(track_id, source_label, "") for track_id in rows])
        ids.append(np.array(list(rows), dtype="S22"))
        rows.clear()
        tag_pairs.clear()

    for line, cells in source.records():
        if not cells or not any(c.strip() for c in cells):
            continue  # blank line
        result.rows_read += 1
        if progress and result.rows_read % PROGRESS_EVERY == 0:
            progress("import", min(result.rows_read, expected_rows), expected_rows)
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        try:
            bad = _nul_problem(cells, layout) if scan.has_nul else None
            if bad:
                raise bad
            row = parser.parse(cells)
        except _Bad as bad:
            result.problem_count += 1
            if len(result.problems) < MAX_PROBLEMS_HELD:
                column = layout.column_name(bad.column) if bad.column in layout.where else bad.column
                result.problems.append(RowProblem(line, column, _safe_text(bad.message + source.spans_to(line))))
            if writing and not skip_bad:
                writing = False  # nothing will be kept: let go of the written batches (and any lock) now
                db.session.rollback()
                rows.clear()
                tag_pairs.clear()
            continue
        good += 1
        if not writing:
            continue
        track_id = row[0]
        rows.pop(track_id, None)
        rows[track_id] = row
        for column, label in labels:
            value = " ".join(cells[column].split()).lower()
            if value:
                tag_pairs.add((track_id, f"{label}:{value}"[:120]))
        for tag in extra:
            tag_pairs.add((track_id, tag))
        if len(rows) >= BATCH:
            flush()
    if result.rows_read == 0:
        raise ImportFileError(f"{filename} has a header row but no tracks.")
    if writing and rows:
        flush()
    if progress:
        progress("import", expected_rows, expected_rows)
    if writing:
        unique = len(np.unique(np.concatenate(ids))) if ids else 0
        result.duplicates = good - unique
        result.imported = store.track_count() - before
        result.updated = unique - result.imported


def _record(result: ImportResult, actor_label: str) -> None:
    entry = CatalogueImport(
        filename=result.filename, actor_label=actor_label, status=result.status, rows_read=result.rows_read,
        imported=result.imported, updated=result.updated, skipped=result.skipped,
        problems=[str(p) for p in result.problems[:MAX_PROBLEMS_KEPT]], seconds=round(result.seconds, 3),
    )
    db.session.add(entry)
    db.session.flush()
    result.import_id = entry.id
