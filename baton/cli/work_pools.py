"""`baton work-pool`: create, list, inspect, pause, resume and delete work pools."""

from __future__ import annotations

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


@work_pool.command("ls")
@limit_option("work pools")
@json_option
def list_(limit: int, as_json: bool) -> None:
    """List work pools with their type, status and concurrency limit."""
    with api_client() as client:
        rows = client.read_work_pools(limit=limit)
    if as_json:
        echo_json(rows)
        return
    table = [
        [
            row["name"],
            row["type"],
            row["status"] or "-",
            "-" if row["concurrency_limit"] is None else f"{row['active_slots']}/{row['concurrency_limit']}",
            cell(row["description"]),
        ]
        for row in rows
    ]
    echo_table(["NAME", "TYPE", "STATUS", "RUNS/LIMIT", "DESCRIPTION"], table, empty="No work pools.")
    echo_more_hint(len(rows), limit, "work pools")


@work_pool.command()
@click.argument("name")
@json_option
def inspect(name: str, as_json: bool) -> None:
    """Print a work pool with its queues and workers."""
    with api_client() as client:
        row = client.read_work_pool(name)
        queues = client.read_work_queues(name)
        workers = client.read_workers(name)
    if as_json:
        echo_json({**row, "queues": queues, "workers": workers})
        return
    echo_fields(
        [
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
                    f"{queue['priority']}. {queue['name']} ({queue['status']}"
                    f"{', paused' if queue['is_paused'] else ''})"
                    for queue in queues
                ),
            ),
            (
                "Workers",
                "\n".join(
                    f"{worker['name']} {worker['status']}, last heartbeat {timestamp(worker['last_heartbeat_time'])}"
                    for worker in workers
                )
                or None,
            ),
        ]
    )


@work_pool.command()
@click.argument("name")
def pause(name: str) -> None:
    """Pause a work pool: workers get no more of its runs until it is resumed."""
    with api_client() as client:
        client.update_work_pool(name, is_paused=True)
    click.echo(f"Paused work pool {name!r}.")


@work_pool.command()
@click.argument("name")
def resume(name: str) -> None:
    """Resume a paused work pool: workers get its runs again."""
    with api_client() as client:
        client.update_work_pool(name, is_paused=False)
    click.echo(f"Resumed work pool {name!r}.")


@work_pool.command()
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, yes: bool) -> None:
    """Delete a work pool with its queues and workers; its deployments and runs stay, without a pool."""
    if not yes:
        click.confirm(f"Delete work pool {name!r}?", abort=True)
    with api_client() as client:
        client.delete_work_pool(name)
    click.echo(f"Deleted work pool {name!r}.")
