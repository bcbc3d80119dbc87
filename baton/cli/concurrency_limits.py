"""`baton concurrency-limit` (limits on tagged task runs) and `baton global-concurrency-limit` (named limits)."""

from __future__ import annotations

from typing import Any

import click

from baton.cli.output import (
    api_client,
    cell,
    echo_fields,
    echo_json,
    echo_more_hint,
    echo_table,
    json_option,
    limit_option,
    timestamp,
)


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


@concurrency_limit.command("inspect")
@click.argument("tag")
@json_option
def inspect_tag_limit(tag: str, as_json: bool) -> None:
    """Print a tag's limit and the task runs holding its slots."""
    with api_client() as client:
        row = client.read_tag_concurrency_limit(tag)
    if as_json:
        echo_json(row)
        return
    echo_fields(
        [
            ("Tag", row["tag"]),
            ("Limit", row["concurrency_limit"]),
            ("Slots taken", len(row["active_slots"])),
            ("Held by task runs", row["active_slots"] or None),
            ("ID", row["id"]),
            ("Created (UTC)", timestamp(row["created"])),
            ("Updated (UTC)", timestamp(row["updated"])),
        ]
    )


@concurrency_limit.command("ls")
@limit_option("tag limits")
@json_option
def list_tag_limits(limit: int, as_json: bool) -> None:
    """List tag limits by tag, with how many of their slots are taken."""
    with api_client() as client:
        rows = client.read_tag_concurrency_limits(limit=limit)
    if as_json:
        echo_json(rows)
        return
    table = [
        [cell(row["tag"]), str(row["concurrency_limit"]), str(len(row["active_slots"])), timestamp(row["updated"])]
        for row in rows
    ]
    echo_table(["TAG", "LIMIT", "TAKEN", "UPDATED (UTC)"], table, empty="No tag concurrency limits.")
    echo_more_hint(len(rows), limit, "tag limits")


@concurrency_limit.command("reset")
@click.argument("tag")
def reset_tag_limit(tag: str) -> None:
    """Free every slot of a tag's limit (for slots held by task runs that will never finish)."""
    with api_client() as client:
        client.reset_tag_concurrency_limit(tag)
    click.echo(f"Freed every slot of tag {tag!r}.")


@concurrency_limit.command("delete")
@click.argument("tag")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_tag_limit(tag: str, yes: bool) -> None:
    """Delete a tag's limit; its task runs are no longer limited."""
    if not yes:
        click.confirm(f"Delete the concurrency limit of tag {tag!r}?", abort=True)
    with api_client() as client:
        client.delete_tag_concurrency_limit(tag)
    click.echo(f"Deleted the concurrency limit of tag {tag!r}.")


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


@global_concurrency_limit.command("inspect")
@click.argument("name")
@json_option
def inspect_global_limit(name: str, as_json: bool) -> None:
    """Print a global limit: its size, slots taken (after decay), and the leases holding them."""
    with api_client() as client:
        row = client.read_global_concurrency_limit(name)
    if as_json:
        echo_json(row)
        return
    echo_fields(
        [
            ("Name", row["name"]),
            ("Active", "yes" if row["active"] else "no"),
            ("Limit", row["limit"]),
            ("Slots taken", row["active_slots"]),
            ("Denied slots", row.get("denied_slots")),
            ("Slot decay per second", row["slot_decay_per_second"]),
            ("Holders", "\n".join(holder_rows(row.get("holders", []))) or None),
            ("ID", row["id"]),
            ("Created (UTC)", timestamp(row["created"])),
            ("Updated (UTC)", timestamp(row["updated"])),
        ]
    )


@global_concurrency_limit.command("ls")
@limit_option("global limits")
@json_option
def list_global_limits(limit: int, as_json: bool) -> None:
    """List global limits by name, with their size, slots taken and decay."""
    with api_client() as client:
        rows = client.read_global_concurrency_limits(limit=limit)
    if as_json:
        echo_json(rows)
        return
    table = [
        [
            cell(row["name"]),
            "yes" if row["active"] else "no",
            str(row["limit"]),
            str(row["active_slots"]),
            f"{row['slot_decay_per_second']:g}",
            timestamp(row["updated"]),
        ]
        for row in rows
    ]
    echo_table(
        ["NAME", "ACTIVE", "LIMIT", "TAKEN", "DECAY/S", "UPDATED (UTC)"], table, empty="No global concurrency limits."
    )
    echo_more_hint(len(rows), limit, "global limits")


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


@global_concurrency_limit.command("delete")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_global_limit(name: str, yes: bool) -> None:
    """Delete a global limit."""
    if not yes:
        click.confirm(f"Delete global concurrency limit {name!r}?", abort=True)
    with api_client() as client:
        client.delete_global_concurrency_limit(name)
    click.echo(f"Deleted global concurrency limit {name!r}.")
