"""`baton deployment`: list, inspect, run, pause, resume and delete deployments."""

from __future__ import annotations

import json
import sys
import time
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
from baton.errors import ValidationFailed
from baton.states import TERMINAL_STATE_TYPES

# `run --watch` reads the run's state this often, in seconds.
WATCH_INTERVAL_SECONDS = 1.0
DEPLOYMENT_ARGUMENT_HELP = "DEPLOYMENT is FLOW_NAME/DEPLOYMENT_NAME or the deployment's id."


def parse_parameters(pairs: tuple[str, ...]) -> dict[str, Any]:
    """{name: value} from `name=value` pairs, each value read as JSON when it is valid JSON, else as a string."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        name, separator, raw = pair.partition("=")
        if not separator or not name:
            raise ValidationFailed(f"Expected --param NAME=VALUE, got {pair!r}.")
        try:
            parameters[name] = json.loads(raw)
        except ValueError:
            parameters[name] = raw
    return parameters


@click.group()
def deployment() -> None:
    """Manage deployments: flows registered with the server, run on a schedule or on demand by workers."""


@deployment.command("ls")
@limit_option("deployments")
@json_option
def list_(limit: int, as_json: bool) -> None:
    """List deployments by name, with their work pool, status and whether they are paused."""
    with api_client() as client:
        rows = client.read_deployments(limit=limit)
        flows = client.read_flow_names([row["flow_id"] for row in rows])
    if as_json:
        echo_json(rows)
        return
    table = [
        [
            f"{flows.get(row['flow_id'], '?')}/{row['name']}",
            row["id"],
            row.get("work_pool_name") or "-",
            row.get("status") or "-",
            "yes" if row["paused"] else "no",
            cell(row.get("description")),
        ]
        for row in rows
    ]
    echo_table(["NAME", "ID", "POOL", "STATUS", "PAUSED", "DESCRIPTION"], table, empty="No deployments.")
    echo_more_hint(len(rows), limit, "deployments")


@deployment.command(epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
@json_option
def inspect(name_or_id: str, as_json: bool) -> None:
    """Print a deployment: its flow, entrypoint, work pool, parameters and schedules."""
    with api_client() as client:
        row = client.read_deployment(name_or_id)
        flow = client.read_flow_names([row["flow_id"]]).get(row["flow_id"])
    if as_json:
        echo_json(row)
        return
    echo_fields(
        [
            ("Name", f"{flow}/{row['name']}"),
            ("ID", row["id"]),
            ("Description", row.get("description")),
            ("Entrypoint", row.get("entrypoint")),
            ("Path", row.get("path")),
            ("Work pool", row.get("work_pool_name")),
            ("Work queue", row.get("work_queue_name")),
            ("Status", row.get("status")),
            ("Paused", "yes" if row["paused"] else "no"),
            ("Parameters", row.get("parameters") or None),
            ("Job variables", row.get("job_variables") or None),
            ("Schedules", [schedule["schedule"] for schedule in row.get("schedules") or []] or None),
            ("Tags", ", ".join(row.get("tags") or []) or None),
            ("Created (UTC)", timestamp(row["created"])),
        ]
    )


@deployment.command(epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    help="A parameter as NAME=VALUE (VALUE read as JSON when it is valid JSON); repeat for several.",
)
@click.option("--watch", is_flag=True, help="Wait for the run to finish, printing its states; exit 1 unless Completed.")
def run(name_or_id: str, params: tuple[str, ...], watch: bool) -> None:
    """Create a flow run of a deployment now; a worker polling its work pool executes it."""
    parameters = parse_parameters(params)
    with api_client() as client:
        row = client.read_deployment(name_or_id)
        flow_run = client.create_flow_run_from_deployment(row["id"], parameters=parameters)
        click.echo(f"Created flow run {flow_run['name']!r} ({flow_run['id']}).")
        if not watch:
            return
        state_name = None
        while True:
            current = client.read_flow_run(flow_run["id"])
            if current["state_name"] != state_name:
                state_name = current["state_name"]
                click.echo(f"{timestamp(current['state']['timestamp'])} {state_name}")
            if current["state_type"] in TERMINAL_STATE_TYPES:
                break
            time.sleep(WATCH_INTERVAL_SECONDS)
    message = (current["state"] or {}).get("message")
    if current["state_type"] != "COMPLETED":
        click.echo(f"Flow run {flow_run['id']} ended {state_name}{': ' + message if message else '.'}", err=True)
        sys.exit(1)


@deployment.command(epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
def pause(name_or_id: str) -> None:
    """Pause a deployment: its schedules stop making runs until it is resumed."""
    with api_client() as client:
        row = client.read_deployment(name_or_id)
        client.pause_deployment(row["id"])
    click.echo(f"Paused deployment {name_or_id!r}.")


@deployment.command(epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
def resume(name_or_id: str) -> None:
    """Resume a paused deployment: its schedules make runs again."""
    with api_client() as client:
        row = client.read_deployment(name_or_id)
        client.resume_deployment(row["id"])
    click.echo(f"Resumed deployment {name_or_id!r}.")


@deployment.command(epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name_or_id: str, yes: bool) -> None:
    """Delete a deployment with its schedules and the runs of it that have not started."""
    if not yes:
        click.confirm(f"Delete deployment {name_or_id!r}?", abort=True)
    with api_client() as client:
        row = client.read_deployment(name_or_id)
        client.delete_deployment(row["id"])
    click.echo(f"Deleted deployment {name_or_id!r}.")
