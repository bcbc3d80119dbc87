"""`baton deployment`: list, inspect, run, pause, resume and delete deployments."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell, timestamp
from baton.cli.resource_commands import delete_command, inspect_command, ls_command
from baton.errors import ValidationFailed
from baton.states import TERMINAL_STATE_TYPES

if TYPE_CHECKING:
    from baton.client import BatonClient

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


def _deployment_cells(row: dict[str, Any], flows: dict[str, str]) -> list[str]:
    return [
        f"{flows.get(row['flow_id'], '?')}/{row['name']}",
        row["id"],
        row.get("work_pool_name") or "-",
        row.get("status") or "-",
        "yes" if row["paused"] else "no",
        cell(row.get("description")),
    ]


@ls_command(
    deployment,
    "deployments",
    ["NAME", "ID", "POOL", "STATUS", "PAUSED", "DESCRIPTION"],
    _deployment_cells,
    flow_names=True,
)
def list_(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List deployments by name, with their work pool, status and whether they are paused."""
    return client.read_deployments(limit=limit)


def _deployment_fields(row: dict[str, Any], flows: dict[str, str]) -> list[tuple[str, Any]]:
    return [
        ("Name", f"{flows.get(row['flow_id'])}/{row['name']}"),
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
        ("Automations", ", ".join(_automation_label(each) for each in row.get("automations") or []) or None),
        ("Created (UTC)", timestamp(row["created"])),
    ]


def _automation_label(automation: dict[str, Any]) -> str:
    return automation["name"] + ("" if automation["enabled"] else " (paused)")


@inspect_command(deployment, _deployment_fields, flow_names=True, epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
def inspect(client: BatonClient, name_or_id: str) -> dict[str, Any]:
    """Print a deployment: its flow, entrypoint, work pool, parameters, schedules and the automations related to it
    (those its triggers made, and those that run it)."""
    row = client.read_deployment(name_or_id)
    return {**row, "automations": client.read_automations_related_to(f"prefect.deployment.{row['id']}")}


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
    _set_paused(name_or_id, paused=True)


@deployment.command(epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
def resume(name_or_id: str) -> None:
    """Resume a paused deployment: its schedules make runs again."""
    _set_paused(name_or_id, paused=False)


def _set_paused(name_or_id: str, *, paused: bool) -> None:
    with api_client() as client:
        deployment_id = client.read_deployment(name_or_id)["id"]
        if paused:
            client.pause_deployment(deployment_id)
        else:
            client.resume_deployment(deployment_id)
    click.echo(f"{'Paused' if paused else 'Resumed'} deployment {name_or_id!r}.")


@delete_command(deployment, "deployment", epilog=DEPLOYMENT_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="DEPLOYMENT")
def delete(client: BatonClient, name_or_id: str) -> None:
    """Delete a deployment with its schedules and the runs of it that have not started."""
    client.delete_deployment(client.read_deployment(name_or_id)["id"])
