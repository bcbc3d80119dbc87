"""`baton audit`: read the audit log, directly on the database."""

from __future__ import annotations

import json

import click

from baton.cli.local_database import jsonable_rows, on_database, parse_time, when
from baton.cli.output import cell, echo_more_hint, echo_table


@click.group()
def audit() -> None:
    """Read the audit log: who changed what, when, from where, and the outcome (on the database directly)."""


@audit.command("ls")
@click.option("--actor", default=None, help="Only entries by this user or service account name.")
@click.option("--action", default=None, help="Only this action (e.g. service_account.create); 'user.*' for a prefix.")
@click.option("--resource-kind", default=None, help="Only entries about this kind of resource (e.g. variable).")
@click.option("--since", default=None, help="Only entries at or after this time (ISO 8601, UTC by default).")
@click.option("--until", default=None, help="Only entries at or before this time (ISO 8601, UTC by default).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="The most entries to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON lines instead of a table.")
def list_(
    actor: str | None,
    action: str | None,
    resource_kind: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List audit entries, newest first."""
    from baton.server.auth import direct

    prefix = action[:-1] if action and action.endswith("*") else None
    condition = {
        "actor_name": actor,
        "action": None if prefix is not None else action,
        "action_prefix": prefix,
        "resource_kind": resource_kind,
        "occurred_after": parse_time(since, "--since"),
        "occurred_before": parse_time(until, "--until"),
    }
    rows = on_database(lambda db: direct.read_audit(db, limit=limit, **condition))
    if as_json:
        for row in jsonable_rows(rows):
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    table = [
        [
            when(row["occurred"]),
            f"{row['actor_name']} ({row['actor_kind']})",
            row["action"],
            cell(" ".join(part for part in (row["resource_kind"], row["resource_name"] or row["resource_id"]) if part)),
            row["outcome"],
            row["address"] or "-",
        ]
        for row in rows
    ]
    echo_table(["TIME (UTC)", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "ADDRESS"], table, empty="No audit entries.")
    echo_more_hint(len(rows), limit, "entries")
