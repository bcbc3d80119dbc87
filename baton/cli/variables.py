"""`baton variable`: list, read, set and delete variables on the server at BATON_API_URL."""

from __future__ import annotations

import json
from typing import Any

import click

from baton.cli.output import (
    api_client,
    cell,
    compact_json,
    echo_fields,
    echo_json,
    echo_more_hint,
    echo_table,
    json_option,
    limit_option,
    timestamp,
)
from baton.errors import ObjectAlreadyExists


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


@variable.command("ls")
@limit_option("variables")
@json_option
def list_(limit: int, as_json: bool) -> None:
    """List variables by name, with their values, tags and when they last changed."""
    with api_client() as client:
        rows = client.read_variables(limit=limit)
    if as_json:
        echo_json(rows)
        return
    table = [
        [row["name"], cell(compact_json(row["value"])), cell(", ".join(row["tags"])), timestamp(row["updated"])]
        for row in rows
    ]
    echo_table(["NAME", "VALUE", "TAGS", "UPDATED (UTC)"], table, empty="No variables.")
    echo_more_hint(len(rows), limit, "variables")


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


@variable.command()
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def unset(name: str, yes: bool) -> None:
    """Delete a variable."""
    if not yes:
        click.confirm(f"Delete variable {name!r}?", abort=True)
    with api_client() as client:
        client.delete_variable_by_name(name)
    click.echo(f"Deleted variable {name!r}.")


@variable.command()
@click.argument("name")
@json_option
def inspect(name: str, as_json: bool) -> None:
    """Print a variable: its name, value, tags, id and when it was created and last changed."""
    with api_client() as client:
        row = client.read_variable_by_name(name)
    if as_json:
        echo_json(row)
        return
    echo_fields(
        [
            ("Name", row["name"]),
            ("Value", row["value"] if isinstance(row["value"], dict | list) else compact_json(row["value"])),
            ("Tags", ", ".join(row["tags"]) or None),
            ("ID", row["id"]),
            ("Created (UTC)", timestamp(row["created"])),
            ("Updated (UTC)", timestamp(row["updated"])),
        ]
    )
