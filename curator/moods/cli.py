"""`flask --app curator moods export|import|validate`"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from curator.engine import MoodInvalid
from curator.moods.store import MAX_MOODS_FILE_BYTES
from curator.textfiles import TextFileError, read_text

moods_cli = AppGroup("moods", help="Export, import, validate and calibrate mood definitions (YAML, labelled CSV).")


# The shipped file of eight moods is 8 KB: a file a hundred times that is no moods file, and a
# limit keeps a wrong path (/dev/zero, a video) from being read until memory runs out.
MAX_FILE_BYTES = MAX_MOODS_FILE_BYTES


def _read(path: str) -> str:
    try:
        return read_text(path, max_bytes=MAX_FILE_BYTES, what="a moods file")
    except TextFileError as exc:
        raise click.ClickException(exc.message) from None


def _print_errors(errors: list[tuple[str, str]]) -> None:
    for path, message in errors:
        click.echo(f"{path}: {message}" if path else message, err=True)


@moods_cli.command("export")
@click.argument("path", required=False)
def export_command(path: str | None):
    """Write the active moods as YAML to PATH (or stdout). Archived moods are left out."""
    from curator.moods.io import export_yaml

    text = export_yaml()
    if path is None:
        click.echo(text, nl=False)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"can't write {path}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {text.count('- slug:')} moods to {path}.", err=True)


@moods_cli.command("validate")
@click.argument("path")
def validate_command(path: str):
    """Check a moods file; list every error with its path and exit 1 if there are any."""
    from curator.moods.io import validate_text

    errors = validate_text(_read(path))
    if errors:
        _print_errors(errors)
        click.echo(f"{path}: {len(errors)} error{'s' if len(errors) != 1 else ''}.", err=True)
        sys.exit(1)
    click.echo(f"{path}: valid.")


@moods_cli.command("import")
@click.argument("path")
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
def import_command(path: str, dry_run: bool):
    """Validate the whole file, show what changes, then save changed moods as new versions (one transaction)."""
    from curator.moods.io import plan_import
    from curator.moods.service import import_moods

    try:
        plan = plan_import(_read(path))
    except MoodInvalid as exc:
        _print_errors(exc.errors)
        click.echo(f"{path}: nothing was imported; fix the errors above and try again.", err=True)
        sys.exit(1)
    for line in plan.describe():
        click.echo(line)
    if not plan.has_changes:
        click.echo("Nothing to import: every mood in the file matches the database.")
        return
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    count = import_moods(plan, Path(path).name)
    click.echo(f"Imported {count} mood{'s' if count != 1 else ''} as new versions.")


@moods_cli.command("calibrate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--mood", "slugs", multiple=True, help="Refit only this mood (repeatable); default: every mood the files label.")
@click.option("--map", "mappings", multiple=True, metavar="LABEL=SLUG",
              help="Read the class LABEL of the mood column as mood SLUG (repeatable).")
@click.option("--weight", type=click.FloatRange(0, 1), default=None,
              help="How much the learned term decides, 0..1 (default: the mood's current weight, else 0.5).")
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
def calibrate_command(paths: tuple[str, ...], slugs: tuple[str, ...], mappings: tuple[str, ...],
                      weight: float | None, dry_run: bool):
    """Refit each mood's learned term from labelled CSVs and save it as a new version (one transaction).

    A CSV labels moods by a `mood` column (classes) and/or listener valence/arousal columns
    (`tag_valence`/`tag_arousal`: each mood's region). Moods labelled in several files are fitted
    on all of them, each file weighing equally.
    """
    from curator.moods.labelled import LabelledInvalid, read_labelled
    from curator.moods.refit import RefitInvalid, plan_refit
    from curator.moods.service import refit_moods

    mapping = {}
    for item in mappings:
        label, sep, slug = item.partition("=")
        if not sep or not label.strip() or not slug.strip():
            raise click.ClickException(f"--map takes LABEL=SLUG (got “{item}”)")
        mapping[label.strip()] = slug.strip()
    try:
        sets = [read_labelled(_read(path), Path(path).name) for path in paths]
        plan = plan_refit(sets, slugs=list(slugs), mapping=mapping, weight=weight)
    except (LabelledInvalid, RefitInvalid) as exc:
        raise click.ClickException(str(exc)) from None
    for line in plan.describe():
        click.echo(line)
    if not plan.changed:
        click.echo("Nothing to save: no mood's learned term changed.")
        return
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    count = refit_moods(plan, ", ".join(Path(p).name for p in paths))
    click.echo(f"Saved {count} mood{'s' if count != 1 else ''} as new versions.")


def register(app) -> None:
    app.cli.add_command(moods_cli)
