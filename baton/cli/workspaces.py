"""`baton workspace`: make, list, rename and delete workspaces, give accounts a role in one, and pick the workspace
the other commands work in (BATON_WORKSPACE), through the admin API at BATON_API_URL."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell, echo_json, echo_table, json_option, timestamp
from baton.cli.resource_commands import id_and_times, inspect_command, ls_command, yes_option
from baton.cli.users import ROLE_HELP

if TYPE_CHECKING:
    from baton.client import BatonClient

WORKSPACE_SETTING = "BATON_WORKSPACE"


@click.group()
def workspace() -> None:
    """Manage workspaces, each with its own flows, runs, deployments, blocks and variables (admins), and pick the
    one the other commands work in: `baton workspace use NAME`, or BATON_WORKSPACE (a name or an id)."""


@workspace.command()
@click.argument("name")
@click.option("--description", default="", help="What the workspace is for.")
def create(name: str, description: str) -> None:
    """Create workspace NAME, with its own store of every kind of object."""
    with api_client() as client:
        row = client.create_workspace(name, description)
    click.echo(f"Created workspace {row['name']!r} ({row['id']}).")


def _workspace_cells(row: dict[str, Any]) -> list[str]:
    return [row["name"], row["id"], cell(row["description"], 40), timestamp(row["created"])]


@ls_command(workspace, "workspaces", ["NAME", "ID", "DESCRIPTION", "CREATED (UTC)"], _workspace_cells)
def list_(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List workspaces by name, with their id, description and when they were created (the default workspace,
    at /api, is not one of them)."""
    return client.read_workspaces(limit=limit)


def _workspace_fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Name", row["name"]),
        ("Description", row["description"] or None),
        ("Account ID", row["account_id"]),
        *id_and_times(row),
    ]


@inspect_command(workspace, _workspace_fields)
@click.argument("workspace_name", metavar="WORKSPACE")
def inspect(client: BatonClient, workspace_name: str) -> dict[str, Any]:
    """Print a workspace (named by name or id): its name, description, account, id and times."""
    return client.read_workspace(workspace_name)


@workspace.command()
@click.argument("workspace_name", metavar="WORKSPACE")
@click.argument("new_name")
def rename(workspace_name: str, new_name: str) -> None:
    """Rename a workspace (named by name or id) to NEW_NAME; its id, and so its API URL, stay."""
    with api_client() as client:
        row = client.read_workspace(workspace_name)
        client.update_workspace(row["id"], name=new_name)
    click.echo(f"Renamed workspace {row['name']!r} to {new_name!r}.")


@workspace.command()
@click.argument("workspace_name", metavar="WORKSPACE")
@yes_option
def delete(workspace_name: str, yes: bool) -> None:
    """Delete a workspace (named by name or id) and every object in it: flows, runs, deployments, blocks,
    variables, logs and events. This cannot be undone."""
    with api_client() as client:
        row = client.read_workspace(workspace_name)
        if not yes:
            click.confirm(f"Delete workspace {row['name']!r} and every object in it?", abort=True)
        client.delete_workspace(row["id"])
    click.echo(f"Deleted workspace {row['name']!r}.")


@workspace.command()
@click.argument("workspace_name", metavar="WORKSPACE", required=False)
@click.option("--default", "use_default", is_flag=True, help="Go back to the default workspace.")
def use(workspace_name: str | None, use_default: bool) -> None:
    """Make the other commands of the active profile work in WORKSPACE (a name or an id; it must exist and you must
    hold a role there, and only admins may name it by name): saves BATON_WORKSPACE in the profile. With --default,
    work in the default workspace again."""
    from baton.profiles import ProfileStore
    from baton.settings import baton_home

    if use_default == (workspace_name is not None):
        raise click.UsageError("Give either a WORKSPACE or --default.")
    store = ProfileStore(baton_home())
    profiles = store.load()
    profile = profiles.selected(os.environ)
    if workspace_name is None:
        if WORKSPACE_SETTING in profiles.get(profile, allow_missing_default=True):
            store.unset_values(profile, [WORKSPACE_SETTING])
        click.echo(f"Profile {profile!r} now works in the default workspace.")
    else:
        from baton.client import BatonClient

        with BatonClient(workspace=workspace_name) as client:
            client.check_workspace()
        store.set_values(profile, {WORKSPACE_SETTING: workspace_name})
        click.echo(f"Profile {profile!r} now works in workspace {workspace_name!r}.")
    if WORKSPACE_SETTING in os.environ:
        click.echo(
            f"Warning: {WORKSPACE_SETTING} is also set in the environment, which overrides the profile.", err=True
        )


@workspace.group()
def members() -> None:
    """List, add and remove the users and service accounts that hold a role in a workspace. An account with the
    admin role is an admin in every workspace without being a member."""


@members.command("ls")
@click.argument("workspace_name", metavar="WORKSPACE")
@json_option
def list_members(workspace_name: str, as_json: bool) -> None:
    """List the members of a workspace (named by name or id): their name, kind, role there and since when."""
    with api_client() as client:
        row = client.read_workspace(workspace_name)
        rows = client.read_workspace_members(row["id"])
        accounts = {
            account["id"]: account for kind in ("user", "service account") for account in client.read_accounts(kind)
        }
    if as_json:
        echo_json(rows)
        return
    table = []
    for member in rows:
        account = accounts.get(member["member_id"], {})
        cells = [account.get("name", "-"), account.get("kind", "-"), member["role"], member["member_id"]]
        table.append([*cells, timestamp(member["created"])])
    headers = ["ACCOUNT", "KIND", "ROLE", "ACCOUNT ID", "SINCE (UTC)"]
    echo_table(headers, table, empty=f"Workspace {row['name']!r} has no members.")


@members.command("add")
@click.argument("workspace_name", metavar="WORKSPACE")
@click.argument("account_name", metavar="ACCOUNT")
@click.option("--role", required=True, help=ROLE_HELP)
def add_member(workspace_name: str, account_name: str, role: str) -> None:
    """Give ACCOUNT (a user's or a service account's name or id) a role in a workspace (named by name or id),
    replacing the role it held there."""
    with api_client() as client:
        row = client.read_workspace(workspace_name)
        account = client.find_account(account_name)
        client.set_workspace_member(row["id"], account["id"], role)
    click.echo(f"Gave {account['kind']} {account['name']!r} the role {role!r} in workspace {row['name']!r}.")


@members.command("rm")
@click.argument("workspace_name", metavar="WORKSPACE")
@click.argument("account_name", metavar="ACCOUNT")
def remove_member(workspace_name: str, account_name: str) -> None:
    """Take away the role of ACCOUNT (a user's or a service account's name or id) in a workspace."""
    with api_client() as client:
        row = client.read_workspace(workspace_name)
        account = client.find_account(account_name)
        client.delete_workspace_member(row["id"], account["id"])
    click.echo(f"Removed {account['kind']} {account['name']!r} from workspace {row['name']!r}.")
