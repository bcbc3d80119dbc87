"""`baton user`: create, list, change and disable the users who sign in to Baton, directly on its database."""

from __future__ import annotations

from typing import Any

import click

from baton.cli.local_database import on_database, read_password, when
from baton.cli.output import echo_table

ROLE_HELP = "The role: admin, developer, operator, viewer, worker, or a custom role (`baton role ls`)."


@click.group()
def user() -> None:
    """Manage users (people who sign in with a name and password). These commands work directly on the database
    (BATON_API_DATABASE_CONNECTION_URL), so the first admin can be made before the server runs; each change is in the
    audit log under `local-cli`."""


@user.command()
@click.argument("name")
@click.option("--role", required=True, help=ROLE_HELP)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create(name: str, role: str, password_stdin: bool) -> None:
    """Create a user NAME with a role; the password is asked for twice (hidden) unless --password-stdin."""
    from baton.server.auth import direct

    password = read_password(password_stdin)
    row = on_database(lambda db: direct.create_user(db, name, role, password))
    click.echo(f"Created user {row['name']!r} with the role {row['role']!r}.")


def _user_cells(row: dict[str, Any]) -> list[str]:
    return [row["name"], row["role"], "disabled" if row["disabled"] else "enabled", when(row["created"])]


@user.command("ls")
def list_() -> None:
    """List users by name, with their role, whether they are disabled, and when they were created."""
    from baton.server.auth import direct

    rows = on_database(lambda db: direct.read_accounts(db, "user"))
    echo_table(["NAME", "ROLE", "STATUS", "CREATED (UTC)"], [_user_cells(row) for row in rows], empty="No users.")


@user.command("set-role")
@click.argument("name")
@click.argument("role")
def set_role(name: str, role: str) -> None:
    """Give user NAME the role ROLE (the last enabled admin cannot lose the admin role)."""
    from baton.server.auth import direct

    on_database(lambda db: direct.set_role(db, "user", name, role))
    click.echo(f"User {name!r} now has the role {role!r}.")


@user.command()
@click.argument("name")
def disable(name: str) -> None:
    """Disable user NAME: their sessions and keys stop working at once (the last enabled admin cannot be)."""
    from baton.server.auth import direct

    on_database(lambda db: direct.set_disabled(db, "user", name, True))
    click.echo(f"Disabled user {name!r}.")


@user.command()
@click.argument("name")
def enable(name: str) -> None:
    """Enable user NAME again."""
    from baton.server.auth import direct

    on_database(lambda db: direct.set_disabled(db, "user", name, False))
    click.echo(f"Enabled user {name!r}.")


@user.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def reset_password(name: str, password_stdin: bool) -> None:
    """Set a new password for user NAME; every session they have ends."""
    from baton.server.auth import direct

    password = read_password(password_stdin, "New password")
    on_database(lambda db: direct.reset_password(db, name, password))
    click.echo(f"Set a new password for user {name!r}; their sessions have ended.")
