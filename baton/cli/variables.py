"""`baton variable`: list, read, set and delete variables on the server at BATON_API_URL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell, compact_json, json_option, timestamp
from baton.cli.resource_commands import delete_command, id_and_times, inspect_command, ls_command
from baton.errors import ObjectAlreadyExists

if TYPE_CHECKING:
    from baton.client import BatonClient


def parse_value(text: str) -> Any:
    """`text` decoded as JSON when it is valid JSON (NaN and Infinity are not), else `text` as a string."""

    def refuse(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return text


@click.group()
def variable() -> None:
    """Manage variables: named JSON values (strings, numbers, lists, objects) that flows read at run time."""


def _variable_cells(row: dict[str, Any]) -> list[str]:
    return [row["name"], cell(compact_json(row["value"])), cell(", ".join(row["tags"])), timestamp(row["updated"])]


@ls_command(variable, "variables", ["NAME", "VALUE", "TAGS", "UPDATED (UTC)"], _variable_cells)
def list_(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List variables by name, with their values, tags and when they last changed."""
    return client.read_variables(limit=limit)


@variable.command()
@click.argument("name")
@json_option
def get(name: str, as_json: bool) -> None:
    """Print a variable's value: a string as it is, anything else (or anything with --json) as JSON."""
    with api_client() as client:
        value = client.read_variable_by_name(name)["value"]
    click.echo(value if isinstance(value, str) and not as_json else compact_json(value))


@variable.command("set")
@click.argument("name")
@click.argument("value")
@click.option("--tag", "tags", multiple=True, help="A tag for the variable; repeat for several. Replaces its tags.")
@click.option("--overwrite", is_flag=True, help="Replace the value of a variable that already exists.")
def set_(name: str, value: str, tags: tuple[str, ...], overwrite: bool) -> None:
    """Create a variable, or replace one with --overwrite. VALUE is read as JSON when it is valid JSON (42, true,
    '[1, 2]', '{"a": 1}', '"quoted"'), else taken as a string."""
    with api_client() as client:
        try:
            created = client.set_variable(name, parse_value(value), list(tags) or None, overwrite=overwrite)
        except ObjectAlreadyExists:
            raise ObjectAlreadyExists(
                f"Variable {name!r} already exists; use --overwrite to replace its value."
            ) from None
    click.echo(f"{'Created' if created else 'Updated'} variable {name!r}.")


@delete_command(variable, "variable", name="unset")
@click.argument("name")
def unset(client: BatonClient, name: str) -> None:
    """Delete a variable."""
    client.delete_variable_by_name(name)


def _variable_fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Name", row["name"]),
        ("Value", row["value"] if isinstance(row["value"], dict | list) else compact_json(row["value"])),
        ("Tags", ", ".join(row["tags"]) or None),
        *id_and_times(row),
    ]


@inspect_command(variable, _variable_fields)
@click.argument("name")
def inspect(client: BatonClient, name: str) -> dict[str, Any]:
    """Print a variable: its name, value, tags, id and when it was created and last changed."""
    return client.read_variable_by_name(name)
