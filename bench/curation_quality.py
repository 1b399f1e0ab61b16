"""How well the shipped moods land: on labelled tracks and on listener-rated tracks, out of sample.

    python -m bench.curation_quality [--labelled CSV] [--listener CSV] [--folds 5] [--splits 50] [--write-docs]
    python -m bench.curation_quality --fit-listener   # print the listener model to ship

Two data sets from ../shared/data (never copied into the repository):

* moods-labelled-dev.csv (Calm/Energetic/Happy/Sad): precision@20 of a steady 20-track playlist
  per labelled mood, over the whole set and over random split-halves (each half a catalogue).
* moods-va-dev.csv (listener valence/arousal from Last.fm tags): for each of the eight moods, the
  share of a steady 20-track playlist inside the mood's listener region, beside the random-pick
  rate and a one-line naive rule; for the arcs anxious -> calm and melancholic -> uplifted, the
  Spearman rho of listener valence and arousal with track position. Out of fold: tracks are split
  into k folds by artist; for each fold the listener model is fitted on the other folds (its ridge
  penalty chosen by an inner cross-validation), and the held-out fold is the catalogue. In-sample
  figures (model fitted on all tracks, the whole set as catalogue) are shown beside them, never
  instead of them.
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from curator.engine import Catalogue, CurateOptions, Length, curate, load_moods_yaml
from curator.engine.calibration import _logistic, precision_at_k
from curator.engine.features import FEATURES, normalise
from curator.engine.listener import MODEL_FEATURES, ListenerModel, artist_folds, fit_listener_model
from curator.engine.moods import with_listener_pull_applied

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
DEFAULT_CSV = DATA / "moods-labelled-dev.csv"
DEFAULT_LISTENER_CSV = DATA / "moods-va-dev.csv"
LABEL_TO_MOOD = {"Calm": "calm", "Energetic": "energised", "Happy": "uplifted", "Sad": "melancholic"}
FEATURE_COLUMNS = ("valence", "energy", "danceability", "acousticness", "instrumentalness",
                   "speechiness", "liveness", "loudness", "tempo")
MOODS = ("anxious", "angry", "melancholic", "tired", "calm", "focused", "uplifted", "energised")
ARCS = (("anxious", "calm"), ("melancholic", "uplifted"))
PLAYLIST = 20


def load_labelled(path: Path) -> tuple[list[dict], np.ndarray]:
    """Catalogue records and the label of each row (the CSV has no mode column: mode unknown)."""
    records, labels = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record = {
                "id": row["id"], "name": row["name"], "artists": [row["artist"]],
                "duration_ms": int(float(row["length"])), "explicit": False,
                "key": int(float(row["key"])) if row.get("key") not in (None, "") else None,
            }
            record.update({f: float(row[f]) for f in FEATURE_COLUMNS})
            records.append(record)
            labels.append(row["mood"])
    return records, np.asarray(labels)


@dataclass(frozen=True)
class ListenerRated:
    records: list[dict]
    valence: np.ndarray  # listeners' (tag) valence
    arousal: np.ndarray
    artists: list[str]

    @property
    def raw(self) -> np.ndarray:
        return Catalogue.from_records(self.records).features.astype(np.float64)


def load_listener_rated(path: Path) -> ListenerRated:
    records, valence, arousal, artists = [], [], [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record = {"id": row["id"], "name": row["name"], "artists": [row["artists"]],
                      "duration_ms": int(float(row["duration_ms"])), "explicit": False,
                      "key": int(float(row["key"])), "mode": int(float(row["mode"]))}
            record.update({f: float(row[f]) for f in FEATURE_COLUMNS})
            records.append(record)
            valence.append(float(row["tag_valence"]))
            arousal.append(float(row["tag_arousal"]))
            artists.append(row["artists"])
    return ListenerRated(records, np.asarray(valence), np.asarray(arousal), artists)


def regions(valence: np.ndarray, arousal: np.ndarray) -> dict[str, np.ndarray]:
    """Each mood's region of listener valence/arousal, as a row mask.

    "High"/"low" mean above/below the median of the whole listener-rated set; "lowest third" and
    "below two-thirds" are its tertiles. Thresholds come from the labels only, never from picks.
    """
    v_mid, a_mid = np.median(valence), np.median(arousal)
    v_third, a_two_thirds = np.quantile(valence, 1 / 3), np.quantile(arousal, 2 / 3)
    high_a, low_a = arousal > a_mid, arousal < a_mid
    return {
        "anxious": high_a & (valence < v_mid),
        "angry": high_a & (valence < v_third),
        "melancholic": (valence < v_mid) & low_a,
        "tired": low_a,
        "calm": low_a & (valence > v_mid),
        "focused": arousal < a_two_thirds,
        "uplifted": valence > v_mid,
        "energised": high_a,
    }


# One line each, the rule a sceptic would write first (uplifted and energised as quoted in issue 10).
NAIVE_RULES = {
    "anxious": ("energy > 0.7 & valence < 0.4", lambda f: (f["energy"] > 0.7) & (f["valence"] < 0.4)),
    "angry": ("energy > 0.8 & valence < 0.3", lambda f: (f["energy"] > 0.8) & (f["valence"] < 0.3)),
    "melancholic": ("valence < 0.3 & energy < 0.5", lambda f: (f["valence"] < 0.3) & (f["energy"] < 0.5)),
    "tired": ("energy < 0.4", lambda f: f["energy"] < 0.4),
    "calm": ("energy < 0.4 & valence > 0.5", lambda f: (f["energy"] < 0.4) & (f["valence"] > 0.5)),
    "focused": ("energy < 0.6", lambda f: f["energy"] < 0.6),
    "uplifted": ("valence > 0.7 & danceability > 0.6", lambda f: (f["valence"] > 0.7) & (f["danceability"] > 0.6)),
    "energised": ("energy > 0.8", lambda f: f["energy"] > 0.8),
}


def _columns(records: list[dict]) -> dict[str, np.ndarray]:
    return {f: np.array([r[f] for r in records]) for f in FEATURE_COLUMNS}


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3:
        return float("nan")
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _rows(catalogue: Catalogue, playlist) -> np.ndarray:
    return np.array([catalogue.index_of(t.id) for t in playlist.tracks], dtype=np.int64)


def score_listener(moods: dict, model: ListenerModel, records: list[dict], valence: np.ndarray,
                   arousal: np.ndarray, region: dict[str, np.ndarray]) -> dict:
    """Region hits, random and naive-rule rates, and arc rhos on one catalogue under one model."""
    catalogue = Catalogue.from_records(records)
    pulled = {slug: with_listener_pull_applied(m, model) for slug, m in moods.items()}
    options = CurateOptions(seed=0)
    out: dict = {"hit": {}, "random": {}, "naive": {}, "arc": {}}
    cols = _columns(records)
    for slug in MOODS:
        rows = _rows(catalogue, curate(catalogue, pulled[slug], pulled[slug], Length(tracks=PLAYLIST), options))
        out["hit"][slug] = float(region[slug][rows].mean()) if len(rows) else 0.0
        out["random"][slug] = float(region[slug].mean())
        chosen = NAIVE_RULES[slug][1](cols)
        out["naive"][slug] = float(region[slug][chosen].mean()) if chosen.any() else 0.0
    for start, end in ARCS:
        rows = _rows(catalogue, curate(catalogue, pulled[start], pulled[end], Length(tracks=PLAYLIST), options))
        position = np.arange(len(rows))
        out["arc"][(start, end)] = (_spearman(position, valence[rows]), _spearman(position, arousal[rows]))
    return out


def linear_ceiling(raw: np.ndarray, region: dict[str, np.ndarray], train: np.ndarray,
                   held: np.ndarray) -> dict[str, float]:
    """Region hits of the top 20 held-out rows ranked by a logistic regression fitted on the region.

    Not a mood: a yardstick for how far any linear use of these features can go on this data.
    """
    x = normalise(raw)[:, [FEATURES.index(f) for f in MODEL_FEATURES]]
    mean, sd = x[train].mean(axis=0), x[train].std(axis=0) + 1e-9
    z = (x - mean) / sd
    out = {}
    for slug in MOODS:
        coef = _logistic(z[train], region[slug][train], ridge=1.0)
        top = held[np.argsort(-(z[held] @ coef), kind="stable")[:PLAYLIST]]
        out[slug] = float(region[slug][top].mean())
    return out


def listener_quality(moods: dict, data: ListenerRated, k: int) -> tuple[dict, dict, ListenerModel]:
    """(out-of-fold means over k artist folds, in-sample figures, model fitted on everything)."""
    region = regions(data.valence, data.arousal)
    raw = data.raw
    folds = artist_folds(data.artists, k)
    per_fold = []
    for fold in range(k):
        train, held = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        model = fit_listener_model(raw[train], data.valence[train], data.arousal[train], folds[train])
        scores = score_listener(moods, model, [data.records[i] for i in held], data.valence[held],
                                data.arousal[held], {s: r[held] for s, r in region.items()})
        scores["ceiling"] = linear_ceiling(raw, region, train, held)
        per_fold.append(scores)
    oof = {key: {name: np.mean([f[key][name] for f in per_fold], axis=0) for name in per_fold[0][key]}
           for key in per_fold[0]}
    oof["worst"] = {slug: min(f["hit"][slug] for f in per_fold) for slug in MOODS}
    full_model = fit_listener_model(raw, data.valence, data.arousal, folds)
    in_sample = score_listener(moods, full_model, data.records, data.valence, data.arousal, region)
    return oof, in_sample, full_model


def listener_tables(oof: dict, in_sample: dict, k: int) -> str:
    lines = [
        f"| mood | region (listener valence/arousal) | out of fold (mean of {k}) | worst fold | in-sample | random | ×random | naive rule | rule | linear ceiling |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for slug in MOODS:
        hit, rnd = oof["hit"][slug], oof["random"][slug]
        lines.append(f"| {slug} | {REGION_WORDS[slug]} | {hit:.2f} | {oof['worst'][slug]:.2f} | {in_sample['hit'][slug]:.2f} | "
                     f"{rnd:.2f} | {hit / rnd if rnd else float('nan'):.1f} | {oof['naive'][slug]:.2f} | `{NAIVE_RULES[slug][0]}` | {oof['ceiling'][slug]:.2f} |")
    mean_oof = np.mean([oof["hit"][s] for s in MOODS])
    mean_in = np.mean([in_sample["hit"][s] for s in MOODS])
    mean_rnd = np.mean([oof["random"][s] for s in MOODS])
    mean_naive = np.mean([oof["naive"][s] for s in MOODS])
    mean_ceiling = np.mean([oof["ceiling"][s] for s in MOODS])
    lines.append(f"| **mean** | | **{mean_oof:.2f}** | | {mean_in:.2f} | {mean_rnd:.2f} | | {mean_naive:.2f} | | {mean_ceiling:.2f} |")
    lines += ["", "| arc (20 tracks) | ρ valence, out of fold | ρ arousal, out of fold | ρ valence, in-sample | ρ arousal, in-sample |",
              "|---|---:|---:|---:|---:|"]
    for arc in ARCS:
        (ov, oa), (iv, ia) = oof["arc"][arc], in_sample["arc"][arc]
        lines.append(f"| {arc[0]} → {arc[1]} | {ov:+.2f} | {oa:+.2f} | {iv:+.2f} | {ia:+.2f} |")
    return "\n".join(lines)


REGION_WORDS = {
    "anxious": "arousal > median, valence < median",
    "angry": "arousal > median, valence in lowest third",
    "melancholic": "valence < median, arousal < median",
    "tired": "arousal < median",
    "calm": "arousal < median, valence > median",
    "focused": "arousal below two-thirds",
    "uplifted": "valence > median",
    "energised": "arousal > median",
}


def model_table(model: ListenerModel) -> str:
    lines = ["| feature (0..1 scale) | listener valence | listener arousal |", "|---|---:|---:|"]
    for name in MODEL_FEATURES:
        lines.append(f"| {name} | {model.valence[name]:+.2f} | {model.arousal[name]:+.2f} |")
    lines.append(f"\nRidge penalty {model.alpha:g} (chosen by {model.folds}-fold cross-validation over artists, "
                 f"{model.n} tracks). Correlation with listeners' ratings: valence r = {model.r_out_of_fold[0]:.2f} "
                 f"out of fold ({model.r_in_sample[0]:.2f} in-sample), arousal r = {model.r_out_of_fold[1]:.2f} "
                 f"({model.r_in_sample[1]:.2f}).")
    return "\n".join(lines)


def precision_table(records: list[dict], labels: np.ndarray, moods: dict, k: int = 20) -> dict[str, float]:
    catalogue = Catalogue.from_records(records)
    return {
        slug: precision_at_k(catalogue, moods[slug], labels == label, k=k)
        for label, slug in LABEL_TO_MOOD.items()
    }


def anchors_report(moods: dict, labelled: Path, listener: Path, repeats: int, cache: Path | None = None) -> str:
    """Issue 19's table: Curator beside the learned anchors per mood on both sets, and the arcs."""
    from bench.ship_learned import SOURCES
    from bench.versus_anchors import ANCHORS, ARC_LENGTHS, ARCS, PLAYLIST, evaluate, judged_set

    lab, rated = judged_set(labelled), judged_set(listener)
    lab_slugs = list(LABEL_TO_MOOD.values())
    judged = [(lab, evaluate(moods, lab, rated, repeats, lab_slugs, sources=SOURCES, cache=cache), lab_slugs, "precision@20"),
              (rated, evaluate(moods, rated, lab, repeats, list(MOODS), sources=SOURCES, cache=cache), list(MOODS),
               "region hit")]
    lines = [f"| set | mood | Curator | {' | '.join(ANCHORS)} | best anchor − 0.15 | random | random + 0.05 |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for data, figures, slugs, measure in judged:
        means = {name: [] for name in ("curator", *ANCHORS, "random")}
        for i, slug in enumerate(slugs):
            cur, rnd = figures.mean(figures.curator, slug), figures.mean(figures.random, slug)
            anchors = [figures.mean(figures.anchors[a], slug) for a in ANCHORS]
            for name, value in zip(means, (cur, *anchors, rnd)):
                means[name].append(value)
            label = f"{data.name} ({measure})" if i == 0 else ""
            lines.append(f"| {label} | {slug} | {cur:.2f} | {' | '.join(f'{a:.2f}' for a in anchors)} | "
                         f"{max(anchors) - 0.15:.2f} | {rnd:.2f} | {rnd + 0.05:.2f} |")
        lines.append(f"| | **mean** | **{np.mean(means['curator']):.2f}** | "
                     f"{' | '.join(f'{np.mean(means[a]):.2f}' for a in ANCHORS)} | | {np.mean(means['random']):.2f} | |")
    figures = judged[1][1]
    lines += ["", f"| arc (listener-rated set) | tracks | ρ listener valence | last fifth in the target's region | "
                  f"steady {PLAYLIST}-track playlist of the target |", "|---|---:|---:|---:|---:|"]
    for start, end in ARCS:
        for n in ARC_LENGTHS:
            values = np.array(figures.arcs[(start, end, n)])
            rho, tail = np.nanmean(values, axis=0)
            lines.append(f"| {start} → {end} | {n} | {rho:+.2f} | {tail:.2f} | {figures.mean(figures.curator, end):.2f} |")
    lines.append(f"\n{2 * repeats} held-out halves per figure ({repeats} artist splits of each set in two).")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=None, help="labelled CSV (same as --labelled)")
    parser.add_argument("--labelled", default=str(DEFAULT_CSV))
    parser.add_argument("--listener", default=str(DEFAULT_LISTENER_CSV), help="listener-rated CSV")
    parser.add_argument("--moods", default=str(REPO / "config" / "moods.yaml"))
    parser.add_argument("--seed", type=int, default=7, help="seed for the random halves")
    parser.add_argument("--splits", type=int, default=50, help="random split-halves for the spread (0 = none)")
    parser.add_argument("--folds", type=int, default=5, help="artist folds for the listener-rated set")
    parser.add_argument("--fit-listener", action="store_true", help="print the listener model fitted on all tracks")
    parser.add_argument("--lean", type=float, default=None, help="try another listener.LEAN (an experiment)")
    parser.add_argument("--repeats", type=int, default=5, help="artist splits in halves for the anchors (0 = skip)")
    parser.add_argument("--anchor-cache", default=None, metavar="DIR",
                        help="keep the anchors' out-of-fold figures in DIR and reuse them (their forests dominate the time)")
    parser.add_argument("--write-docs", action="store_true", help="write docs/curation-quality.md")
    args = parser.parse_args()
    path, listener_path = Path(args.csv or args.labelled), Path(args.listener)
    for p in (path, listener_path):
        if not p.is_file():
            print(f"Data not found at {p}; pass --labelled / --listener paths (see ../shared/README.md).",
                  file=sys.stderr)
            return 2
    moods = {m.slug: m for m in load_moods_yaml(Path(args.moods).read_text(encoding="utf-8"))}
    if args.lean is not None:
        import curator.engine.listener
        import curator.engine.moods

        curator.engine.listener.LEAN = args.lean
        curator.engine.moods._moved_features.cache_clear()
    anchors = ""
    if args.repeats > 0:
        anchors = anchors_report(moods, path, listener_path, args.repeats,
                                 Path(args.anchor_cache) if args.anchor_cache else None)
        print(f"Curator against learned anchors, unseen artists\n{anchors}\n")
    rated = load_listener_rated(listener_path)
    if args.fit_listener:
        model = fit_listener_model(rated.raw, rated.valence, rated.arousal, artist_folds(rated.artists, args.folds))
        print(repr(model))
        return 0
    oof, in_sample, model = listener_quality(moods, rated, args.folds)
    listener = listener_tables(oof, in_sample, args.folds)
    print(f"Listener model fitted on {listener_path.name}\n{model_table(model)}\n")
    print(f"Listener regions, steady {PLAYLIST}-track playlists, {args.folds} artist folds\n{listener}\n")

    records, labels = load_labelled(path)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(records))
    halves = [np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2 :])]

    columns = {"all": precision_table(records, labels, moods)}
    for i, half in enumerate(halves, 1):
        columns[f"half {i}"] = precision_table([records[j] for j in half], labels[half], moods)

    counts = {label: int((labels == label).sum()) for label in LABEL_TO_MOOD}
    lines = [
        f"| mood (label) | tracks | all {len(records)} | half 1 | half 2 |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, slug in LABEL_TO_MOOD.items():
        cells = " | ".join(f"{columns[c][slug]:.2f}" for c in columns)
        lines.append(f"| {slug} ({label}) | {counts[label]} | {cells} |")
    lines.append("| **mean** | | " + " | ".join(f"{np.mean(list(columns[c].values())):.2f}" for c in columns) + " |")
    table = "\n".join(lines)
    print(f"precision@20, steady playlists, {path.name}; halves from seed {args.seed}")
    print(table)
    splits_table = ""
    if args.splits > 0:
        spread = split_halves(records, labels, moods, args.splits, args.seed)
        splits_table = "\n".join([
            f"| mood (label) | mean over {2 * args.splits} halves | 10th percentile | min |",
            "|---|---:|---:|---:|",
            *(f"| {slug} ({label}) | {np.mean(spread[slug]):.2f} | {np.percentile(spread[slug], 10):.2f} | "
              f"{np.min(spread[slug]):.2f} |" for label, slug in LABEL_TO_MOOD.items()),
            f"| **mean** | {np.mean([np.mean(v) for v in spread.values()]):.2f} | | |",
        ])
        print(f"\n{args.splits} random split-halves (seed {args.seed}), each half a catalogue on its own")
        print(splits_table)
    if args.write_docs:
        write_docs(table, columns, splits_table, args.splits, listener=listener, model=model_table(model),
                   folds=args.folds, anchors=anchors, repeats=args.repeats)
    return 0


def split_halves(records: list[dict], labels: np.ndarray, moods: dict, splits: int, seed: int) -> dict[str, list[float]]:
    """Precision@20 per mood on both halves of ``splits`` random split-halves (2 * splits values each)."""
    rng = np.random.default_rng(seed + 1)  # not the seed of the two halves shown above
    out: dict[str, list[float]] = {slug: [] for slug in LABEL_TO_MOOD.values()}
    for _ in range(splits):
        order = rng.permutation(len(records))
        for half in (np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2 :])):
            for slug, value in precision_table([records[j] for j in half], labels[half], moods).items():
                out[slug].append(value)
    return out


