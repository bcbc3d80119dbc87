"""`baton automation`: list, inspect, create from a file, pause, resume and delete automations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell
from baton.cli.resource_commands import delete_command, id_and_times, inspect_command, ls_command
from baton.errors import BatonError, ValidationFailed

if TYPE_CHECKING:
    from baton.client import BatonClient

AUTOMATION_ARGUMENT_HELP = "AUTOMATION is the automation's name or id."


@click.group()
def automation() -> None:
    """Manage automations: triggers on the event stream (a run failed, an expected event did not come) and the
    actions they take (run a deployment, send a notification, call a webhook, pause a work pool, ...)."""


def describe_trigger(trigger: dict[str, Any]) -> str:
    """A one-line summary of a trigger: its posture and expected events, metric, or composite shape."""
    kind = trigger.get("type", "event")
    if kind == "metric":
        metric = trigger["metric"]
        return f"metric {metric['name']} {metric['operator']} {metric['threshold']}"
    if kind == "compound":
        return f"compound: {trigger['require']} of {len(trigger['triggers'])}"
    if kind == "sequence":
        return f"sequence of {len(trigger['triggers'])}"
    expected = ", ".join(sorted(trigger.get("expect") or [])) or "any event"
    threshold = trigger.get("threshold", 1)
    within = trigger.get("within") or 0
    window = f" x{threshold} within {within:g}s" if within or threshold != 1 else ""
    return f"{trigger.get('posture', 'Reactive')}: {expected}{window}"


def _action_types(row: dict[str, Any]) -> str:
    return ", ".join(action["type"] for action in row["actions"])


def _automation_cells(row: dict[str, Any]) -> list[str]:
    return [
        row["name"],
        row["id"],
        "yes" if row["enabled"] else "no",
        cell(describe_trigger(row["trigger"])),
        cell(_action_types(row)),
    ]


@ls_command(automation, "automations", ["NAME", "ID", "ENABLED", "TRIGGER", "ACTIONS"], _automation_cells)
def list_(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List automations by name, with whether they are on, what triggers them and what they do."""
    return client.read_automations(limit=limit)


def _automation_fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Name", row["name"]),
        ("Description", row.get("description") or None),
        ("Enabled", "yes" if row["enabled"] else "no"),
        ("Tags", ", ".join(row.get("tags") or []) or None),
        ("Trigger", row["trigger"]),
        ("Actions", row["actions"]),
        ("Actions on trigger", row.get("actions_on_trigger") or None),
        ("Actions on resolve", row.get("actions_on_resolve") or None),
        *id_and_times(row),
    ]


@inspect_command(automation, _automation_fields, epilog=AUTOMATION_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="AUTOMATION")
def inspect(client: BatonClient, name_or_id: str) -> dict[str, Any]:
    """Print an automation: its trigger, its actions, whether it is on, its id and when it changed."""
    return client.read_automation(name_or_id)


def read_automation_file(path: Path) -> list[dict[str, Any]]:
    """The automations a JSON file holds: one automation, a list of them, or {"automations": [...]}."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ValidationFailed(f"Cannot read {path}: {exc.strerror}.") from None
    except ValueError as exc:
        raise ValidationFailed(f"{path} is not valid JSON: {exc}.") from None
    if isinstance(data, dict) and isinstance(data.get("automations"), list):
        data = data["automations"]
    found = data if isinstance(data, list) else [data]
    if not found or not all(isinstance(item, dict) for item in found):
        raise ValidationFailed(
            f'{path} must hold an automation (a JSON object), a list of them, or {{"automations": [...]}}.'
        )
    return found


@automation.command()
@click.option(
    "--from-file",
    "from_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='A JSON file holding one automation, a list of them, or {"automations": [...]} (the shapes of the '
    "Prefect API's POST /automations/ body).",
)
def create(from_file: Path) -> None:
    """Create the automations described in a JSON file; each is created or refused on its own, and the command
    exits 1 when any was refused."""
    failed = 0
    with api_client() as client:
        for index, body in enumerate(read_automation_file(from_file)):
            name = body.get("name", f"automation #{index + 1}")
            try:
                created = client.create_automation(body)
            except ValidationFailed as exc:
                failed += 1
                click.secho(f"Error: automation {name!r} refused: {exc.message}", fg="red", err=True)
                continue
            click.echo(f"Created automation {created['name']!r} ({created['id']}).")
    if failed:
        raise BatonError(f"{failed} automation(s) not created.")


@automation.command(epilog=AUTOMATION_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="AUTOMATION")
def pause(name_or_id: str) -> None:
    """Pause (turn off) an automation: its trigger stops counting events until it is resumed."""
    _set_enabled(name_or_id, enabled=False)


@automation.command(epilog=AUTOMATION_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="AUTOMATION")
def resume(name_or_id: str) -> None:
    """Resume (turn on) a paused automation: its trigger counts events again, from nothing."""
    _set_enabled(name_or_id, enabled=True)


def _set_enabled(name_or_id: str, *, enabled: bool) -> None:
    with api_client() as client:
        client.set_automation_enabled(client.read_automation(name_or_id)["id"], enabled)
    click.echo(f"{'Resumed' if enabled else 'Paused'} automation {name_or_id!r}.")


@delete_command(automation, "automation", epilog=AUTOMATION_ARGUMENT_HELP)
@click.argument("name_or_id", metavar="AUTOMATION")
def delete(client: BatonClient, name_or_id: str) -> None:
    """Delete an automation with its trigger state and history of firings."""
    client.delete_automation(client.read_automation(name_or_id)["id"])
