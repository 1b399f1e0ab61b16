"""Curator's moods against learned anchors on unseen artists (issue 19), for bench/curation_quality.py.

Protocol. Each data set is split in two halves by artist (an artist's songs are all on one side),
``repeats`` times with different splits, so every figure is a mean over 2 x repeats held-out halves
the size of the issue's unseen half. On each split, for every mood:

* the anchors (bench/anchors.py) are fitted on the training half's labels and their top 20 by
  predicted probability on the held-out half are scored;
* Curator's mood is *refitted without the held-out half*: its learned term is fitted (penalty by
  artist-grouped cross-validation inside the training rows) on the training half plus, when the
  mood is labelled there too, the whole of the other data set, exactly as `moods calibrate` fits
  the shipped term on both sets; on the listener-rated set the listener model behind
  ``listener_pull`` is refitted on the training half as well. Then a steady 20-track playlist
  (seed 1) is curated from the held-out half alone;
* "random" is the share of the held-out half that carries the label.

Arcs (listener-rated set): anxious -> calm and melancholic -> uplifted over 20 and 50 tracks from
the held-out half: Spearman rho of listener valence with position, and the share of the last 20%
of the arc inside the target mood's region (beside a steady 20-track playlist of that mood).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.anchors import ANCHORS, anchor_matrix, anchor_scores
from curator.engine import Catalogue, CurateOptions, Length, MoodDefinition, curate
from curator.engine.learned import group_folds
from curator.engine.listener import fit_listener_model
from curator.engine.moods import with_listener_pull_applied
from curator.moods.labelled import LabelledSet, fit_mood, listener_regions, map_label, read_labelled

PLAYLIST = 20
SEED = 1
ARCS = (("anxious", "calm"), ("melancholic", "uplifted"))
ARC_LENGTHS = (20, 50)
TAIL = 0.2  # the last fifth of an arc


@dataclass(frozen=True)
class Judged:
    """A data set as the bench judges it: labels per mood, anchor features, catalogue columns."""

    data: LabelledSet
    labels: dict[str, np.ndarray]  # mood slug -> row mask
    anchor_x: np.ndarray
    key: np.ndarray
    listener: bool  # listener-rated (regions) rather than classes

    @property
    def name(self) -> str:
        return self.data.name


def judged_set(path: Path) -> Judged:
    data = read_labelled(path.read_text(encoding="utf-8"), path.name)
    listener = data.valence is not None
    if listener:
        labels = listener_regions(data.valence, data.arousal)
    else:
        labels = {map_label(c): data.classes == c for c in np.unique(data.classes)}
    anchor_x = anchor_matrix(path)
    key = _key_column(path)
    return Judged(data, labels, anchor_x, key, listener)


def _key_column(path: Path) -> np.ndarray:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return np.array([int(float(r["key"])) if r.get("key") not in (None, "") else -1 for r in csv.DictReader(handle)])


def catalogue_of(judged: Judged, rows: np.ndarray) -> Catalogue:
    data = judged.data
    names = sorted({data.artists[i] for i in rows})
    code = {name: i for i, name in enumerate(names)}
    return Catalogue.from_arrays(
        data.raw[rows].astype(np.float32), ids=[f"t{i}" for i in rows],
        artists=[(data.artists[i],) for i in rows],
        primary_artist=np.array([code[data.artists[i]] for i in rows], dtype=np.int32),
        key=judged.key[rows],
    )


def _rows(playlist) -> np.ndarray:
    return np.array([int(t.id[1:]) for t in playlist.tracks], dtype=np.int64)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3:
        return float("nan")
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


@dataclass
class Figures:
    curator: dict[str, list[float]] = field(default_factory=dict)
    anchors: dict[str, dict[str, list[float]]] = field(default_factory=lambda: {a: {} for a in ANCHORS})
    random: dict[str, list[float]] = field(default_factory=dict)
    arcs: dict[tuple, list[tuple[float, float]]] = field(default_factory=dict)  # (start, end, n) -> (rho, tail hit)

    def mean(self, table: Mapping[str, list[float]], slug: str) -> float:
        return float(np.mean(table[slug]))


def refitted(moods: dict[str, MoodDefinition], slug: str, training: list[LabelledSet],
             sources: Mapping[str, tuple[str, ...]] | None = None) -> MoodDefinition:
    """The mood with its learned term refitted on ``training`` (its weight kept); as is without one.

    ``sources`` (slug -> data set names) limits a mood to some of the sets, as an experiment."""
    mood = moods[slug]
    if mood.learned is None or mood.learned.weight <= 0:
        return mood
    if sources and slug in sources:
        training = [t for t in training if t.name in sources[slug]]
    fit = fit_mood(mood, training, weight=mood.learned.weight)
    return mood if fit is None else mood.model_copy(update={"learned": fit.term})


def _anchor_tops(judged: Judged, train: np.ndarray, held: np.ndarray, slugs: list[str],
                 cache: Path | None, tag: str) -> dict[str, dict[str, float]]:
    """{anchor: {mood: hit rate of its top 20}} on one held-out half; kept in ``cache`` (a directory)
    under the data set's content, the split and the moods, so a rerun of the bench does not fit the
    forests again (they dominate its time on a shared machine)."""
    import hashlib
    import json

    digest = hashlib.blake2b(digest_size=12)
    for part in (judged.anchor_x, judged.data.raw, held):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(json.dumps([tag, slugs, ANCHORS]).encode())
    path = None if cache is None else cache / f"anchors-{judged.name}-{digest.hexdigest()}.json"
    if path is not None and path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    scores = anchor_scores(judged.anchor_x[train], {s: judged.labels[s][train] for s in slugs}, judged.anchor_x[held])
    tops = {name: {slug: float(judged.labels[slug][held[np.argsort(-p, kind="stable")[:PLAYLIST]]].mean())
                   for slug, p in per_mood.items()} for name, per_mood in scores.items()}
    if path is not None:
        cache.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(tops), encoding="utf-8")
    return tops


def evaluate(moods: dict[str, MoodDefinition], judged: Judged, other: Judged | None, repeats: int,
             slugs: list[str], anchors: bool = True, sources: Mapping[str, tuple[str, ...]] | None = None,
             cache: Path | None = None) -> Figures:
    """Curator, the anchors and random per mood over ``repeats`` artist splits in halves; ``cache``:
    a directory keeping the anchors' out-of-fold figures between runs (see :func:`_anchor_tops`)."""
    out = Figures()
    data = judged.data
    for r in range(repeats):
        folds = group_folds(data.artists, 2, salt=f"split {r}:")
        for half in (0, 1):
            train, held = np.flatnonzero(folds != half), np.flatnonzero(folds == half)
            training = [data.subset(train)] + ([other.data] if other is not None else [])
            fold_moods = {slug: refitted(moods, slug, training, sources) for slug in moods}
            if judged.listener:
                model = fit_listener_model(data.raw[train], data.valence[train], data.arousal[train],
                                           group_folds([data.artists[i] for i in train], 5))
                fold_moods = {slug: _with_pull(m, model) for slug, m in fold_moods.items()}
            catalogue = catalogue_of(judged, held)
            options = CurateOptions(seed=SEED, max_per_artist=2 if judged.listener else PLAYLIST)
            for slug in slugs:
                y = judged.labels[slug]
                picks = _rows(curate(catalogue, fold_moods[slug], fold_moods[slug], Length(tracks=PLAYLIST), options))
                out.curator.setdefault(slug, []).append(float(y[picks].sum()) / PLAYLIST)
                out.random.setdefault(slug, []).append(float(y[held].mean()))
            if anchors:
                tops = _anchor_tops(judged, train, held, slugs, cache, f"split {r}, half {half}")
                for name, per_mood in tops.items():
                    for slug, hit in per_mood.items():
                        out.anchors[name].setdefault(slug, []).append(hit)
            if judged.listener:
                for start, end in ARCS:
                    for n in ARC_LENGTHS:
                        picks = _rows(curate(catalogue, fold_moods[start], fold_moods[end], Length(tracks=n), options))
                        tail = picks[-max(1, round(TAIL * len(picks))):]
                        out.arcs.setdefault((start, end, n), []).append(
                            (spearman(np.arange(len(picks)), data.valence[picks]), float(judged.labels[end][tail].mean())))
    return out


def _with_pull(mood: MoodDefinition, model) -> MoodDefinition:
    """The mood with its listener pull folded in under the fold's listener model, learned term kept."""
    if not mood.listener_pull:
        return mood
    moved = with_listener_pull_applied(mood.model_copy(update={"learned": None}), model)
    return moved.model_copy(update={"learned": mood.learned})
