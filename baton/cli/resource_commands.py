"""Decorators that make the `ls`, `inspect` and `delete` commands of a resource group from one client call each.

The decorated function takes the client and the command's own arguments and does the one read or delete; its
docstring is the command's help and click decorators under this one declare its arguments and options. The
decorator adds what every resource shares: the client's lifetime, `--limit` and `--json` on a listing with the same
table and "there may be more" hint, `--json` on inspection, `-y/--yes` and the same confirmation on deletion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import (
    api_client,
    echo_fields,
    echo_json,
    echo_more_hint,
    echo_table,
    json_option,
    limit_option,
    timestamp,
)

if TYPE_CHECKING:
    from baton.client import BatonClient

Row = dict[str, Any]
# What the builders below return: it turns the function it decorates into a command of the group.
CommandDecorator = Callable[[Callable[..., Any]], click.Command]


def yes_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """The `-y/--yes` flag of a deletion, passed to the command as `yes`."""
    return click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")(command)


def id_and_times(row: Row) -> list[tuple[str, Any]]:
    """The id, and when the object was created and last changed, as `inspect` prints them."""
    return [
        ("ID", row["id"]),
        ("Created (UTC)", timestamp(row["created"])),
        ("Updated (UTC)", timestamp(row["updated"])),
    ]


def _flow_names(client: BatonClient, rows: Sequence[Row]) -> dict[str, str]:
    """{flow id: flow name} for the flows of `rows`, which carry a `flow_id`."""
    return client.read_flow_names([row["flow_id"] for row in rows])


def _add(
    group: click.Group, name: str, function: Callable[..., Any], callback: Callable[..., Any], epilog: str | None
) -> click.Command:
    """The command `name` of `group`, running `callback`, with `epilog` and `function`'s help and click parameters."""
    command = click.command(name, epilog=epilog)(function)
    command.callback = callback
    group.add_command(command)
    return command


def ls_command(
    group: click.Group,
    noun: str,
    headers: Sequence[str],
    cells: Callable[..., list[str]],
    *,
    empty: str | None = None,
    flow_names: bool = False,
) -> CommandDecorator:
    """`ls` of `group`: the rows `read(client, limit=N, **options)` returns, as JSON or a table of `cells`.

    `cells(row, **extra)` gets the command's options and, with `flow_names`, `flows` ({flow id: name} for the rows'
    flows). No rows prints `empty` (default "No {noun}."); as many as `--limit` says on stderr there may be more.
    """

    def decorator(read: Callable[..., list[Row]]) -> click.Command:
        def list_(limit: int, as_json: bool, **options: Any) -> None:
            with api_client() as client:
                rows = read(client, limit=limit, **options)
                extra = {**options, "flows": _flow_names(client, rows)} if flow_names else options
            if as_json:
                echo_json(rows)
                return
            echo_table(headers, [cells(row, **extra) for row in rows], empty=empty or f"No {noun}.")
            echo_more_hint(len(rows), limit, noun)

        command = _add(group, "ls", read, list_, None)
        json_option(limit_option(noun)(command))
        return command

    return decorator


def inspect_command(
    group: click.Group,
    fields: Callable[..., list[tuple[str, Any]]],
    *,
    flow_names: bool = False,
    epilog: str | None = None,
) -> CommandDecorator:
    """`inspect` of `group`: the object `read(client, **arguments)` returns, as JSON or as `fields(row)`.

    With `flow_names`, `fields` also gets `flows`: {flow id: name} for the row's flow.
    """

    def decorator(read: Callable[..., Row]) -> click.Command:
        def inspect(as_json: bool, **arguments: Any) -> None:
            with api_client() as client:
                row = read(client, **arguments)
                extra = {"flows": _flow_names(client, [row])} if flow_names else {}
            if as_json:
                echo_json(row)
                return
            echo_fields(fields(row, **extra))

        command = _add(group, "inspect", read, inspect, epilog)
        json_option(command)
        return command

    return decorator


def delete_command(
    group: click.Group, what: str, *, name: str = "delete", epilog: str | None = None
) -> CommandDecorator:
    """`delete` (or `name`) of `group`, whose one argument is the value: unless --yes, asks "Delete {what} {value!r}?"
    (no aborts with exit code 1), then runs `delete(client, value)` and says "Deleted {what} {value!r}."."""

    def decorator(delete: Callable[[BatonClient, Any], object]) -> click.Command:
        def delete_(yes: bool, **arguments: Any) -> None:
            (value,) = arguments.values()
            if not yes:
                click.confirm(f"Delete {what} {value!r}?", abort=True)
            with api_client() as client:
                delete(client, value)
            click.echo(f"Deleted {what} {value!r}.")

        command = _add(group, name, delete, delete_, epilog)
        yes_option(command)
        return command

    return decorator
