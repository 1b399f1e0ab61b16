"""The engine's catalogue for web workers and the CLI: built from the database once per catalogue
version, written as numpy files under the instance folder, and memory-mapped by every process.

Sharing: the columns are plain arrays (no Python object per track, see engine/catalogue.py), so
``np.load(mmap_mode="r")`` gives every worker the same pages of the operating system's file cache:
adding a worker adds no copy, and opening a stored version takes milliseconds, not the seconds a
rebuild from the database takes. One process builds a version (a lock file keeps the others
waiting, then they open its files); older versions' folders are removed once a newer one is
written (a worker still mapping one keeps its pages until it moves on).

Never built by a web request: building a version takes from a second (100k tracks) to minutes
(1M), far past a request's budget. The import and the seed refresh build it as their last step
(`prepare`); any other change to the catalogue (a curator's seed list, features found for a
listener's own music) starts a build in a background thread of the process that committed it. A
request that finds the current version not built yet serves the previous one (this process's, or
the newest on disk) and starts the build in the background; with no version at all it answers
`CatalogueNotReady` ("the catalogue is being prepared").

Which tracks: every track with audio features except those stored only for one listener's "from
music I know" preview (source ``library``). Those are served from the database per preview
(`tracks_catalogue`), so one listener's library never makes every worker reload.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from flask import current_app, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from curator import caching, demo
from curator.catalogue.demo import demo_catalogue
from curator.catalogue.errors import CatalogueNotReady
from curator.catalogue.store import BUMPED, LISTENER_SOURCE, chunks
from curator.engine import FEATURES, Catalogue
from curator.extensions import db
from curator.models.catalogue import SEP, CatalogueState, CatalogueTrack, TrackSource, TrackTag

log = logging.getLogger(__name__)

_lock = threading.Lock()
# (database URL, epoch, version) being built in a background thread of this process.
_building: set[tuple[str, str, int]] = set()

# Part of every stored folder's name: files written with other columns (an older Curator) are
# never opened, the version is built again beside them.
STORE_FORMAT = 3  # 3: the scan matrix (engine/scoring.py) stored with the columns
# The open catalogue, kept on the app (curator/caching.py) for its (epoch, version).
KEPT = "curator.catalogue_matrix"

# Core table columns, not ORM attributes: the rows come back as plain tuples without the ORM's
# per-row bookkeeping, which is most of the cost at 100k rows.
_t = CatalogueTrack.__table__.c
_FEATURE_COLUMNS = [_t[name] for name in FEATURES if name != "mode"]
_COLUMNS = (_t.id, _t.name, _t.artists, _t.artist_ids, _t.duration_ms, _t.explicit, _t.isrc, _t.key, _t.mode,
            _t.recording_key, _t.image_url, _t.release_year, *_FEATURE_COLUMNS)
_tags = TrackTag.__table__.c
_sources = TrackSource.__table__.c


# Read on every preview: built once, run on the connection (Core) rather than through the ORM.
_STATE = select(CatalogueState.epoch, CatalogueState.version).where(CatalogueState.id == 1)


def _state() -> tuple[str, int]:
    row = db.session.connection().execute(_STATE).first()
    return (row[0], row[1]) if row else ("", 0)


def catalogue_version() -> int:
    """The curation catalogue's change counter (0 for a catalogue that never had a track)."""
    return _state()[1]


