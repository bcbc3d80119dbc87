"""`baton work-pool`: create, list, inspect, pause, resume and delete work pools."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import api_client, cell, timestamp
from baton.cli.resource_commands import delete_command, inspect_command, ls_command

if TYPE_CHECKING:
    from baton.client import BatonClient


@click.group("work-pool")
def work_pool() -> None:
    """Manage work pools: where deployments send their runs and workers pick them up."""


@work_pool.command()
@click.argument("name")
@click.option("--type", "pool_type", default="process", show_default=True, help="The kind of worker that serves it.")
@click.option("--description", default=None, help="What the pool is for.")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="The most runs of the pool running at once.")
@click.option("--paused", is_flag=True, help="Create the pool paused: its runs wait until it is resumed.")
def create(name: str, pool_type: str, description: str | None, limit: int | None, paused: bool) -> None:
    """Create a work pool, with a queue called `default`."""
    with api_client() as client:
        client.create_work_pool(name, pool_type, description=description, concurrency_limit=limit, is_paused=paused)
    click.echo(
        f"Created work pool {name!r} of type {pool_type!r}. Start a worker with `baton worker start --pool {name}`."
    )


def _pool_cells(row: dict[str, Any]) -> list[str]:
    return [
        row["name"],
        row["type"],
        row["status"] or "-",
        "-" if row["concurrency_limit"] is None else f"{row['active_slots']}/{row['concurrency_limit']}",
        cell(row["description"]),
    ]


@ls_command(work_pool, "work pools", ["NAME", "TYPE", "STATUS", "RUNS/LIMIT", "DESCRIPTION"], _pool_cells)
def list_(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List work pools with their type, status and concurrency limit."""
    return client.read_work_pools(limit=limit)


def _pool_fields(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Name", row["name"]),
        ("Type", row["type"]),
        ("Status", row["status"]),
        ("Paused", "yes" if row["is_paused"] else "no"),
        ("Concurrency limit", row["concurrency_limit"]),
        ("Running now", row["active_slots"]),
        ("Description", row["description"]),
        ("ID", row["id"]),
        ("Created (UTC)", timestamp(row["created"])),
        (
            "Queues",
            "\n".join(
                f"{queue['priority']}. {queue['name']} ({queue['status']}{', paused' if queue['is_paused'] else ''})"
                for queue in row["queues"]
            ),
        ),
        (
            "Workers",
            "\n".join(
                f"{worker['name']} {worker['status']}, last heartbeat {timestamp(worker['last_heartbeat_time'])}"
                for worker in row["workers"]
            )
            or None,
        ),
    ]


@inspect_command(work_pool, _pool_fields)
@click.argument("name")
def inspect(client: BatonClient, name: str) -> dict[str, Any]:
    """Print a work pool with its queues and workers."""
    row = client.read_work_pool(name)
    return {**row, "queues": client.read_work_queues(name), "workers": client.read_workers(name)}


@work_pool.command()
@click.argument("name")
def pause(name: str) -> None:
    """Pause a work pool: workers get no more of its runs until it is resumed."""
    _set_paused(name, paused=True)


@work_pool.command()
@click.argument("name")
def resume(name: str) -> None:
    """Resume a paused work pool: workers get its runs again."""
    _set_paused(name, paused=False)


def _set_paused(name: str, *, paused: bool) -> None:
    with api_client() as client:
        client.update_work_pool(name, is_paused=paused)
    click.echo(f"{'Paused' if paused else 'Resumed'} work pool {name!r}.")


@delete_command(work_pool, "work pool")
@click.argument("name")
def delete(client: BatonClient, name: str) -> None:
    """Delete a work pool with its queues and workers; its deployments and runs stay, without a pool."""
    client.delete_work_pool(name)
