"""Calibration from examples on the labelled dev set, the editor preview's latency, and scaling.

    python -m bench.calibration [path/to/moods-labelled-dev.csv] [--scale 100000,1000000]

For each labelled mood: precision at 20 of the shipped definition and of the proposal that
`curator.moods.examples` makes from the tracks carrying that label (the editor's numbers), on
all the examples (in-sample) and on unseen halves (each half proposed from the other half alone).
``--scale`` times one calibration (200 examples) on synthetic catalogues of the given sizes: the
cost should grow in proportion to the catalogue (issue 13.4).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from bench.curation_quality import load_labelled
from curator.curate.mood_preview import build_preview
from curator.engine import Catalogue, load_moods_yaml
from curator.moods.examples import calibrate, tag_mask

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "moods-labelled-dev.csv"
PAIRS = [("calm", "mood:calm"), ("melancholic", "mood:sad"), ("uplifted", "mood:happy"),
         ("energised", "mood:energetic")]


def load(path: Path) -> Catalogue:
    """The dev set as a catalogue whose tracks carry their label as a `mood:<label>` tag."""
    records, labels = load_labelled(path)
    return Catalogue.from_records({**rec, "tags": [f"mood:{label.strip().lower()}"]} for rec, label in zip(records, labels))


def timed(fn, repeat: int = 50) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1000


def scaling(sizes: list[int]) -> None:
    from tests.engine.synthetic import dense_catalogue

    moods = {m.slug: m for m in load_moods_yaml((ROOT / "config" / "moods.yaml").read_text())}
    print("| tracks | calibrate (s) | per 100k tracks (s) |\n| ---: | ---: | ---: |")
    for n in sizes:
        catalogue = dense_catalogue(n, seed=1, artists=max(1, n // 10))
        examples = np.zeros(n, dtype=bool)
        examples[np.flatnonzero(catalogue.features[:, 1] < 0.2)[:200]] = True
        calibrate(catalogue, moods["calm"], examples)  # warm the catalogue's cached lookups
        seconds = timed(lambda: calibrate(catalogue, moods["calm"], examples), repeat=3) / 1000
        print(f"| {n:,} | {seconds:.2f} | {seconds / n * 100_000:.2f} |")


def main(argv: list[str]) -> int:
    if "--scale" in argv:
        at = argv.index("--scale")
        sizes = [int(x) for x in (argv[at + 1] if at + 1 < len(argv) else "100000,1000000").split(",")]
        argv = argv[:at] + argv[at + 2:]
        scaling(sizes)
        return 0
    path = Path(argv[0]) if argv else DEFAULT_CSV
    if not path.exists():
        print(f"labelled dev set not found at {path}; pass its path", file=sys.stderr)
        return 1
    catalogue = load(path)
    moods = {m.slug: m for m in load_moods_yaml((ROOT / "config" / "moods.yaml").read_text())}
    print("| mood | examples (tag) | shipped P@20 | proposal P@20 | shipped, unseen halves | proposal, unseen halves |")
    print("| --- | --- | --- | --- | --- | --- |")
    for slug, tag in PAIRS:
        result = calibrate(catalogue, moods[slug], tag_mask(catalogue, tag))
        print(f"| {slug} | {result.examples} ({tag}) | {result.precision_current:.2f} | {result.precision_proposed:.2f} | "
              f"{result.held_out_current:.2f} | {result.held_out_proposed:.2f} |")
    mask = tag_mask(catalogue, "mood:calm")
    print(f"\ncalibrate (proposal + precision of both versions): {timed(lambda: calibrate(catalogue, moods['calm'], mask)):.1f} ms")
    print(f"editor preview (12 tracks, chart, label mix): "
          f"{timed(lambda: build_preview(catalogue, moods['calm'], moods['anxious'])):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