def _fetch(statement) -> list[tuple]:
    # The driver's own cursor: SQLAlchemy's Row objects cost a third of the load at 100k rows,
    # and these columns need no type conversion (booleans arrive as 0/1 or bool, both fine).
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    cursor = connection.connection.cursor()
    try:
        params = compiled.params
        if compiled.positiontup is not None:
            params = tuple(params[name] for name in compiled.positiontup)
        cursor.execute(str(compiled), params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _build(rows: list[tuple], tags: dict[str, list[str]]) -> Catalogue:
    """Engine columns from (id, name, artists, ...) tuples, through the engine's one column builder."""
    rows.sort(key=lambda r: r[0])  # by id, code point order = UTF-8 byte order: ids stay binary-searchable
    n = len(rows)
    if n == 0:
        return Catalogue.from_records([])
    (ids, names, artists, artist_ids, durations, explicit, isrcs, keys, modes, rec_keys, images, years,
     *feature_cols) = zip(*rows, strict=True)
    split: dict[str, tuple[str, ...]] = {"": ()}  # artists repeat across their tracks: split each once
    artist_tuples = [split[a] if a in split else split.setdefault(a, tuple(a.split(SEP))) for a in artists]
    primary_keys = [aid.split(SEP, 1)[0] if aid else (names_[0].strip().lower() if names_ else "")
                    for aid, names_ in zip(artist_ids, artist_tuples, strict=True)]
    features = np.zeros((n, len(FEATURES)), dtype=np.float32)
    columns = iter(feature_cols)
    for index, name in enumerate(FEATURES):
        if name != "mode":
            features[:, index] = next(columns)
    return Catalogue.from_columns(
        ids=ids, names=names, artists=artist_tuples, primary_keys=primary_keys, durations_ms=durations,
        explicit=explicit, isrc=isrcs, key=keys, mode=modes, recording_keys=rec_keys, features=features,
        tags=[tags.get(i, ()) for i in ids], images=images, years=years,
    )


def _library_only() -> set[str]:
    """Tracks stored only for listeners' own previews (no seed, import or refresh brought them)."""
    mine = {r[0] for r in _fetch(select(_sources.track_id).where(_sources.source == LISTENER_SOURCE))}
    if not mine:
        return mine
    other = {r[0] for r in _fetch(select(_sources.track_id).where(_sources.source != LISTENER_SOURCE))}
    return mine - other


def load_catalogue() -> Catalogue:
    """Build the curation catalogue from the database (every track with features, see module doc)."""
    rows = _fetch(select(*_COLUMNS).where(_t.features_source.is_not(None)))
    excluded = _library_only()
    if excluded:
        rows = [r for r in rows if r[0] not in excluded]
    # All tags in one plain scan; joining them to "tracks with features" in SQL costs more than
    # skipping the few extra in Python.
    tags: dict[str, list[str]] = {}
    for track_id, tag in _fetch(select(_tags.track_id, _tags.tag)):
        tags.setdefault(track_id, []).append(tag)
    return _build(rows, tags)


def tracks_catalogue(track_ids) -> Catalogue:
    """A small catalogue of just these tracks (those with features), straight from the database:
    one listener's own music, which the shared curation catalogue leaves out."""
    wanted = list(dict.fromkeys(track_ids))
    rows: list[tuple] = []
    tags: dict[str, list[str]] = {}
    for part in chunks(wanted, 500):
        rows += _fetch(select(*_COLUMNS).where(_t.features_source.is_not(None), _t.id.in_(part)))
        for track_id, tag in _fetch(select(_tags.track_id, _tags.tag).where(_tags.track_id.in_(part))):
            tags.setdefault(track_id, []).append(tag)
    return _build(rows, tags)


# --- the shared files ----------------------------------------------------------------------

def _store_root() -> Path:
    return Path(current_app.instance_path) / "catalogue"


def open_stored(folder: Path) -> Catalogue:
    """Memory-map a stored catalogue (read-only; nothing is copied into the process), warmed so
    the first preview does not pay for filling caches and paging the matrix in."""
    # An empty column cannot be mapped (mmap needs at least one byte); it costs nothing to read.
    # Plain ndarray views of the maps: np.memmap's Python-level indexing cost a preview ~2 ms.
    arrays = {path.stem: np.load(path, mmap_mode="r" if path.stat().st_size > 128 else None).view(np.ndarray)
              for path in folder.glob("*.npy")}
    return Catalogue.from_stored_arrays(arrays).warm()


def write_stored(folder: Path, catalogue: Catalogue) -> None:
    """Write every column as .npy into a temporary folder, then rename it into place (atomic)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, array in catalogue.to_arrays().items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not folder.is_dir():
            raise


@contextmanager
def _build_lock(root: Path):
    """One builder per machine; the others wait, then open what it wrote."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: each process builds for itself
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(root: Path, epoch: str, keep: str) -> None:
    for old in root.glob(f"{epoch}-*"):
        if old.name != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _shared(epoch: str, version: int) -> Catalogue | None:
    """The stored catalogue of this version, written first if no process has yet (None: changed meanwhile)."""
    root = _store_root()
    folder = root / _folder_name(epoch, version)
    if folder.is_dir():
        return open_stored(folder)
    with _build_lock(root):
        if folder.is_dir():
            return open_stored(folder)
        catalogue = load_catalogue()
        # Re-read the version after loading: a change committed meanwhile must not be stored
        # under the older number (it would be picked up on the next call instead).
        if _state() != (epoch, version):
            return None
        write_stored(folder, catalogue)
        _prune(root, epoch, folder.name)
    return open_stored(folder)


def current_catalogue() -> Catalogue:
    """The engine catalogue of every curation track that has audio features (possibly empty).

    Shared by all requests of this process and memory-mapped by every process; reopened only
    after the curation catalogue changed (one cheap SELECT per call to find out). In a web request
    a version not built yet is never built here: the previous one answers meanwhile (see the
    module's docstring), or `CatalogueNotReady` when there is none. Before any setup (no Spotify
    app, no tracks) it is the made-up demo set (`catalogue/demo.py`), so a visitor can try Curator
    at once; it never enters the database.
    """
    catalogue = _stored_catalogue()
    if len(catalogue) == 0 and demo.active():
        return demo_catalogue()
    return catalogue


def _stored_catalogue() -> Catalogue:
    epoch, version = _state()
    kept = caching.peek(KEPT)
    if kept and kept[0] == (epoch, version):
        return kept[1]
    if not epoch:
        return load_catalogue()  # never had a track: nothing to build or map
    folder = _store_root() / _folder_name(epoch, version)
    if has_request_context() and not folder.is_dir():
        _build_in_background(epoch, version)
        previous = _previous(epoch, version)
        if previous is None:
            raise CatalogueNotReady("The music catalogue is being prepared. Please try again in a minute.")
        return previous
    catalogue = _keep_once((epoch, version), lambda: _shared(epoch, version))
    return load_catalogue() if catalogue is None else catalogue  # changed meanwhile: not kept


def _keep_once(key: tuple, make) -> Catalogue | None:
    """The catalogue kept for `key`, else `make()`'s, kept for this process's requests (None: not
    made, nothing kept). One thread at a time, so a process opens a version once."""
    with _lock:
        kept = caching.peek(KEPT)
        if kept and kept[0] == key:
            return kept[1]
        catalogue = make()
        return None if catalogue is None else caching.keep(KEPT, key, catalogue)


def open_if_built() -> bool:
    """Open the current version's stored files (memory-mapped and warmed, `open_stored`) and keep
    them for this process's requests, if they are built; never builds. True when it is open now.

    A web worker's start (curator/warmup.py, from gunicorn.conf.py): what the worker's first preview
    would otherwise do itself. It holds the same lock as a request would, so a request arriving
    meanwhile waits for this opening instead of doing its own, and then finds it kept."""
    epoch, version = _state()
    if not epoch:
        return False
    key = (epoch, version)
    kept = caching.peek(KEPT)
    if kept and kept[0] == key:
        return True
    folder = _store_root() / _folder_name(epoch, version)
    if not folder.is_dir():
        return False  # not built yet: the first request serves the previous version, as ever

    def opened() -> Catalogue | None:
        try:
            return open_stored(folder)
        except OSError:  # pruned meanwhile by a newer version's build
            return None

    return _keep_once(key, opened) is not None


def prepare() -> None:
    """Build the current version's files now (an import's or a refresh's last step, outside any web
    request); in a web request start the build in the background instead."""
    epoch, version = _state()
    if not epoch:
        return
    if has_request_context():
        _build_in_background(epoch, version)
    else:
        current_catalogue()


def _folder_name(epoch: str, version: int) -> str:
    return f"{epoch}-{version}-f{STORE_FORMAT}"


def _previous(epoch: str, version: int) -> Catalogue | None:
    """The newest version before `version` this process has open, or failing that on disk."""
    kept = caching.peek(KEPT)
    if kept and kept[0][0] == epoch and kept[0][1] < version:
        return kept[1]
    stored = []
    for folder in _store_root().glob(f"{epoch}-*-f{STORE_FORMAT}"):
        try:
            stored.append((int(folder.name[len(epoch) + 1:].split("-", 1)[0]), folder))
        except ValueError:
            continue
    older = [(v, folder) for v, folder in stored if v < version and folder.is_dir()]
    if not older:
        return None
    found_version, folder = max(older)
    try:
        catalogue = open_stored(folder)
    except OSError:  # pruned meanwhile by the build that just finished
        return None
    with _lock:
        kept = caching.peek(KEPT)
        if not kept or kept[0][0] != epoch or kept[0][1] < found_version:
            caching.keep(KEPT, (epoch, found_version), catalogue)
    return catalogue


def _build_in_background(epoch: str, version: int) -> None:
    """Build (epoch, version) in a daemon thread of this process, once; other processes wait on the
    build lock and then open what it wrote."""
    _in_background(epoch, version)


def _in_background(epoch: str | None, version: int) -> None:
    """A daemon thread that opens, building first if need be, the catalogue's version (the current
    one when `epoch` is None: after a commit, where the session can't read it yet)."""
    app = current_app._get_current_object()
    key = (app.config["SQLALCHEMY_DATABASE_URI"], epoch or "", version)
    with _lock:
        if key in _building:
            return
        _building.add(key)

    def build() -> None:
        try:
            with app.app_context():
                try:
                    current_catalogue()  # no request context here: it builds when missing
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the next request starts another build
            log.exception("building the catalogue (version %s) failed", version if epoch else "current")
        finally:
            with _lock:
                _building.discard(key)

    threading.Thread(target=build, name="catalogue-build", daemon=True).start()


def building() -> bool:
    """Whether this process is building a catalogue version in the background."""
    with _lock:
        return bool(_building)


@event.listens_for(Session, "after_commit")
def _build_after_a_change(session) -> None:
    """A change to the catalogue committed in a web request (store.bump_version: a curator's seed
    list, features found for a listener's music) starts building its new version at once."""
    if session.info.pop(BUMPED, False) and has_request_context():
        _in_background(None, -1)
