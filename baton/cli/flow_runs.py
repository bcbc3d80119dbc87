"""`baton flow-run`: list, inspect and cancel flow runs, and print their logs."""

from __future__ import annotations

import logging
import time

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
from baton.states import TERMINAL_STATE_TYPES, StateType

STATE_TYPES = tuple(state_type.value for state_type in StateType)
# `logs --follow` asks for new lines this often, in seconds.
FOLLOW_INTERVAL_SECONDS = 1.0


@click.group("flow-run")
def flow_run() -> None:
    """Inspect and cancel flow runs, and read their logs."""


@flow_run.command("ls")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(STATE_TYPES, case_sensitive=False),
    help="Only runs in this state type; repeat for several.",
)
@click.option("--flow", "flow_name", default=None, help="Only runs of the flow with this name.")
@limit_option("flow runs")
@json_option
def list_(states: tuple[str, ...], flow_name: str | None, limit: int, as_json: bool) -> None:
    """List flow runs, the most recently scheduled first, with their flow, state and start time."""
    with api_client() as client:
        rows = client.read_flow_runs(state_types=list(states) or None, flow_name=flow_name, limit=limit)
        flows = client.read_flow_names([row["flow_id"] for row in rows])
    if as_json:
        echo_json(rows)
        return
    table = [
        [
            row["id"],
            flows.get(row["flow_id"], "-"),
            row["name"],
            row["state_name"] or "-",
            timestamp(row["start_time"] or row["expected_start_time"]),
        ]
        for row in rows
    ]
    echo_table(["ID", "FLOW", "NAME", "STATE", "START (UTC)"], table, empty="No flow runs.")
    echo_more_hint(len(rows), limit, "flow runs")


@flow_run.command()
@click.argument("flow_run_id")
@json_option
def inspect(flow_run_id: str, as_json: bool) -> None:
    """Print a flow run: its state, times, parameters, deployment and work pool."""
    with api_client() as client:
        row = client.read_flow_run(flow_run_id)
        flow = client.read_flow_names([row["flow_id"]]).get(row["flow_id"])
    if as_json:
        echo_json(row)
        return
    state = row["state"] or {}
    echo_fields(
        [
            ("Name", row["name"]),
            ("Flow", flow),
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
    )


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
