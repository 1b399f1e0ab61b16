"""Issue 21's acceptance for the engine's taste: simulated listeners over artist clusters.

    python -m bench.taste [--tracks 120000] [--listeners 40] [--previews 10000] [--big 1000000] [--quick]

Four figures, each printed with the load average beside it (the machine is shared):

1. **Familiar share.** A catalogue of ``--tracks`` rows resampled from ../shared/data (jittered), whose
   artists sit in *clusters* (a cell of valence x energy x acousticness, ten artists per cell: a
   "genre"). A simulated listener likes a few clusters: their library is some of those artists'
   tracks (known tracks) and the artists themselves (known artists). For familiar = 0/50/100 the
   share of each 20-track playlist that comes from known artists or tracks, over every listener and
   the moods pairs, and separately over the (listener, arc) pairs whose library holds enough tracks
   near the arc (at least three known rows within the engine's "close" distance of every position).
2. **Mood fit.** On the listener-rated set (../shared/data/moods-va-dev.csv, 1,147 tracks) with
   simulated libraries (random halves of its artists), the share of each mood's steady playlist
   inside the mood's listener region at familiar = 50 and 100, against familiar = 0.
3. **Never again.** ``--previews`` curate() calls by simulated listeners who swap a track out after
   every preview (four in five a new preview with another seed, one in five a swap of one place of
   their last playlist, whose track is then never again): how many playlists held a track the
   listener had swapped out before.
4. **Engine time** at ``--big`` rows: the same mood pair asked for again (the pre-selection
   remembered), with and without a listener's taste (familiar 50, 300 known artists, 200 tracks
   never again, 5 artists avoided), alternated, p50 and p95; and the first call for a new taste.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from curator.engine import Catalogue, CurateOptions, Edit, Length, curate, load_moods_yaml
from curator.engine.arc import build_arc
from curator.engine.features import FEATURES
from curator.engine.scoring import exact_distances
from curator.engine.taste import Taste

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
PAIRS = (("anxious", "calm"), ("melancholic", "uplifted"), ("tired", "energised"), ("angry", "focused"),
         ("calm", "calm"))
LENGTH = 20
CLOSE = 0.25  # the engine's THIN_DISTANCE: "close to a mood"
ARTISTS_PER_CELL = 10


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def moods() -> dict:
    return {m.slug: m for m in load_moods_yaml((REPO / "config" / "moods.yaml").read_text(encoding="utf-8"))}


def clustered_catalogue(n: int, seed: int = 0) -> tuple[Catalogue, np.ndarray]:
    """``n`` rows resampled from the labelled dev set, artists in clusters; (catalogue, cell per artist)."""
    from bench.engine import DEFAULT_CSV, load_feature_rows, synthetic_catalogue

    feats, durations = load_feature_rows(DEFAULT_CSV)
    base = synthetic_catalogue(n, feats, durations, seed=seed)
    f = base.features
    v, e, a = (np.clip(f[:, FEATURES.index(x)], 0, 0.999) for x in ("valence", "energy", "acousticness"))
    cell = (v * 8).astype(np.int64) * 48 + (e * 8).astype(np.int64) * 6 + (a * 6).astype(np.int64)
    rng = np.random.default_rng(seed + 1)
    artist = cell * ARTISTS_PER_CELL + rng.integers(0, ARTISTS_PER_CELL, n)
    names = [(f"Artist {int(x)}",) for x in artist.tolist()]
    catalogue = Catalogue.from_arrays(base.features, primary_artist=artist.astype(np.int32), artists=names,
                                      durations_ms=base.durations_ms, explicit=base.explicit, key=base.key,
                                      recording_keys=np.arange(n, dtype=np.int64))
    cells = np.repeat(np.arange(8 * 48), ARTISTS_PER_CELL)
    return catalogue, cells


def listener(catalogue: Catalogue, rng: np.random.Generator, n_clusters: int = 12,
             familiar: int = 0) -> tuple[Taste, np.ndarray]:
    """A listener who likes ``n_clusters`` clusters: 60% of their artists known, a third of those
    artists' tracks in the library. (taste, known rows)."""
    artist = catalogue.primary_artist.astype(np.int64)
    present = np.unique(artist // ARTISTS_PER_CELL)
    liked = rng.choice(present, size=min(n_clusters, len(present)), replace=False)
    artists = np.unique(artist[np.isin(artist // ARTISTS_PER_CELL, liked)])
    known_artists = artists[rng.random(len(artists)) < 0.6]
    rows = np.flatnonzero(np.isin(artist, known_artists))
    library = rows[rng.random(len(rows)) < 1 / 3]
    taste = Taste(familiar=familiar, known_artists=frozenset(f"Artist {a}" for a in known_artists.tolist()),
                  known_ids=frozenset(catalogue.ids.take(library)))
    return taste, rows


def enough_near(catalogue: Catalogue, known_rows: np.ndarray, start, target) -> bool:
    if not len(known_rows):
        return False
    d = exact_distances(catalogue.features[known_rows], build_arc(start, target, LENGTH))
    return bool(((d <= CLOSE).sum(axis=0) >= 3).all())


def familiar_shares(catalogue: Catalogue, listeners: int, seed: int) -> dict:
    ms = moods()
    rng = np.random.default_rng(seed)
    out = {f: {"all": [], "enough": []} for f in (0, 50, 100)}
    for i in range(listeners):
        taste, known_rows = listener(catalogue, rng)
        known = np.zeros(len(catalogue), dtype=bool)
        known[known_rows] = True
        for start, target in PAIRS:
            enough = enough_near(catalogue, known_rows, ms[start], ms[target])
            for familiar in out:
                t = Taste(familiar=familiar, known_artists=taste.known_artists, known_ids=taste.known_ids)
                p = curate(catalogue, ms[start], ms[target], Length(tracks=LENGTH), CurateOptions(seed=i, taste=t))
                share = float(known[catalogue.rows_of([x.id for x in p.tracks])].mean())
                out[familiar]["all"].append(share)
                if enough:
                    out[familiar]["enough"].append(share)
    return out


def mood_fit(seed: int, libraries: int) -> dict:
    from bench.curation_quality import DEFAULT_LISTENER_CSV, MOODS, load_listener_rated, regions

    data = load_listener_rated(DEFAULT_LISTENER_CSV)
    catalogue = Catalogue.from_records(data.records)
    region = regions(data.valence, data.arousal)
    ms = moods()
    artists = sorted(set(data.artists))
    rng = np.random.default_rng(seed)
    hits = {f: [] for f in (0, 50, 100)}
    for _ in range(libraries):
        known = frozenset(a for a in artists if rng.random() < 0.5)
        for familiar in hits:
            t = Taste(familiar=familiar, known_artists=known)
            per = []
            for slug in MOODS:
                p = curate(catalogue, ms[slug], ms[slug], Length(tracks=LENGTH), CurateOptions(seed=0, taste=t))
                rows = catalogue.rows_of([x.id for x in p.tracks])
                per.append(float(region[slug][rows].mean()))
            hits[familiar].append(float(np.mean(per)))
    return {f: float(np.mean(v)) for f, v in hits.items()}


def never_again(catalogue: Catalogue, previews: int, seed: int) -> tuple[int, int, int]:
    """(violations, previews made, swaps made)."""
    ms = moods()
    rng = np.random.default_rng(seed)
    violations = made = swaps = 0
    listeners = [(listener(catalogue, rng, familiar=int(rng.choice([0, 50, 100])))[0], set()) for _ in range(50)]
    last: list = [None] * len(listeners)
    while made < previews:
        k = int(rng.integers(len(listeners)))
        base, never = listeners[k]
        start, target = PAIRS[int(rng.integers(len(PAIRS)))]
        taste = Taste(familiar=base.familiar, known_artists=base.known_artists, known_ids=base.known_ids,
                      never_ids=frozenset(never))
        previous = last[k]
        if previous is not None and rng.random() < 0.2:
            place = int(rng.integers(len(previous[2])))
            never.add(previous[2][place])  # the swap: that track out, never again
            taste = Taste(familiar=base.familiar, known_artists=base.known_artists, known_ids=base.known_ids,
                          never_ids=frozenset(never))
            p = curate(catalogue, ms[previous[0]], ms[previous[1]], Length(tracks=LENGTH),
                       CurateOptions(seed=int(rng.integers(2**31)), taste=taste),
                       edit=Edit(previous=previous[2], replace=place))
            swaps += 1
        else:
            p = curate(catalogue, ms[start], ms[target], Length(tracks=LENGTH),
                       CurateOptions(seed=int(rng.integers(2**31)), taste=taste))
            previous = None
        made += 1
        ids = [x.id for x in p.tracks]
        if never & set(ids):
            violations += 1
        if previous is None:
            last[k] = (start, target, ids)
        else:
            last[k] = (previous[0], previous[1], ids)
    return violations, made, swaps


def engine_time(n: int, repeats: int, seed: int) -> dict:
    catalogue, _ = clustered_catalogue(n, seed)
    catalogue.warm()
    ms = moods()
    rng = np.random.default_rng(seed)
    start, target = ms["anxious"], ms["calm"]
    artists = rng.choice(np.unique(catalogue.primary_artist), 305, replace=False)
    taste = Taste(familiar=50, known_artists=frozenset(f"Artist {a}" for a in artists[:300].tolist()),
                  never_ids=frozenset(catalogue.ids.take(rng.choice(n, 200, replace=False))),
                  avoid_artists=frozenset(f"Artist {a}" for a in artists[300:].tolist()))
    t0 = time.perf_counter()
    curate(catalogue, start, target, Length(tracks=LENGTH), CurateOptions(seed=0))  # the pair's scan
    first_plain = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    curate(catalogue, start, target, Length(tracks=LENGTH), CurateOptions(seed=0, taste=taste))
    first_taste = (time.perf_counter() - t0) * 1000  # the artist index and this taste's rows, once
    other = Taste(familiar=50, known_artists=frozenset(f"Artist {a}" for a in artists[:150].tolist()))
    t0 = time.perf_counter()
    curate(catalogue, start, target, Length(tracks=LENGTH), CurateOptions(seed=0, taste=other))
    new_taste = (time.perf_counter() - t0) * 1000  # another listener's first preview (index built)
    plain, tasted = [], []
    for s in range(repeats):
        for options, into in ((CurateOptions(seed=s), plain), (CurateOptions(seed=s, taste=taste), tasted)):
            t0 = time.perf_counter()
            curate(catalogue, start, target, Length(tracks=LENGTH), options)
            into.append((time.perf_counter() - t0) * 1000)
    return {"first_plain": first_plain, "first_taste": first_taste, "new_taste": new_taste,
            "plain": plain, "taste": tasted}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=120_000)
    parser.add_argument("--listeners", type=int, default=40)
    parser.add_argument("--previews", type=int, default=10_000)
    parser.add_argument("--libraries", type=int, default=20)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small sizes, to see that it runs")
    args = parser.parse_args()
    if args.quick:
        args.tracks, args.listeners, args.previews, args.libraries, args.big, args.repeats = 20_000, 4, 300, 2, 100_000, 5

    print(f"bench.taste: {args.tracks:,} tracks, {args.listeners} listeners x {len(PAIRS)} arcs, {LENGTH} tracks; "
          f"{load()}")
    catalogue, _ = clustered_catalogue(args.tracks, args.seed)
    t0 = time.perf_counter()
    shares = familiar_shares(catalogue, args.listeners, args.seed)
    print(f"\n1. Share from known artists and tracks ({time.perf_counter() - t0:.0f} s, {load()})")
    print("| familiar | mean share, all (listener, arc) | playlists | mean share, library near the arc | playlists |")
    print("|---|---|---|---|---|")
    for familiar, got in shares.items():
        enough = got["enough"]
        print(f"| {familiar} | {np.mean(got['all']):.3f} | {len(got['all'])} | "
              f"{np.mean(enough) if enough else float('nan'):.3f} | {len(enough)} |")

    t0 = time.perf_counter()
    fit = mood_fit(args.seed, args.libraries)
    print(f"\n2. Mood fit on the listener-rated set: mean region hit of the eight moods' steady playlists, "
          f"{args.libraries} simulated libraries ({time.perf_counter() - t0:.0f} s, {load()})")
    print("| familiar | region hit | change against familiar = 0 |")
    print("|---|---|---|")
    for familiar, hit in fit.items():
        print(f"| {familiar} | {hit:.3f} | {hit - fit[0]:+.3f} |")

    t0 = time.perf_counter()
    violations, made, swaps = never_again(catalogue, args.previews, args.seed)
    print(f"\n3. Never again: {violations} of {made:,} playlists held a track swapped out before "
          f"({swaps:,} of them swaps of one place; {time.perf_counter() - t0:.0f} s, {load()})")

    t0 = time.perf_counter()
    timing = engine_time(args.big, args.repeats, args.seed)
    p = {k: (np.percentile(timing[k], 50), np.percentile(timing[k], 95)) for k in ("plain", "taste")}
    print(f"\n4. Engine time at {args.big:,} tracks, anxious -> calm, {LENGTH} tracks, the pair remembered, "
          f"{args.repeats} calls each alternated ({time.perf_counter() - t0:.0f} s, {load()})")
    print(f"   no taste: p50 {p['plain'][0]:.1f} ms, p95 {p['plain'][1]:.1f} ms; "
          f"with taste: p50 {p['taste'][0]:.1f} ms, p95 {p['taste'][1]:.1f} ms; "
          f"ratio of p50 {p['taste'][0] / p['plain'][0]:.2f}x")
    print(f"   first calls: the pair's scan {timing['first_plain']:.0f} ms; the first taste (artist index built) "
          f"{timing['first_taste']:.0f} ms; another listener's first preview {timing['new_taste']:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
