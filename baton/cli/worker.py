"""`baton worker start`: poll a work pool and run its flow runs as local subprocesses or Docker containers."""

from __future__ import annotations

import socket
import uuid

import click

from baton.log_config import configure_logging
from baton.settings import Settings, load_settings


@click.group()
def worker() -> None:
    """Run a worker: a process that takes scheduled flow runs from a work pool and executes them."""


@worker.command()
@click.option("--pool", "-p", required=True, help="The work pool to take flow runs from; created if it does not exist.")
@click.option(
    "--type",
    "pool_type",
    type=click.Choice(["process", "docker"]),
    default="process",
    show_default=True,
    help="The kind of infrastructure runs are executed on: `process` runs each one as a local subprocess, `docker` "
    "in a container of the deployment's image (the Docker engine is the one DOCKER_HOST names, or the local one).",
)
@click.option(
    "--work-queue",
    "-q",
    "work_queues",
    multiple=True,
    help="Take runs only from this queue of the pool; repeat for several (default: every queue, by priority).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="The most flow runs to execute at once.")
@click.option("--name", "-n", default=None, help="The worker's name, shown in the pool's worker list.")
def start(pool: str, pool_type: str, work_queues: tuple[str, ...], limit: int | None, name: str | None) -> None:
    """Poll the work pool and run each flow run (as `python -m prefect.engine`, or in a container) until stopped
    (Ctrl+C or SIGTERM stops taking runs and stops those still going)."""
    from baton.client.base import configured_api_key
    from baton.worker.base import WorkerOptions
    from baton.worker.runner import run_worker

    settings = load_settings()
    configure_logging(settings.logging_level)
    options = WorkerOptions(
        pool=pool,
        name=name or f"BatonWorker-{socket.gethostname()}-{uuid.uuid4().hex[:6]}",
        api_url=_workspace_api_url(settings),
        api_key=configured_api_key(settings),
        work_queues=work_queues,
        limit=limit,
        pool_type=pool_type,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        query_seconds=settings.worker_query_seconds,
        prefetch_seconds=settings.worker_prefetch_seconds,
        cancellation_poll_seconds=settings.worker_cancellation_poll_seconds,
    )
    click.echo(
        f"Worker {options.name!r} started; polling work pool {pool!r} at {options.api_url}. Press Ctrl+C to stop."
    )
    run_worker(options)
    click.echo(f"Worker {options.name!r} stopped.")


def _workspace_api_url(settings: Settings) -> str:
    """The API URL the worker (and the flow runs it starts) talk to: BATON_API_URL, under the BATON_WORKSPACE
    workspace's path when one is set (looked up once, at start)."""
    from baton.client import BatonClient
    from baton.client.base import configured_api_key, default_api_url

    api_url = default_api_url(settings).rstrip("/")
    if not (settings.workspace or "").strip():
        return api_url
    with BatonClient(api_url=api_url, api_key=configured_api_key(settings), workspace=settings.workspace) as client:
        return f"{api_url}/{client.workspace_prefix().rstrip('/')}"
