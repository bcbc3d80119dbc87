"""`baton role`: the built-in roles and custom roles (named sets of permissions), directly on the database."""

from __future__ import annotations

import click

from baton.cli.local_database import on_database
from baton.cli.output import cell, echo_table
from baton.cli.resource_commands import yes_option


@click.group()
def role() -> None:
    """List roles and manage custom roles. Permissions are `<resource>:<verb>` (`baton role ls --permissions` lists
    them). These commands work directly on the database; each change is in the audit log under `local-cli`."""


@role.command("ls")
@click.option("--permissions", "show_permissions", is_flag=True, help="List the permission catalogue instead.")
def list_(show_permissions: bool) -> None:
    """List every role, built-in and custom, with its permissions."""
    from baton.server.auth import direct

    if show_permissions:
        from baton.server.permissions import RESOURCES

        for resource, verbs in RESOURCES.items():
            click.echo(" ".join(f"{resource}:{verb}" for verb in verbs))
        return
    rows = on_database(direct.read_roles)
    table = [
        [
            row["name"],
            "built-in" if row["built_in"] else "custom",
            cell(row["description"], 40),
            cell(", ".join(row["permissions"]), 70),
        ]
        for row in rows
    ]
    echo_table(["NAME", "KIND", "DESCRIPTION", "PERMISSIONS"], table, empty="No roles.")


@role.command()
@click.argument("name")
@click.option(
    "--permission",
    "-p",
    "permissions",
    multiple=True,
    required=True,
    help="A permission the role grants, such as flow_run:read; repeat for several.",
)
@click.option("--description", default="", help="What the role is for.")
def create(name: str, permissions: tuple[str, ...], description: str) -> None:
    """Create custom role NAME granting the given permissions."""
    from baton.server.auth import direct

    row = on_database(lambda db: direct.create_role(db, name, list(permissions), description))
    click.echo(f"Created role {row['name']!r}: {', '.join(row['permissions'])}.")


@role.command()
@click.argument("name")
@yes_option
def delete(name: str, yes: bool) -> None:
    """Delete custom role NAME (no account may hold it)."""
    from baton.server.auth import direct

    if not yes:
        click.confirm(f"Delete role {name!r}?", abort=True)
    on_database(lambda db: direct.delete_role(db, name))
    click.echo(f"Deleted role {name!r}.")
