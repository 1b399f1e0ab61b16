"""Flask CLI commands shared by the whole app (`flask --app curator setup`)."""
from __future__ import annotations

import click
from flask_migrate import upgrade


@click.command("setup")
def setup_command():
    """Apply database migrations, then import the shipped moods and seed lists on first run."""
    from curator.bootstrap import load_shipped_data
    from curator.engine import EngineError
    from curator.problems import CuratorError

    upgrade()
    try:
        reports = load_shipped_data()
    except CuratorError as exc:
        # A shipped file too big, not YAML or not valid: what and where, never a traceback.
        lines = [line for found in (getattr(exc, "errors", None) or {}).values() for line in found]
        raise click.ClickException("\n".join([exc.message, *lines])) from None
    except EngineError as exc:  # a moods file the engine refuses names its fields itself
        raise click.ClickException(str(exc)) from None
    for line in reports:
        click.echo(line)
    click.echo("Curator: database ready.")
    from curator.security import spotify_configured

    if not spotify_configured():
        click.echo("Curator: no Spotify app yet, so the first page is a demo anyone can try; the setup page "
                   "(/setup) says how to connect one.")


def init_app(app) -> None:
    from curator.admin import cli as admin_cli
    from curator.catalogue import cli as catalogue_cli
    from curator.moods import cli as moods_cli

    app.cli.add_command(setup_command)
    catalogue_cli.register(app)
    moods_cli.register(app)
    admin_cli.register(app)
    from curator.inputs import refuse_nul_arguments

    refuse_nul_arguments(app.cli)  # every command above, as the web refuses NUL on every route
