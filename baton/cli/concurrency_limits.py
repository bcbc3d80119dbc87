"""`baton concurrency-limit` (limits on tagged task runs) and `baton global-concurrency-limit` (named limits)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell, timestamp
from baton.cli.resource_commands import delete_command, id_and_times, inspect_command, ls_command

if TYPE_CHECKING:
    from baton.client import BatonClient


def holder_rows(holders: list[dict[str, Any]]) -> list[str]:
    return [
        f"{holder.get('type') or 'anonymous'} {holder.get('id') or '-'}: {holder['slots']} slot(s) until "
        f"{timestamp(holder['expires_at'])}"
        for holder in holders
    ]


# --- tag limits -----------------------------------------------------------------------------------------------------


@click.group("concurrency-limit")
def concurrency_limit() -> None:
    """Manage tag concurrency limits: at most N task runs carrying a tag run at once."""


@concurrency_limit.command("create")
@click.argument("tag")
@click.argument("limit", type=click.IntRange(min=0))
def create_tag_limit(tag: str, limit: int) -> None:
    """Limit task runs tagged TAG to LIMIT at once (0 stops them from running); changes the size of an existing
    limit."""
    with api_client() as client:
        client.create_tag_concurrency_limit(tag, limit)
    click.echo(f"Tag {tag!r} is limited to {limit} concurrent task run(s).")


def _tag_limit_fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Tag", row["tag"]),
        ("Limit", row["concurrency_limit"]),
        ("Slots taken", len(row["active_slots"])),
        ("Held by task runs", row["active_slots"] or None),
        *id_and_times(row),
    ]


@inspect_command(concurrency_limit, _tag_limit_fields)
@click.argument("tag")
def inspect_tag_limit(client: BatonClient, tag: str) -> dict[str, Any]:
    """Print a tag's limit and the task runs holding its slots."""
    return client.read_tag_concurrency_limit(tag)


def _tag_limit_cells(row: dict[str, Any]) -> list[str]:
    return [cell(row["tag"]), str(row["concurrency_limit"]), str(len(row["active_slots"])), timestamp(row["updated"])]


@ls_command(
    concurrency_limit,
    "tag limits",
    ["TAG", "LIMIT", "TAKEN", "UPDATED (UTC)"],
    _tag_limit_cells,
    empty="No tag concurrency limits.",
)
def list_tag_limits(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List tag limits by tag, with how many of their slots are taken."""
    return client.read_tag_concurrency_limits(limit=limit)


@concurrency_limit.command("reset")
@click.argument("tag")
def reset_tag_limit(tag: str) -> None:
    """Free every slot of a tag's limit (for slots held by task runs that will never finish)."""
    with api_client() as client:
        client.reset_tag_concurrency_limit(tag)
    click.echo(f"Freed every slot of tag {tag!r}.")


@delete_command(concurrency_limit, "the concurrency limit of tag")
@click.argument("tag")
def delete_tag_limit(client: BatonClient, tag: str) -> None:
    """Delete a tag's limit; its task runs are no longer limited."""
    client.delete_tag_concurrency_limit(tag)


# --- global limits --------------------------------------------------------------------------------------------------


@click.group("global-concurrency-limit")
def global_concurrency_limit() -> None:
    """Manage global concurrency limits: named pools of slots that flows and tasks take while they work, or rate
    limits when the slots decay."""


@global_concurrency_limit.command("create")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=0), required=True, help="How many slots the limit has.")
@click.option(
    "--slot-decay-per-second",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Slots given back per second, which makes it a rate limit.",
)
@click.option("--disable", is_flag=True, help="Create it inactive (it limits nothing until enabled).")
def create_global_limit(name: str, limit: int, slot_decay_per_second: float, disable: bool) -> None:
    """Create a global concurrency limit called NAME."""
    with api_client() as client:
        client.create_global_concurrency_limit(
            name, limit, active=not disable, slot_decay_per_second=slot_decay_per_second
        )
    click.echo(f"Created global concurrency limit {name!r} with {limit} slot(s).")


def _global_limit_fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Name", row["name"]),
        ("Active", "yes" if row["active"] else "no"),
        ("Limit", row["limit"]),
        ("Slots taken", row["active_slots"]),
        ("Denied slots", row.get("denied_slots")),
        ("Slot decay per second", row["slot_decay_per_second"]),
        ("Holders", "\n".join(holder_rows(row.get("holders", []))) or None),
        *id_and_times(row),
    ]


@inspect_command(global_concurrency_limit, _global_limit_fields)
@click.argument("name")
def inspect_global_limit(client: BatonClient, name: str) -> dict[str, Any]:
    """Print a global limit: its size, slots taken (after decay), and the leases holding them."""
    return client.read_global_concurrency_limit(name)


def _global_limit_cells(row: dict[str, Any]) -> list[str]:
    return [
        cell(row["name"]),
        "yes" if row["active"] else "no",
        str(row["limit"]),
        str(row["active_slots"]),
        f"{row['slot_decay_per_second']:g}",
        timestamp(row["updated"]),
    ]


@ls_command(
    global_concurrency_limit,
    "global limits",
    ["NAME", "ACTIVE", "LIMIT", "TAKEN", "DECAY/S", "UPDATED (UTC)"],
    _global_limit_cells,
    empty="No global concurrency limits.",
)
def list_global_limits(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List global limits by name, with their size, slots taken and decay."""
    return client.read_global_concurrency_limits(limit=limit)


@global_concurrency_limit.command("update")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=0), help="A new number of slots.")
@click.option("--active-slots", type=click.IntRange(min=0), help="Set the slots taken (to repair a count).")
@click.option("--slot-decay-per-second", type=click.FloatRange(min=0), help="A new decay rate.")
@click.option("--enable/--disable", default=None, help="Make the limit active, or stop it limiting anything.")
def update_global_limit(
    name: str, limit: int | None, active_slots: int | None, slot_decay_per_second: float | None, enable: bool | None
) -> None:
    """Change a global limit's size, decay, slot count or whether it is active."""
    fields: dict[str, Any] = {
        key: value
        for key, value in (
            ("limit", limit),
            ("active_slots", active_slots),
            ("slot_decay_per_second", slot_decay_per_second),
            ("active", enable),
        )
        if value is not None
    }
    if not fields:
        raise click.UsageError("Give at least one of --limit, --active-slots, --slot-decay-per-second, --enable.")
    with api_client() as client:
        client.update_global_concurrency_limit(name, **fields)
    click.echo(f"Updated global concurrency limit {name!r}.")


@delete_command(global_concurrency_limit, "global concurrency limit")
@click.argument("name")
def delete_global_limit(client: BatonClient, name: str) -> None:
    """Delete a global limit."""
    client.delete_global_concurrency_limit(name)
