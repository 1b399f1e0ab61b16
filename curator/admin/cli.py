"""`flask --app curator roles grant|revoke SPOTIFY_ID ROLE` and `roles list`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from curator.problems import CuratorError

roles_cli = AppGroup("roles", help="Grant, revoke and list user roles (curator, admin).")


def _change(spotify_id: str, role: str, grant: bool) -> None:
    from curator.admin.roles import check_role
    from curator.admin.service import change_role_by_spotify_id

    try:
        check_role(role)
        result = change_role_by_spotify_id(spotify_id, role, grant=grant)
    except CuratorError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(result.message)


@roles_cli.command("grant")
@click.argument("spotify_id")
@click.argument("role")
def grant_command(spotify_id: str, role: str):
    """Give SPOTIFY_ID the ROLE (curator or admin). Audited."""
    _change(spotify_id, role, True)


@roles_cli.command("revoke")
@click.argument("spotify_id")
@click.argument("role")
def revoke_command(spotify_id: str, role: str):
    """Take ROLE away from SPOTIFY_ID. Audited."""
    _change(spotify_id, role, False)


@roles_cli.command("list")
@click.option("--role", help="Only users holding this role.")
def list_command(role: str | None):
    """Users and their roles, admins and curators first."""
    from curator.admin.roles import check_role, users_with_roles

    if role and role != "listener":
        try:
            check_role(role)
        except CuratorError as exc:
            raise click.ClickException(exc.message) from None
    users = users_with_roles(role)
    if not users:
        click.echo("No users yet." if not role else f"Nobody has the {role} role.")
        return
    for user in users:
        roles = ", ".join(r for r in ("admin", "curator", "listener") if r in user.roles)
        click.echo(f"{user.spotify_id}\t{user.display_name}\t{roles}")


def register(app) -> None:
    app.cli.add_command(roles_cli)
