"""Precision@20 of the shipped moods on the labelled dev set (plus two random halves).

    python -m bench.curation_quality [path/to/moods-labelled-dev.csv] [--write-docs]

For each labelled mood we curate a steady 20-track playlist (mood -> mood) over the whole set
and report the share of picks whose label matches. The halves check the moods are not tuned to
quirks of particular tracks: each half is a catalogue on its own.
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
    if args.write_docs:
        write_docs(table, columns)
    return 0


def write_docs(table: str, columns: dict) -> None:
    worst = min((v, slug, col) for col, vals in columns.items() for slug, v in vals.items())
    text = DOC_TEMPLATE.format(table=table, worst=f"{worst[0]:.2f} ({worst[1]}, {worst[2]})")
    (REPO / "docs" / "curation-quality.md").write_text(text, encoding="utf-8")
    print("wrote docs/curation-quality.md")


DOC_TEMPLATE = """# Curation quality

Command (from the repository root):

    python -m bench.curation_quality ../shared/data/moods-labelled-dev.csv --write-docs

For each labelled mood the engine curates a *steady* playlist of 20 tracks (mood -> mood, default
options except a generous artist cap) from a catalogue made of the labelled set, and we count the
share of picks whose label matches (precision@20). Labels map Calm -> calm, Energetic -> energised,
Happy -> uplifted, Sad -> melancholic. The CSV has no `mode` column, so mode targets play no part
here. "half 1/2" are two random halves (seed 7), each used as a catalogue on its own, to check
the moods are not tuned to particular tracks.

{table}

Lowest cell: {worst}. Against the aim of > 0.9 per mood: calm and melancholic meet it;
energised and uplifted fall short (their labelled tracks overlap heavily in energy, loudness and
tempo, and the halves leave only ~35-40 tracks of each label to fill 20 places). A wider check
over 10 further random split-halves during tuning gave means of about 0.76 (energised) and 0.73
(uplifted), with single halves as low as 0.60 and 0.45.

How the moods were set: targets come from music-psychology findings first (relaxing music slow,
quiet, acoustic; sad music low valence, minor, slower; happy music high valence, major,
danceable; energetic music loud, fast, energetic) with round numbers and wide hard ranges; the
dev set was used only to check direction and rough scale (e.g. Spotify's valence is low for most
quiet instrumental music, so calm asks only gently for valence). The held-out half of the same
public set has not been seen; expect somewhat lower numbers there, most likely for
uplifted/energised, whose labelled tracks overlap heavily in energy and loudness.
"""

if __name__ == "__main__":
    sys.exit(main())
