"""Seed lists: per mood, the Spotify playlists, artists, tracks and searches the catalogue grows from.

Shipped defaults live in config/seeds.yaml and are loaded on first run only; after that the
database is the source of truth and admins edit it on /admin/catalogue/seeds.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import delete, func, select

from curator import audit
from curator.catalogue import store
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack, Seed, TrackSource, split_list
from curator.problems import Unprocessable
from curator.spotify.refs import KINDS, SeedInvalid, normalise_seed
from curator.textfiles import TextFileError, read_text

# The shipped seed lists are a few kilobytes; a file far larger is the wrong file (and must never be
# read whole into memory): refused with one sentence, as a moods file is (curator/moods/cli.py).
MAX_SEEDS_FILE_BYTES = 1024 * 1024

# How the YAML file and the editor's fields name each kind.
PLURAL = {"playlist": "playlists", "artist": "artists", "track": "tracks", "search": "searches"}
FROM_PLURAL = {v: k for k, v in PLURAL.items()}


class SeedsInvalid(Unprocessable):
    """Some lines of a seed list are not valid; `errors` maps a kind to its line messages."""

    def __init__(self, errors: dict[str, list[str]]):
        count = sum(len(v) for v in errors.values())
        super().__init__(f"{count} seed line(s) need fixing; nothing was saved.", field=next(iter(errors), None))
        self.errors = errors


def seeds_by_mood(mood: str | None = None) -> dict[str, list[Seed]]:
    """Seeds grouped by mood slug, in list order."""
    query = select(Seed).order_by(Seed.mood, Seed.kind, Seed.position, Seed.id)
    if mood:
        query = query.where(Seed.mood == mood)
    out: dict[str, list[Seed]] = {}
    for seed in db.session.scalars(query):
        out.setdefault(seed.mood, []).append(seed)
    return out


def seed_names(seeds: list[Seed]) -> dict[int, str]:
    """What people call the artists and tracks among `seeds`, by seed id, as the catalogue knows them
    from the tracks those seeds brought in (an artist's name is where its id sits among a track's
    artists). Seeds never read yet, playlists and searches are left out: the page shows their value."""
    names: dict[int, str] = {}
    for seed in seeds:
        if seed.kind == "artist":
            rows = db.session.execute(
                select(CatalogueTrack.artists, CatalogueTrack.artist_ids)
                .join(TrackSource, TrackSource.track_id == CatalogueTrack.id)
                .where(TrackSource.source == f"seed:{seed.id}").limit(5)).all()
            for artists, artist_ids in rows:
                ids, people = split_list(artist_ids), split_list(artists)
                if seed.value in ids and ids.index(seed.value) < len(people):
                    names[seed.id] = people[ids.index(seed.value)]
                    break
    track_ids = {seed.value: seed.id for seed in seeds if seed.kind == "track"}
    if track_ids:
        for track_id, name, artists in db.session.execute(
                select(CatalogueTrack.id, CatalogueTrack.name, CatalogueTrack.artists)
                .where(CatalogueTrack.id.in_(list(track_ids)))):
            by = ", ".join(split_list(artists))
            names[track_ids[track_id]] = f"{name} by {by}" if by else name
    return names


def seed_counts() -> dict[str, int]:
    return dict(db.session.execute(select(Seed.mood, func.count(Seed.id)).group_by(Seed.mood)).all())


def seed_texts(mood: str) -> dict[str, str]:
    """The editor's text per kind: one normalised entry a line."""
    texts = {kind: [] for kind in KINDS}
    for seed in seeds_by_mood(mood).get(mood, []):
        texts.setdefault(seed.kind, []).append(seed.value)
    return {kind: "\n".join(lines) for kind, lines in texts.items()}


def parse_seed_texts(texts: dict[str, str]) -> dict[str, list[str]]:
    """Validate the editor's fields; returns normalised values per kind, or raises SeedsInvalid."""
    values: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for kind in KINDS:
        found: list[str] = []
        for number, line in enumerate((texts.get(kind) or "").splitlines(), start=1):
            if not line.strip() or line.strip().startswith("#"):
                continue
            try:
                value = normalise_seed(kind, line)
            except SeedInvalid as exc:
                errors.setdefault(kind, []).append(f"Line {number}: {exc}")
                continue
            if value not in found:
                found.append(value)
        values[kind] = found
    if errors:
        raise SeedsInvalid(errors)
    return values


