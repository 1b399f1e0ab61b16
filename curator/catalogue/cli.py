"""`flask --app curator catalog import`, `catalog covers`, `seeds refresh` and `curate preview`."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from curator.problems import CuratorError

MAX_LISTED_PROBLEMS = 50


@click.group("catalog", cls=AppGroup)
def catalog_cli():
    """The track catalogue."""


@catalog_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and list the bad ones (default: import nothing if any row is bad).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Tag every imported track, e.g. --tag source:kaggle (repeatable).")
@click.option("--encoding", metavar="NAME", help="The file's text encoding when it is not UTF-8, e.g. cp1252 or latin-1 "
              "(default: UTF-8, or what the file's byte-order mark says).")
def import_command(path: str, skip_bad: bool, tags: tuple[str, ...], encoding: str | None):
    """Import a CSV dataset of Spotify tracks (upserts by Spotify id; safe to run again).

    \b
    Columns (the header row names them; case, spaces and dashes don't matter; others are ignored):
      required   id (or track_id, spotify_id, uri: a track id or spotify:track: URI),
                 name (or track_name, title, song), artists (or artist, artist_name, track_artist;
                 several separated by ";", or "," in a plural column, or a ['A', 'B'] list)
      features   valence, energy, danceability, acousticness, instrumentalness, speechiness,
                 liveness (0..1), loudness (dB, -60..0), tempo (BPM); key (-1..11), mode (0/1),
                 time_signature. Without them a track waits for a refresh to find its features.
      optional   album (album_name), duration_ms (length, duration), explicit, popularity, isrc
      labels     mood/moods/label, genre/genres/track_genre/playlist_genre, subgenre: kept as tags
                 (mood:calm, genre:ambient) and used to calibrate moods

    \b
    Public datasets with these columns (check each one's licence before you use it):
      TidyTuesday 2020-01-21 spotify_songs.csv (~32,800 tracks, six genres), in the MIT-licensed
        github.com/rfordatascience/tidytuesday;
      the "Spotify Tracks Dataset" of ~114,000 tracks in 125 genres (Hugging Face
        maharshipandya/spotify-tracks-dataset; its card says "bsd").
    """
    from curator.catalogue.importer import MAX_PROBLEMS_KEPT, ImportFileError, import_csv

    tty = sys.stdout.isatty()
    bars: dict[str, object] = {}
    last_line: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        label = {"import": "Checking and writing rows"}.get(phase, phase)
        if tty:
            bar = bars.get(phase)
            if bar is None:
                bar = bars[phase] = click.progressbar(length=total, label=label, file=sys.stdout)
                bar.__enter__()
            bar.update(done - bar.pos)
            if done >= total:
                bar.__exit__(None, None, None)
        elif done - last_line.get(phase, 0) >= 100_000 or done >= total:
            last_line[phase] = done
            click.echo(f"{label}: {done}/{total}")

    try:
        result = import_csv(path, skip_bad=skip_bad, tags=tags, progress=progress, encoding=encoding)
    except ImportFileError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    for bar in bars.values():
        if not bar.is_hidden and bar.pos < bar.length:  # type: ignore[attr-defined]
            bar.__exit__(None, None, None)  # type: ignore[attr-defined]
    if result.problems:
        heading = "Bad rows (skipped):" if result.status == "imported" else "Bad rows:"
        click.echo(heading, err=True)
        for problem in result.problems[:MAX_LISTED_PROBLEMS]:
            click.echo(f"  {problem}", err=True)
        if result.problem_count > MAX_LISTED_PROBLEMS:
            click.echo(f"  ... and {result.problem_count - MAX_LISTED_PROBLEMS} more (the first "
                       f"{MAX_PROBLEMS_KEPT} are kept in the import report on the admin catalogue page)", err=True)
    if result.status == "rejected":
        click.echo(f"Nothing imported from {result.filename}: {result.problem_count} bad row(s) out of "
                   f"{result.rows_read}. Fix them, or pass --skip-bad to import the good rows.", err=True)
        sys.exit(1)
    duplicates = f", {result.duplicates} repeated ids merged" if result.duplicates else ""
    features = "" if result.has_features else " (no audio-feature columns: features are fetched on refresh)"
    click.echo(f"{result.filename}: {result.rows_read} rows read, {result.imported} imported, {result.updated} updated, "
               f"{result.skipped} skipped{duplicates} in {result.seconds:.1f} s{features}.")


@catalog_cli.command("covers")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Look up at most this many tracks now.")
@click.option("--as", "as_user", metavar="SPOTIFY_ID", help="Whose Spotify login asks (default: the first admin who has logged in).")
def covers_command(limit: int, as_user: str | None):
    """Look up album covers for tracks that have none (a dataset's): one GET /tracks/{id} per track,
    ever, at most COVER_LOOKUPS_PER_MINUTE a minute. The job runner does the same on a schedule."""
    from curator.catalogue import covers

    try:
        report = covers.look_up_as_admin(limit=limit, as_user=as_user)
    except CuratorError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(report.line())


@click.group("seeds", cls=AppGroup)
def seeds_cli():
    """Seed lists the catalogue grows from."""


@seeds_cli.command("refresh")
@click.option("--mood", "mood", metavar="SLUG", help="Only this mood's seeds.")
@click.option("--dry-run", is_flag=True, help="Read the seeds and report what would change; write nothing.")
@click.option("--as", "as_user", metavar="SPOTIFY_ID", help="Whose Spotify login reads the seeds (default: the first admin who has logged in).")
@click.option("--full", is_flag=True, help="Re-read every seed, even unchanged playlists and searches, artists and tracks read in the last 7 days.")
def refresh_command(mood: str | None, dry_run: bool, as_user: str | None, full: bool):
    """Read every seed through Spotify, store new tracks, fetch missing audio features."""
    from sqlalchemy import select

    from curator.catalogue import jobs
    from curator.extensions import db
    from curator.models.catalogue import Seed

    if mood and db.session.scalar(select(Seed.id).where(Seed.mood == mood).limit(1)) is None:
        click.echo(f"Error: there are no seeds for the mood “{mood}”.", err=True)
        sys.exit(2)
    try:
        identity = jobs.refresh_identity(as_user)
        run, token = jobs.create_run(identity, mood=mood, dry_run=dry_run)
    except CuratorError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    click.echo(f"Refreshing {'the ' + mood + ' seeds' if mood else 'all seeds'} as {identity.spotify_id}"
               f"{' (dry run: nothing is written)' if dry_run else ''}.")
    tty = sys.stdout.isatty()
    state: dict = {}

    def progress(done: int, total: int, message: str) -> None:
        if tty:
            bar = state.get("bar")
            if bar is None:
                bar = state["bar"] = click.progressbar(length=total, label="Refreshing", file=sys.stdout,
                                                       item_show_func=lambda m: m)
                bar.__enter__()
            bar.current_item = message[:60]
            bar.update(done - bar.pos)
        else:
            click.echo(f"[{done}/{total}] {message}")

    report = jobs.execute_run(run.id, token, progress=progress, full=full)
    if state.get("bar") is not None:
        state["bar"].__exit__(None, None, None)
        click.echo()
    from curator.models.catalogue import RefreshRun

    run = db.session.get(RefreshRun, run.id)
    if report is None:
        click.echo(f"Error: {run.message}", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)
    click.echo(f"Spotify calls: {report.spotify_calls}")


@click.group("curate", cls=AppGroup)
def curate_cli():
    """Curation from the command line."""


@curate_cli.command("preview")
@click.option("--from", "start", required=True, metavar="SLUG", help="The mood the listener is in.")
@click.option("--to", "target", required=True, metavar="SLUG", help="The mood they want to reach.")
@click.option("--tracks", type=int, metavar="N", help="Playlist length in tracks (default 20).")
@click.option("--minutes", type=float, metavar="M", help="Playlist length in minutes (instead of --tracks).")
@click.option("--seed", type=int, metavar="S", help="Random seed, to reproduce a playlist.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def preview_command(start: str, target: str, tracks: int | None, minutes: float | None, seed: int | None, as_json: bool):
    """Curate from the local catalogue and print the playlist (nothing is sent to Spotify)."""
    from curator.catalogue.matrix import current_catalogue
    from curator.engine import CurateOptions, EngineError, Length, curate
    from curator.moods.store import get_mood

    def fail(message: str):
        click.echo(f"Error: {message}", err=True)
        sys.exit(2)

    if tracks is not None and minutes is not None:
        fail("Give --tracks or --minutes, not both.")
    try:
        length = Length(minutes=minutes) if minutes is not None else Length(tracks=tracks if tracks is not None else 20)
        start_mood = get_mood(start).definition
        target_mood = get_mood(target).definition
        catalogue = current_catalogue()
        if len(catalogue) == 0:
            fail("The catalogue has no tracks with audio features yet; run `flask --app curator catalog import "
                 "PATH` or `flask --app curator seeds refresh` first.")
        playlist = curate(catalogue, start_mood, target_mood, length, CurateOptions(seed=seed))
    except CuratorError as exc:
        fail(exc.message)
    except EngineError as exc:
        fail(str(exc))
    if playlist.shortfall:
        fail(playlist.shortfall)
    if as_json:
        click.echo(json.dumps(playlist.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{start} → {target}: {len(playlist.tracks)} tracks, {playlist.duration_ms // 60000} min, seed {playlist.seed}")
    rows = [(str(t.position + 1), t.name, ", ".join(t.artists), t.reason, f"{t.distance:.3f}") for t in playlist.tracks]
    headers = ("#", "Track", "Artists", "Why", "Distance")
    widths = [min(40, max(len(h), *(len(r[i]) for r in rows))) for i, h in enumerate(headers)]
    widths[3] = max(len(headers[3]), *(len(r[3]) for r in rows))

    def fmt(cells) -> str:
        return "  ".join((c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(cells, widths)).rstrip()

    click.echo(fmt(headers))
    for row in rows:
        click.echo(fmt(row))
    stats = playlist.stats
    click.echo(f"Start distance {stats.start_distance:.3f}, end distance {stats.end_distance:.3f}, "
               f"mean {stats.mean_distance:.3f}, largest step {stats.largest_step:.3f}")


def register(app) -> None:
    app.cli.add_command(catalog_cli)
    app.cli.add_command(seeds_cli)
    app.cli.add_command(curate_cli)
