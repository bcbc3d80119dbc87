"""`baton artifact`: list, inspect and delete the artifacts flows published to the server at BATON_API_URL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell, echo_fields, echo_json, json_option, timestamp
from baton.cli.resource_commands import ls_command, yes_option
from baton.errors import ObjectNotFound

if TYPE_CHECKING:
    from baton.client import BatonClient


@click.group()
def artifact() -> None:
    """Inspect and delete artifacts: results flows publish (markdown, tables, links), versioned by key."""


def _artifact_cells(row: dict[str, Any], every_version: bool) -> list[str]:
    return [
        cell(row["key"]),
        cell(row["type"]),
        cell(row["description"]),
        timestamp(row["updated"]),
        str(row["id"] if every_version else row["latest_id"]),
    ]


@ls_command(artifact, "artifacts", ["KEY", "TYPE", "DESCRIPTION", "UPDATED (UTC)", "ID"], _artifact_cells)
@click.option("--all", "every_version", is_flag=True, help="List every version of every artifact, newest first.")
def list_(client: BatonClient, limit: int, every_version: bool) -> list[dict[str, Any]]:
    """List the latest version of each artifact key, or with --all every version (keyless ones too)."""
    return client.read_artifacts(limit=limit) if every_version else client.read_latest_artifacts(limit=limit)


def _fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Key", row["key"]),
        ("ID", row["id"]),
        ("Type", row["type"]),
        ("Description", row["description"]),
        ("Flow run", row["flow_run_id"]),
        ("Task run", row["task_run_id"]),
        ("Created (UTC)", timestamp(row["created"])),
        ("Updated (UTC)", timestamp(row["updated"])),
        ("Metadata", row["metadata_"]),
        ("Data", row["data"]),
    ]


@artifact.command()
@click.argument("key")
@json_option
def inspect(key: str, as_json: bool) -> None:
    """Print every version of the artifact with KEY, newest first, data included."""
    with api_client() as client:
        rows = client.read_artifacts(key=key)
    if not rows:
        raise ObjectNotFound(f"No artifact has the key {key!r}.")
    if as_json:
        echo_json(rows)
        return
    for index, row in enumerate(rows):
        if index:
            click.echo()
        echo_fields([("Version", f"{len(rows) - index} of {len(rows)}"), *_fields(row)])


@artifact.command()
@click.argument("key", required=False)
@click.option("--id", "artifact_id", type=click.UUID, default=None, help="Delete this one version instead of a key.")
@yes_option
def delete(key: str | None, artifact_id: uuid.UUID | None, yes: bool) -> None:
    """Delete every version of the artifact with KEY, or with --id ID one version."""
    if (key is None) == (artifact_id is None):
        raise click.UsageError("Give either an artifact KEY or --id ID.")
    with api_client() as client:
        if artifact_id is not None:
            if not yes:
                click.confirm(f"Delete artifact {artifact_id}?", abort=True)
            client.delete_artifact(str(artifact_id))
            click.echo(f"Deleted artifact {artifact_id}.")
            return
        assert key is not None
        count = client.count_artifacts(key=key)
        if count == 0:
            raise ObjectNotFound(f"No artifact has the key {key!r}.")
        if not yes:
            click.confirm(f"Delete {_versions(count)} of artifact {key!r}?", abort=True)
        deleted = client.delete_artifacts_by_key(key)
    click.echo(f"Deleted {_versions(deleted)} of artifact {key!r}.")


def _versions(count: int) -> str:
    return f"{count} version{'' if count == 1 else 's'}"
