"""`baton server`: start the API server and manage the database schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import click

from baton.log_config import configure_logging
from baton.queue.names import QUEUES
from baton.settings import Settings, load_settings

if TYPE_CHECKING:
    from baton.server.database.engine import Database

T = TypeVar("T")
LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False)
# What `baton server services` runs: Dramatiq's command line calls this function in each worker process to build
# the broker, with every actor declared on it (importing `baton.actors` does nothing by itself).
DRAMATIQ_ENTRY_POINT = "baton.actors:services_broker"
# How often an idle actor thread of `baton server services` wakes up, in ms: the longest it takes to notice SIGTERM.
# Idle consumers do not follow it (they wait on their queues' bells, see baton.queue.doorbell).
SERVICES_WORKER_TIMEOUT_MS = 100


@click.group()
def server() -> None:
    """Start the Baton server and manage its database."""


@server.command()
@click.option("--host", default=None, help="The address to listen on (default: BATON_SERVER_API_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="The port to listen on (default: BATON_SERVER_API_PORT, 4200).")
@click.option("--ui/--no-ui", default=None, help="Serve the web UI as well as the API (default: on).")
@click.option("--log-level", type=LOG_LEVELS, default=None, help="How much to log (default: BATON_LOGGING_LEVEL).")
def start(host: str | None, port: int | None, ui: bool | None, log_level: str | None) -> None:
    """Serve the API and the web UI until interrupted (Ctrl+C or SIGTERM), migrating the database first."""
    from baton.server.listen_address import check_listen_address
    from baton.server.serve import serve

    settings = load_settings()
    configure_logging(log_level or settings.logging_level)
    host = host if host is not None else settings.server_api_host
    port = port if port is not None else settings.server_api_port
    serve_ui = settings.server_ui_enabled if ui is None else ui
    warning = check_listen_address(settings, host)

    def announce(listen_url: str) -> None:
        base_url = listen_url + settings.server_base_path
        if warning:
            click.secho(warning, fg="red", bold=True)
        click.echo(f"Baton is running. API: {base_url}/api", err=False)
        if serve_ui:
            click.echo(f"Web UI: {base_url}/")
        click.echo("Press Ctrl+C to stop.")

    run_event_loop(serve(settings, host=host, port=port, ui=serve_ui, on_ready=announce))


@server.command()
@click.option("--processes", "-p", type=click.IntRange(min=1), default=2, show_default=True, help="Worker processes.")
@click.option(
    "--threads", "-t", type=click.IntRange(min=1), default=4, show_default=True, help="Actor threads per process."
)
@click.option(
    "--queues",
    "-Q",
    multiple=True,
    type=click.Choice(QUEUES),
    help="Consume only these queues (repeat the option; default: all).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    default=None,
    help="Serve the actors' Prometheus metrics (all processes together) on this port; 0 serves none (default: "
    "BATON_SERVICES_METRICS_PORT, 0).",
)
@click.option("--log-level", type=LOG_LEVELS, default=None, help="How much to log (default: BATON_LOGGING_LEVEL).")
def services(
    processes: int, threads: int, queues: tuple[str, ...], metrics_port: int | None, log_level: str | None
) -> None:
    """Run Baton's actors (event recording, periodic jobs) and the beat against Redis, until SIGTERM.

    The same as `dramatiq baton.actors:services_broker`. Needs BATON_REDIS_URL; without Redis, `baton server start`
    runs the actors in its own process.
    """
    import os
    import sys

    from baton.errors import SettingsError
    from baton.queue.broker import check_reachable, make_broker

    if metrics_port is not None:
        # The worker processes and the metrics process load the settings again: the environment carries the port.
        os.environ["BATON_SERVICES_METRICS_PORT"] = str(metrics_port)
    settings = load_settings()
    if not settings.redis_url:
        raise SettingsError(
            "`baton server services` needs Redis: set BATON_REDIS_URL (e.g. redis://127.0.0.1:6379/0). Without it, "
            "`baton server start` runs the actors in its own process."
        )
    if settings.services_metrics_port:
        from baton.queue.services_metrics import check_metrics_address

        check_metrics_address(settings)
    check_reachable(make_broker(settings), settings.redis_url)
    asyncio.run(_wait_for_schema(settings))
    level = log_level or settings.logging_level
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        DRAMATIQ_ENTRY_POINT,
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    if queues:
        command += ["--queues", *queues]
    if level.upper() == "DEBUG":
        command.append("--verbose")
    if settings.services_metrics_port:
        from baton.queue import services_metrics

        directory = services_metrics.prepare_multiprocess_directory(settings)
        os.environ[services_metrics.MULTIPROCESS_DIRECTORY_VARIABLE] = str(directory)
        command += ["--fork-function", services_metrics.FORK_FUNCTION]
    click.echo(f"Baton services: {processes} processes x {threads} threads, queues: {', '.join(queues or QUEUES)}")
    sys.stdout.flush()
    # Dramatiq supervises the worker processes: SIGTERM lets each finish the message in hand, then exits 0. Its
    # worker threads notice the stop at their next wake-up, every `dramatiq_worker_timeout` ms (1 s by default; read
    # by dramatiq.worker when it is imported, hence the environment).
    os.environ.setdefault("dramatiq_worker_timeout", str(SERVICES_WORKER_TIMEOUT_MS))
    os.execv(sys.executable, command)


async def _wait_for_schema(settings: Settings) -> None:
    """The actors need the newest schema and leave migrating to `baton server start` or `baton server database
    upgrade`; started beside those, the services wait for it (`services_schema_wait_seconds`) instead of failing
    every job until it is there."""
    from baton.errors import BatonError
    from baton.server.database import migrate
    from baton.server.database.engine import Database

    database = Database.from_settings(settings)
    await database.open()
    try:
        if await migrate.is_current(database):
            return
        wait = settings.services_schema_wait_seconds
        click.echo(f"Waiting up to {wait:g} s for the database schema to be upgraded...", err=True)
        if not await migrate.wait_until_current(database, wait):
            revision = await migrate.current_revision(database)
            raise BatonError(
                f"The database schema is at revision {revision or 'none (empty database)'}, not the newest. Run "
                "`baton server database upgrade -y` (`baton server start` does it too, by default), then start the "
                "services."
            )
    finally:
        await database.dispose()


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop where it is installed (Linux, macOS), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


@server.group()
def database() -> None:
    """Create, upgrade, downgrade and reset the database schema."""


def _with_database(operation: Callable[[Database], Awaitable[T]], settings: Settings) -> T:
    from baton.server.database.engine import Database

    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            return await operation(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _describe(settings: Settings) -> str:
    return str(settings.display_values()["BATON_API_DATABASE_CONNECTION_URL"])


@database.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("-r", "--revision", default="head", show_default=True, help="The revision to upgrade to.")
@click.option("--dry-run", is_flag=True, help="Print the SQL instead of running it.")
def upgrade(yes: bool, revision: str, dry_run: bool) -> None:
    """Apply migrations up to a revision (the newest by default)."""
    from baton.server.database import migrate

    settings = load_settings()
    if dry_run:
        current = _with_database(migrate.current_revision, settings)
        click.echo(migrate.dry_run_sql(settings.database_url, "upgrade", current, revision))
        return
    if not yes:
        click.confirm(f"Upgrade the database {_describe(settings)} to {revision}?", abort=True)
    _with_database(lambda db: migrate.upgrade(db, revision), settings)
    now = _with_database(migrate.current_revision, settings)
    click.echo(f"Database upgraded; it is now at revision {now}.")


@database.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "-r", "--revision", default="-1", show_default=True, help="The revision to go back to: an id, -N or base."
)
@click.option("--dry-run", is_flag=True, help="Print the SQL instead of running it.")
def downgrade(yes: bool, revision: str, dry_run: bool) -> None:
    """Revert migrations, one step by default; `-r base` removes the whole schema and its data."""
    from baton.errors import MigrationError
    from baton.server.database import migrate

    settings = load_settings()
    current = _with_database(migrate.current_revision, settings)
    if current is None:
        raise MigrationError("The database has no Baton schema to downgrade.")
    if dry_run:
        target = migrate.resolve_downgrade_target(current, revision)
        click.echo(migrate.dry_run_sql(settings.database_url, "downgrade", current, target))
        return
    if not yes:
        click.confirm(
            f"Downgrade the database {_describe(settings)} from {current} to {revision}? "
            "Data in removed tables is lost.",
            abort=True,
        )
    _with_database(lambda db: migrate.downgrade(db, revision), settings)
    now = _with_database(migrate.current_revision, settings)
    click.echo(f"Database downgraded; it is now at revision {now or 'base (no schema)'}.")


@database.command()
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Drop every table and all data, then create the schema again from scratch."""
    from baton.server.database import migrate

    settings = load_settings()
    if not yes:
        click.confirm(f"Drop ALL data in {_describe(settings)} and recreate the schema?", abort=True)
    _with_database(migrate.reset, settings)
    click.echo("Database reset; the schema is at the newest revision and every table is empty.")


