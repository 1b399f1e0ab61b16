"""Precision@20 of the shipped moods on the labelled dev set (plus two random halves).

    python -m bench.curation_quality [path/to/moods-labelled-dev.csv] [--splits 50] [--write-docs]

For each labelled mood we curate a steady 20-track playlist (mood -> mood) over the whole set
and report the share of picks whose label matches. The halves check the moods are not tuned to
quirks of particular tracks: each half is a catalogue on its own. ``--splits N`` repeats that
over N random split-halves (2N half-catalogues) and reports mean, minimum and 10th percentile,
the yardstick for how a mood will do on the other, unseen half of the public set.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from curator.engine import Catalogue, load_moods_yaml
from curator.engine.calibration import precision_at_k

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared" / "data" / "moods-labelled-dev.csv"
LABEL_TO_MOOD = {"Calm": "calm", "Energetic": "energised", "Happy": "uplifted", "Sad": "melancholic"}
FEATURE_COLUMNS = ("valence", "energy", "danceability", "acousticness", "instrumentalness",
                   "speechiness", "liveness", "loudness", "tempo")


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


def precision_table(records: list[dict], labels: np.ndarray, moods: dict, k: int = 20) -> dict[str, float]:
    catalogue = Catalogue.from_records(records)
    return {
        slug: precision_at_k(catalogue, moods[slug], labels == label, k=k)
        for label, slug in LABEL_TO_MOOD.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=str(DEFAULT_CSV))
    parser.add_argument("--moods", default=str(REPO / "config" / "moods.yaml"))
    parser.add_argument("--seed", type=int, default=7, help="seed for the random halves")
    parser.add_argument("--splits", type=int, default=50, help="random split-halves for the spread (0 = none)")
    parser.add_argument("--write-docs", action="store_true", help="write docs/curation-quality.md")
    args = parser.parse_args()
    path = Path(args.csv)
    if not path.is_file():
        print(f"Labelled data not found at {path}. Pass the CSV path as the first argument.", file=sys.stderr)
        return 2
    moods = {m.slug: m for m in load_moods_yaml(Path(args.moods).read_text(encoding="utf-8"))}
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
        ])
        print(f"\n{args.splits} random split-halves (seed {args.seed}), each half a catalogue on its own")
        print(splits_table)
    if args.write_docs:
        write_docs(table, columns, splits_table, args.splits)
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


def write_docs(table: str, columns: dict, splits_table: str = "", splits: int = 0) -> None:
    worst = min((v, slug, col) for col, vals in columns.items() for slug, v in vals.items())
    text = DOC_TEMPLATE.format(table=table, worst=f"{worst[0]:.2f} ({worst[1]}, {worst[2]})",
                               splits_table=splits_table, splits=splits)
    (REPO / "docs" / "curation-quality.md").write_text(text, encoding="utf-8")
    print("wrote docs/curation-quality.md")


DOC_TEMPLATE = """# Curation quality

Command (from the repository root):

    python -m bench.curation_quality ../shared/data/moods-labelled-dev.csv --splits {splits} --write-docs

For each labelled mood the engine curates a *steady* playlist of 20 tracks (mood -> mood, default
options except a generous artist cap) from a catalogue made of the labelled set, and we count the
share of picks whose label matches (precision@20). Labels map Calm -> calm, Energetic -> energised,
Happy -> uplifted, Sad -> melancholic. The CSV has no `mode` column, so mode targets play no part
here (every track's mode is unknown, which neither helps nor hurts it). "half 1/2" are two random
halves (seed 7), each used as a catalogue on its own.

{table}

Lowest cell: {worst}.

The dev set is half of a public set; the other half is unseen. The yardstick used while tuning
is therefore not the "all" column but {splits} random split-halves: each half (172 tracks, ~35-50
per label) is a catalogue on its own, and we look at the mean and the bad tail over all of them.
A half is likely a harder test than the unseen half (half as many tracks of each label to fill
the same 20 places), so these are conservative:

{splits_table}

Against the aim of > 0.9 per mood: calm and melancholic meet it on the dev set and on average
over the halves. Uplifted reaches it on the dev set (0.95), energised does not (0.85), and
**neither** does over the halves (means ~0.78-0.79, 1 in 10 halves at 0.70 or below): expect
roughly 0.8-0.85 on the unseen half for these two, not 0.9. Their labelled tracks overlap heavily: many "Energetic" tracks are bright and danceable,
many "Happy" ones loud. Further tuning on this set stopped paying off on the halves (variants
that raised the dev number did not raise the split-half mean), which is where overfitting
starts; we did not chase the dev number further.

How the moods were set: targets come from music-psychology findings first (relaxing music slow,
quiet, acoustic; sad music low valence, minor, slower; happy music high valence, major,
danceable; energetic music loud, fast, energetic) with round numbers and wide hard ranges; the
dev set was used to check direction and rough scale (e.g. Spotify's valence is low for most
quiet instrumental music, so calm asks only gently for valence). The last change separated the
two high-arousal moods along what the labelled data and the literature agree on, tried as a
handful of round-number variants judged on the split-half mean: happy tracks are brighter
(valence median ~0.63 vs ~0.45) and more danceable (~0.63 vs ~0.53) but less intense (energy
~0.74 vs ~0.89, loudness ~-7 vs ~-4 dB) than energetic ones. So `uplifted` now asks for valence
0.8, caps energy at 0.85 and wants danceability of at least 0.45; `energised` wants at least
-8 dB and keeps valence above 0.2 (target 0.5), so it stays energising and positive rather than
dark or aggressive. Split-half means moved from 0.74 to 0.78 (uplifted) and 0.76 to 0.79
(energised); calm and melancholic are unchanged.

A second attempt at uplifted and energised (moods left unchanged). We compared the labelled
groups feature by feature and fitted a logistic regression on standardised features. Energetic
tracks differ from Happy ones mostly in being more intense: higher energy, louder, less acoustic,
faster, and somewhat less bright and less danceable. Happy tracks sit in the *middle* of most
features, so a linear "more is better" ranking does worse for them, about 0.70 when fitted on one
half and tested on the other. Judged by the mean over the 100 halves above:

- Single round-number changes, each plausible from the literature, moved a mood's mean by 0.00 to
  0.02. For uplifted these were valence target 0.9-1.0, tempo weight 0.6, a -4 dB loudness
  ceiling and an instrumentalness target of 0. For energised they were energy target 0.95/1.0
  with more weight, loudness floor -7 dB, acousticness max 0.2 and tempo 140. Lifting uplifted's
  energy cap made it worse (0.74-0.76).
- The best plausible combinations reached 0.80 (uplifted, 10th percentile 0.65) and 0.82
  (energised, 10th percentile 0.74): +0.02 to +0.03 in-sample.
- A free search over 300 round-number variants per mood reached ~0.85 on the halves. But once
  you tune on them, the halves are no longer out of sample (they are made of the same 344
  tracks), so we used a nested check: tune on one half, measure on the other, repeated. With the
  free search, the other half got *worse*: -0.02 (energised) and -0.05 (uplifted) against the
  shipped moods. Choosing among the handful of plausible combinations gained only +0.01
  (energised) and +0.02 (uplifted), less than the 0.03 we required before changing a mood.

So the shipped uplifted and energised stay as they are. The remaining errors are mostly tracks
whose features fit the other label: loud, high-energy "Happy" tracks picked for energised, and
bright, danceable "Energetic" or mid-valence "Sad" tracks picked for uplifted. These audio
features do not separate them. Expect about 0.8 for both moods on the unseen half, not > 0.9.
"""

if __name__ == "__main__":
    sys.exit(main())