def write_docs(table: str, columns: dict, splits_table: str = "", splits: int = 0, *, listener: str = "",
               model: str = "", folds: int = 5, anchors: str = "", repeats: int = 5) -> None:
    worst = min((v, slug, col) for col, vals in columns.items() for slug, v in vals.items())
    text = DOC_TEMPLATE.format(table=table, worst=f"{worst[0]:.2f} ({worst[1]}, {worst[2]})",
                               splits_table=splits_table, splits=splits, listener=listener, model=model,
                               folds=folds, anchors=anchors, repeats=repeats)
    (REPO / "docs" / "curation-quality.md").write_text(text, encoding="utf-8")
    print("wrote docs/curation-quality.md")


DOC_TEMPLATE = """# Curation quality

Command (from the repository root; the data sets are read from `../shared/data`, never copied here):

    python -m bench.curation_quality --splits {splits} --write-docs [--anchor-cache DIR]

(`--anchor-cache DIR` keeps the anchors' out-of-fold figures between runs: their random forests
take most of the time. From a worktree, pass `--labelled` and `--listener` with the data's paths.)

It prints, and writes into this file, every table below. Two data sets, two questions:

* **Listener-rated** (`moods-va-dev.csv`, 1,147 tracks, listener valence/arousal from Last.fm tags):
  does each mood land where *listeners* place it, and do arcs move listeners the promised way?
* **Labelled** (`moods-labelled-dev.csv`, 344 tracks labelled Calm/Energetic/Happy/Sad): does each
  mood pick the tracks people call by its name (precision@20)?

## Against learned anchors, on unseen artists (issue 19)

Each set is cut in two halves by artist, {repeats} times over (`bench/versus_anchors.py`); every
figure is the mean over the held-out halves. On each split the anchors (`bench/anchors.py`: a
logistic regression with scikit-learn's defaults and `max_iter=2000` on standardised features, and a
random forest of 400 trees, `min_samples_leaf=5`, `random_state=0`; the 13 features of issue 19 the
set has) are fitted on the training half and their top 20 by probability on the held-out half are
scored. Curator's moods are refitted without the held-out half: each learned term is fitted on the
training half (plus the whole of the other set, when it labels the mood too, as shipped), its penalty
chosen by artist-grouped cross-validation inside those rows; the listener model behind
`listener_pull` is refitted on the training half too. Then each mood curates a steady 20-track
playlist (seed 1; 2 per artist on the listener set, as listeners get; a generous cap on the labelled
set) from the held-out half alone. Halves are half the size of the data the issue's figures were
fitted on, so every column here, anchors included, is a harder test than the issue's unseen halves.

{anchors}

Arcs: 20 and 50 tracks from the held-out half; ρ is Spearman's correlation of the picks' listener
valence with their position; "last fifth" is the share of the arc's last 20% inside the target
mood's listener region, beside a steady playlist of the target.

The learned terms themselves (`learned:` in `config/moods.yaml`, `curator/engine/learned.py`) are
class-balanced logistic regressions on standardised features, penalty 0.1 / 1 / 10 / 100 by
5-fold artist-grouped cross-validation, fitted on every set that labels the mood (uplifted on the
listener set alone) by `python -m bench.ship_learned`; `flask --app curator moods calibrate CSV...`
does the same for a database. The engine reads each as a squared distance to the model's favourite
corner of the feature box, blended with the curated targets by the mood's `learned.weight`, so the
scoring kernel is unchanged.

What moved for issue 19, each choice judged on the table above (single-mood differences of about
±0.03 between variants are within split-to-split noise):

- **Every mood has a learned term.** First pass (4 December; the second pass below raised focused's
  to 1 and uplifted's to 0.5): weights 0.5 (anxious, melancholic, tired, calm, energised),
  0.75 (angry, focused: the targets alone missed what listeners call them) and 0.25 (uplifted: at
  0.5 its higher-energy lean put picks at the energy cap, and a "gentler" nudge, which lowers the
  cap, then replaced over half the playlist). Shared moods are fitted on both sets; uplifted on the
  listener set alone (pooled with Happy it lost about 0.06 of listener hits and gained no labels).
- **Honest targets.** Calm keeps its targets but loses the hard ranges that shut out what listeners
  call calm (acousticness at least 0.3, loudness at most -8 dB; energy's ceiling 0.5 -> 0.7): its
  listener hits went from about 0.12 to 0.14-0.17 and the anxious -> calm valence ρ from about
  +0.03 to +0.3, labelled Calm precision unchanged. Focused loses its instrumentalness floor (0.3),
  speechiness and liveness ceilings: in this pop-heavy set they left a handful of tracks (0.65 ->
  0.82). Energised keeps its ranges; its learned term (both sets agree: higher energy, louder)
  took it from 0.68 to 0.76 on listeners with labelled precision held.
- **How the engine reads a learned term** (`curator/engine/learned.py`): as a squared distance to
  the model's favourite corner of the feature box, weighted so its gradient at the examples' mean is
  the model's. Poles nearer the data (the mean plus 1-3 SDs) did worse on both sets.
- **Long arcs**: past 40 tracks an arc arrives at 80% and holds the target (`curator/engine/arc.py`),
  and the held tail is chosen first, as a steady playlist of the target of its own, then the approach
  (`sequencing.select(tail_first=)`): before, the approach's last places took the target's nearest
  tracks and the tail got what was left (anxious -> calm, 50 tracks: last fifth in calm's region
  0.11, a steady calm playlist 0.14; now about 0.2).
- **A steady playlist takes its mood's nearest tracks**, then orders them (`sequencing.select(steady=)`):
  the tempo rule between neighbours used to make a steady playlist pass over near tracks for farther
  ones; now it shapes the order only (each next track within the tempo jump of the last where one is).
- **Second pass (5 December)**, judged on other artist splits than the table's ('split 5..8' and
  '11..16', means over 20 held-out halves; the table above was run once, at the end): focused's
  learned weight 0.75 -> 1 and uplifted's 0.25 -> 0.5 (listener hits +0.03 each, labelled Happy
  unchanged); energised asks for a little voice (speechiness 0.1, weight 0.4: listeners' arousal
  rises with it and its learned term leans the same way; +0.015 on listeners, +0.01 on labels).
  Tried and dropped (within noise or worse): other learned weights for anxious (0.75 raised its hits
  but lowered the anxious -> calm ρ), calm and tired; fixed penalties instead of the cross-validated
  one; calm or energised learned from one set alone (each lost 0.1-0.15 of labelled precision);
  energised with a listener pull; arriving at 60% instead of 80%.

The older tables below keep their own protocol (5 artist folds for the listener set, split-halves
for the labelled set). Their learned terms are the shipped ones, fitted on all of both sets, so
since issue 19 their "out of fold" columns are in-sample for the learned term: quote the table above.

## The listener model

Listeners do not hear Spotify's `valence` and `energy` the way the hand-set moods assumed: the quiet
acoustic tracks "calm" picked are ones listeners tag as sad, and mid-energy "anxious" picks are not
tense to them. So Curator learns two linear estimates per track, *listener valence* and *listener
arousal*, from the audio features (ridge regression on the 0..1 feature scale, outputs in SD units,
penalty chosen by {folds}-fold cross-validation over artists; `curator/engine/listener.py`, shipped
coefficients in `SHIPPED_MODEL`, refitted and compared by `tests/engine/test_listener.py`):

{model}

The estimates are coarse (the tags themselves are noisy), so they steer rather than decide. Each mood
has a `listener_pull` (0..1, shown in the editor as "Lean toward where listeners place this mood"): the
engine adds a linear preference for the direction that moves listener valence/arousal from the centre
of the circle toward the mood's circumplex point. A linear term added to the weighted squared distance
is the same as moving the targets, so the scoring kernel is unchanged and costs nothing extra: the
mood's targets move a little (only on features it weighs, kept in range) before the arc is built.

## Listener regions (out of fold)

For each of {folds} folds (split by artist, so an artist's songs are never on both sides) the listener
model is refitted on the other folds, the held-out fold (~230 tracks) is the catalogue, and each mood
curates a steady 20-track playlist with default options (2 per artist, seed 0). A pick *hits* when its
listener rating is inside the mood's region. "High"/"low" mean above/below the **median** of the whole
listener-rated set; angry uses its lowest third of valence and focused its lower two-thirds of arousal.
"random" is the region's share of the catalogue (what random picks would hit), "naive rule" the share
of tracks that a one-line rule selects that fall in the region, and "linear ceiling" the hit rate of
the top 20 held-out tracks ranked by a logistic regression fitted on the region labels of the other
folds (not a mood: how far any linear use of these features goes on this data). In-sample (model fitted on all 1,147,
the whole set as catalogue) is shown beside, not instead.

{listener}

Arcs: the same folds, 20 tracks from the first mood to the second; ρ is Spearman's correlation of the
picks' listener valence (arousal) with their position. Positive valence ρ means listeners would hear
the playlist getting more positive as it goes.

## Labelled set: precision@20

For each labelled mood the engine curates a *steady* playlist of 20 tracks (mood -> mood, default
options except a generous artist cap) from a catalogue made of the labelled set, and we count the
share of picks whose label matches. Labels map Calm -> calm, Energetic -> energised, Happy -> uplifted,
Sad -> melancholic. The CSV has no `mode` column, so mode targets play no part here. "half 1/2" are two
random halves (seed 7), each used as a catalogue on its own. Nothing is fitted to this set (the listener
model is fitted on the other set), but the moods were chosen by people who looked at it, so the "all"
column is in-sample; the split-halves below are the estimate to quote.

{table}

Lowest cell: {worst}.

{splits} random split-halves: each half (172 tracks, ~35-50 per label) is a catalogue on its own. A
half is a harder test than the unseen half (half as many tracks of each label to fill 20 places):

{splits_table}

## Calibration from examples (the mood editor's "Calibrate")

`python -m bench.calibration` (numbers below measured while other work loaded the machine; timings
are noisy, the precision figures are not). The proposal is fitted on *all* the examples given; the
logistic regression behind its discriminative recipes has its ridge penalty chosen by 5-fold
stratified cross-validation (0.1 / 1 / 10 / 100, lowest held-out log-loss); recipes are compared on
precision@20 over all examples *and* over split-halves (each half proposed from the other half alone,
with that half left out of the catalogue). The page shows both figures, and "Accept" is the primary
button only when the proposal finds strictly more examples than the current version.

| mood | examples (tag) | shipped P@20 | proposal P@20 | shipped, unseen halves | proposal, unseen halves |
| --- | --- | --- | --- | --- | --- |
| calm | 98 (mood:calm) | 0.95 | 1.00 | 0.90 | 1.00 |
| melancholic | 99 (mood:sad) | 0.95 | 1.00 | 0.93 | 0.95 |
| uplifted | 70 (mood:happy) | 0.95 | 0.95 | 0.70 | 0.75 |
| energised | 77 (mood:energetic) | 0.85 | 0.85 | 0.62 | 0.62 |

Cost is linear in the catalogue (issue 13.4): all candidate moods are scored against every row in
one blocked pass and each playlist is then chosen among its candidate's 160 nearest rows (the same
picks as over the whole catalogue; tests/engine/test_calibration.py checks it). `python -m
bench.calibration --scale 100000,1000000`, 200 examples: 2.0 s and 11.1 s (1.1-2.0 s per 100k
tracks, under load); the previous code measured 4.4 s and 17.3 s in the same conditions.

## What moved and why (issue 10)

Judged on the out-of-fold listener figures and the split-half labelled figures together; each change is
a round number that music psychology already suggests, kept only if neither set got worse beyond noise
(single-mood differences of ±0.02 and arc ρ of ±0.1 between variants are within fold-to-fold noise).

- **anxious** is now *tense*: energy 0.85 (at least 0.6), loud (-5 dB), dark (valence 0.2, at most
  0.45), less danceable (0.4), not acoustic (at most 0.3), minor, pull 1. Out of fold it went from
  0.11 (1.3× random) to about 0.18 (2.1×); listeners tag mid-energy songs as neither tense nor calm.
- **calm** moved its circumplex point to Russell's calm (valence 0.8, arousal 0.2), asks for a major
  key (weight 0.5) and a little more Spotify valence (0.35, weight 0.4), pull 1. Its labelled
  precision stays 0.95. Listener-rated calm stays near random (~0.12 against 0.09): in this pop-heavy
  set the tracks listeners tag calm *and* positive are mid-energy pop with almost the same audio
  features as the rest (medians: energy 0.60 vs 0.67, acousticness 0.25 vs 0.13); neither a linear
  model nor nearest neighbours find them (best out-of-fold ~0.13-0.15). We did not trade the labelled
  Calm precision (0.95 -> 0.35-0.5 when calm asks for pop-level valence) for that.
- **melancholic, uplifted** pull 1, **tired, angry** pull 0.5: the melancholic -> uplifted arc's
  listener valence ρ rose from +0.23 to about +0.43 out of fold; anxious -> calm from -0.02 to about
  +0.1 (arousal falls). **energised, focused**: no pull (focused sits at the centre of the circle;
  energised lost labelled precision with it, 0.85 -> 0.70).
- **How strong a pull is** (`LEAN` in curator/engine/listener.py): with `--lean 0.25 / 0.5 / 1 / 2
  --splits 10` the out-of-fold listener mean was 0.49 / 0.48 / 0.51 / 0.51 and the labelled split-half
  mean 0.88 / 0.87 / 0.86 / 0.73 (melancholic collapses at 2). The listener gains are within noise
  and the labelled losses are not, so the shipped strength stays 0.5.

Against the aims of issue 10: labelled precision@20 holds (mean 0.93 on all 344, split-half mean
~0.87; energised and uplifted stay near 0.8 on halves, as before). Every mood beats random out of
fold, but the listener-region aims (mean ≥ 0.70, every mood ≥ 2× random, anxious -> calm ρ ≥ +0.3)
are **not met**, and with the median definitions some cannot be: a region holding half the tracks
(tired, uplifted, energised) or two-thirds (focused) caps "2× random" at 1.0 or above. The "linear
ceiling" column shows how far the features go: its mean is far below 0.70 too, and calm's is at random
level. The shipped moods reach most of the ceiling for melancholic, tired and focused; the gap to 0.70
is in the data (audio features correlate r ≈ 0.3-0.4 with listener ratings), not in the mood
definitions. A per-mood lean fitted on the region labels themselves would close part of the remaining
gap for anxious, uplifted and energised, but it would be fitted to the very set we judge on; we kept
the one listener model and literature-led targets instead.
"""

if __name__ == "__main__":
    sys.exit(main())
