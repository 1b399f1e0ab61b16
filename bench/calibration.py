"""Calibration from examples on the labelled dev set, and the mood editor preview's latency.

    python -m bench.calibration [path/to/moods-labelled-dev.csv]

For each labelled mood: precision at 20 of the shipped definition and of the proposal that
`curator.moods.examples` makes from the tracks carrying that label (the editor's numbers).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

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


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_CSV
    if not path.exists():
        print(f"labelled dev set not found at {path}; pass its path", file=sys.stderr)
        return 1
    catalogue = load(path)
    moods = {m.slug: m for m in load_moods_yaml((ROOT / "config" / "moods.yaml").read_text())}
    print("| mood | examples (tag) | shipped P@20 | proposal P@20 |")
    print("| --- | --- | --- | --- |")
    for slug, tag in PAIRS:
        result = calibrate(catalogue, moods[slug], tag_mask(catalogue, tag))
        print(f"| {slug} | {result.examples} ({tag}) | {result.precision_current:.2f} | {result.precision_proposed:.2f} |")
    mask = tag_mask(catalogue, "mood:calm")
    print(f"\ncalibrate (proposal + precision of both versions): {timed(lambda: calibrate(catalogue, moods['calm'], mask)):.1f} ms")
    print(f"editor preview (12 tracks, chart, label mix): "
          f"{timed(lambda: build_preview(catalogue, moods['calm'], moods['anxious'])):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
