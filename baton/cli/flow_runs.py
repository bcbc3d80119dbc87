"""`baton flow-run`: list, inspect and cancel flow runs, and print their logs."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, timestamp
from baton.cli.resource_commands import inspect_command, ls_command

if TYPE_CHECKING:
    from baton.client import BatonClient
from baton.states import TERMINAL_STATE_TYPES, StateType

STATE_TYPES = tuple(state_type.value for state_type in StateType)
# `logs --follow` asks for new lines this often, in seconds.
FOLLOW_INTERVAL_SECONDS = 1.0


@click.group("flow-run")
def flow_run() -> None:
    """Inspect and cancel flow runs, and read their logs."""


def _flow_run_fields(row: dict[str, Any], flows: dict[str, str]) -> list[tuple[str, Any]]:
    state = row["state"] or {}
    return [
        ("Name", row["name"]),
        ("Flow", flows.get(row["flow_id"])),
        ("State", f"{row['state_name']} ({row['state_type']})" if row["state_type"] else None),
        ("Message", state.get("message") or None),
        ("ID", row["id"]),
        ("Deployment ID", row["deployment_id"]),
        ("Work pool", row["work_pool_name"]),
        ("Work queue", row["work_queue_name"]),
        ("Parameters", row["parameters"]),
        ("Tags", ", ".join(row["tags"]) or None),
        ("Run count", row["run_count"]),
        ("Expected start (UTC)", timestamp(row["expected_start_time"])),
        ("Started (UTC)", timestamp(row["start_time"])),
        ("Ended (UTC)", timestamp(row["end_time"])),
        ("Process", row["infrastructure_pid"]),
    ]


def _flow_run_cells(row: dict[str, Any], flows: dict[str, str], **_: Any) -> list[str]:
    return [
        row["id"],
        flows.get(row["flow_id"], "-"),
        row["name"],
        row["state_name"] or "-",
        timestamp(row["start_time"] or row["expected_start_time"]),
    ]


@ls_command(flow_run, "flow runs", ["ID", "FLOW", "NAME", "STATE", "START (UTC)"], _flow_run_cells, flow_names=True)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(STATE_TYPES, case_sensitive=False),
    help="Only runs in this state type; repeat for several.",
)
@click.option("--flow", "flow_name", default=None, help="Only runs of the flow with this name.")
def list_(client: BatonClient, limit: int, states: tuple[str, ...], flow_name: str | None) -> list[dict[str, Any]]:
    """List flow runs, the most recently scheduled first, with their flow, state and start time."""
    return client.read_flow_runs(state_types=list(states) or None, flow_name=flow_name, limit=limit)


@inspect_command(flow_run, _flow_run_fields, flow_names=True)
@click.argument("flow_run_id")
def inspect(client: BatonClient, flow_run_id: str) -> dict[str, Any]:
    """Print a flow run: its state, times, parameters, deployment and work pool."""
    return client.read_flow_run(flow_run_id)


@flow_run.command()
@click.argument("flow_run_id")
def cancel(flow_run_id: str) -> None:
    """Cancel a flow run: a running one is stopped by its worker, one that has not started is cancelled at once."""
    with api_client() as client:
        result = client.cancel_flow_run(flow_run_id)
    state = result.get("state") or {}
    if result["status"] == "ACCEPT":
        click.echo(f"Flow run {flow_run_id} is {state.get('name', 'Cancelling')}; its worker stops it.")
    elif result["status"] == "REJECT" and state.get("type") == "CANCELLED":  # it had no process to stop
        click.echo(f"Flow run {flow_run_id} is Cancelled.")
    else:
        reason = (result.get("details") or {}).get("reason") or f"it is {state.get('name')}"
        raise click.ClickException(f"Flow run {flow_run_id} cannot be cancelled: {reason}")


@flow_run.command()
@click.argument("flow_run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the run finishes.")
def logs(flow_run_id: str, follow: bool) -> None:
    """Print a flow run's logs, oldest first."""
    with api_client() as client:
        client.read_flow_run(flow_run_id)  # an unknown run is an error, not an empty log
        after: str | None = None
        seen: set[str] = set()
        while True:
            finished = not follow or client.read_flow_run(flow_run_id)["state_type"] in TERMINAL_STATE_TYPES
            while True:
                page = [line for line in client.read_flow_run_logs(flow_run_id, after=after) if line["id"] not in seen]
                for line in page:
                    seen.add(line["id"])
                    level = logging.getLevelName(line["level"])
                    click.echo(f"{timestamp(line['timestamp'])} {level:<8} {line['name']}: {line['message']}")
                    after = line["timestamp"]
                if not page:
                    break
            if finished:
                return
            time.sleep(FOLLOW_INTERVAL_SECONDS)
