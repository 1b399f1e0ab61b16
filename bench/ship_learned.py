"""Fit the shipped moods' learned terms on ../shared/data and write them into config/moods.yaml.

    python -m bench.ship_learned [--labelled CSV] [--listener CSV] [--dry-run]

What `flask --app curator moods calibrate` does for a database, for the shipped file: each mood
keeps the weight written in the file (its curator's choice) and gets coefficients fitted on every
set that labels it (SOURCES narrows a mood to some sets). The file's comments are kept: only the
`learned:` blocks are replaced, each written just before the mood's `features:`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from curator.engine import load_moods_yaml, mood_to_dict
from curator.moods.labelled import fit_mood, read_labelled

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MOODS_FILE = REPO / "config" / "moods.yaml"
# Uplifted learns from listeners alone: pooled with the labelled set's Happy class it lost about
# 0.06 of listener-region hits out of fold and gained nothing on the labels (docs/curation-quality.md).
SOURCES = {"uplifted": ("moods-va-dev.csv",)}


def learned_block(term: dict) -> list[str]:
    lines = ["    learned:  # refit: python -m bench.ship_learned, or flask moods calibrate for a database",
             f"      weight: {term['weight']}", f"      bias: {term['bias']}", "      features:"]
    for name, f in term["features"].items():
        lines.append(f"        {name}: {{coefficient: {f['coefficient']}, mean: {f['mean']}, sd: {f['sd']}}}")
    if term.get("source"):
        lines.append(f"      source: {yaml.safe_dump(term['source'], width=10**6).splitlines()[0]}")
    return lines


def rewrite(text: str, terms: dict[str, dict]) -> str:
    out: list[str] = []
    slug, skipping = None, False
    for line in text.splitlines():
        if skipping:
            if line.startswith("      ") or not line.strip():
                continue
            skipping = False
        if line.startswith("  - slug: "):
            slug = line.split(":", 1)[1].strip()
        if line.startswith("    learned:"):
            skipping = True
            continue
        if line.startswith("    features:") and slug in terms:
            out.extend(learned_block(terms[slug]))
        out.append(line)
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", default=str(DATA / "moods-labelled-dev.csv"))
    parser.add_argument("--listener", default=str(DATA / "moods-va-dev.csv"))
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    paths = [Path(args.labelled), Path(args.listener)]
    for path in paths:
        if not path.is_file():
            print(f"Data not found at {path} (see ../shared/README.md).", file=sys.stderr)
            return 2
    sets = [read_labelled(p.read_text(encoding="utf-8"), p.name) for p in paths]
    text = MOODS_FILE.read_text(encoding="utf-8")
    terms = {}
    for mood in load_moods_yaml(text):
        if mood.learned is None:
            continue
        chosen = [s for s in sets if s.name in SOURCES.get(mood.slug, (s.name,))]
        fit = fit_mood(mood, chosen, weight=mood.learned.weight)
        if fit is not None:
            terms[mood.slug] = mood_to_dict(mood.model_copy(update={"learned": fit.term}))["learned"]
            print(f"{mood.slug}: {fit.term.describe()} (weight {fit.term.weight:g}); {fit.term.source}")
    new = rewrite(text, terms)
    check = {m.slug: m for m in load_moods_yaml(new)}
    assert all(mood_to_dict(check[s])["learned"] == t for s, t in terms.items())
    if not args.dry_run:
        MOODS_FILE.write_text(new, encoding="utf-8")
        print(f"wrote {MOODS_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