def save_mood_seeds(mood: str, texts: dict[str, str], *, actor=None) -> dict[str, int]:
    """Replace a mood's seed list with what the editor sent (all or nothing: the caller's
    transaction, `admin.service.save_seeds`, commits it).

    Seeds kept unchanged keep their read state (e.g. a playlist's snapshot); removed seeds take
    their "brought by this seed" links with them (the tracks stay in the catalogue).
    Returns counts {added, removed, kept}.
    """
    values = parse_seed_texts(texts)
    current = {(s.kind, s.value): s for s in seeds_by_mood(mood).get(mood, [])}
    wanted = {(kind, value): position for kind in KINDS for position, value in enumerate(values[kind])}
    removed = [s for key, s in current.items() if key not in wanted]
    unlinked = 0
    for seed in removed:
        unlinked += db.session.execute(delete(TrackSource).where(TrackSource.source == f"seed:{seed.id}")).rowcount
        db.session.delete(seed)
    if unlinked:
        store.bump_version()  # tracks lost their link to this mood: coverage and the curation set changed
    added = 0
    for (kind, value), position in wanted.items():
        seed = current.get((kind, value))
        if seed is None:
            db.session.add(Seed(mood=mood, kind=kind, value=value, position=position))
            added += 1
        else:
            seed.position = position
    before = {PLURAL[k]: [v for (kk, v) in current if kk == k] for k in KINDS}
    after = {PLURAL[k]: values[k] for k in KINDS}
    if before != after:
        audit.record(actor, "seeds.save", mood, before, after)
    db.session.flush()
    return {"added": added, "removed": len(removed), "kept": len(wanted) - added}


def load_seeds_yaml(text: str) -> list[tuple[str, str, str]]:
    """(mood, kind, value) from the seeds YAML; raises SeedsInvalid naming each bad entry."""
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SeedsInvalid({"file": [f"Not valid YAML: {exc}"]}) from exc
    moods = document.get("seeds") if isinstance(document, dict) else None
    if not isinstance(moods, dict):
        raise SeedsInvalid({"file": ["Expected a top-level 'seeds:' mapping of mood slug to lists."]})
    out: list[tuple[str, str, str]] = []
    errors: dict[str, list[str]] = {}
    for mood, lists in moods.items():
        if not isinstance(lists, dict):
            errors.setdefault("file", []).append(f"{mood}: expected playlists/artists/tracks/searches lists.")
            continue
        for plural, entries in lists.items():
            kind = FROM_PLURAL.get(plural)
            if kind is None or not isinstance(entries, list):
                errors.setdefault("file", []).append(f"{mood}.{plural}: unknown list (use {', '.join(PLURAL.values())}).")
                continue
            for entry in entries:
                if not isinstance(entry, (str, int, float)) or isinstance(entry, bool):
                    errors.setdefault("file", []).append(
                        f"{mood}.{plural}: each entry is one link, id or search as text (found a {type(entry).__name__}).")
                    continue
                try:
                    out.append((str(mood), kind, normalise_seed(kind, str(entry))))
                except SeedInvalid as exc:
                    errors.setdefault("file", []).append(f"{mood}.{plural}: {exc}")
    if errors:
        raise SeedsInvalid(errors)
    return out


def import_shipped_if_empty() -> str | None:
    """First run only: load config/seeds.yaml when the database has no seeds yet."""
    if db.session.scalar(select(func.count(Seed.id))):
        return None
    path = Path(current_app.config["SEEDS_FILE"])
    try:
        text = read_text(str(path), max_bytes=MAX_SEEDS_FILE_BYTES, what="a seeds file")
    except TextFileError as exc:
        raise SeedsInvalid({"file": [exc.message]}) from None
    entries = load_seeds_yaml(text)
    positions: dict[tuple[str, str], int] = {}
    for mood, kind, value in dict.fromkeys(entries):
        position = positions.get((mood, kind), 0)
        positions[(mood, kind)] = position + 1
        db.session.add(Seed(mood=mood, kind=kind, value=value, position=position))
    db.session.commit()
    return f"Imported {len(entries)} seeds for {len({m for m, _, _ in entries})} moods from {path}."