@database.command()
def current() -> None:
    """Print the revision the database is at."""
    from baton.server.database import migrate

    settings = load_settings()
    revision = _with_database(migrate.current_revision, settings)
    head = migrate.head_revision()
    if revision is None:
        click.echo("The database has no Baton schema yet (run `baton server database upgrade`).")
    else:
        click.echo(f"{revision}{' (head)' if revision == head else f' (newest is {head})'}")


@database.command()
def history() -> None:
    """List every migration, newest first."""
    from baton.server.database import migrate

    for item in migrate.history():
        marker = " (head)" if item.is_head else ""
        click.echo(f"{item.down_revision or 'base'} -> {item.revision}{marker}: {item.doc}")


@database.command()
@click.option("--dry-run", is_flag=True, help="Count the rows past their retention and delete nothing.")
def prune(dry_run: bool) -> None:
    """Delete the data past its retention now (one pass, as the periodic job does) and print how many rows of each
    kind it deleted, or with --dry-run would delete."""
    from baton.cli.local_database import on_database
    from baton.cli.output import echo_table
    from baton.server.models.retention import count_expired, prune_expired, retention_days

    settings = load_settings()
    days = retention_days(settings)
    if dry_run:
        pruned = on_database(lambda db: count_expired(db, days))
    else:
        pruned = on_database(
            lambda db: prune_expired(
                db,
                days,
                batch_size=settings.services_retention_batch_size,
                max_batches=settings.services_retention_max_batches,
            )
        )
    rows = [
        (
            kind.kind.name,
            f"{kind.days} days" if kind.days else "forever",
            f"{kind.rows}{'' if kind.complete else ' (more left)'}" if kind.days else "-",
            kind.kind.description,
        )
        for kind in pruned
    ]
    echo_table(["KIND", "KEPT", "WOULD DELETE" if dry_run else "DELETED", "WHAT"], rows, empty="")
    if dry_run:
        click.echo("Dry run: nothing was deleted.")
    elif not all(kind.complete for kind in pruned):
        click.echo("The pass stopped at its cap (BATON_SERVICES_RETENTION_MAX_BATCHES); run it again for the rest.")
