"""Running the API server: migrate, listen, serve, and shut down cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable

import tornado.httpserver

from baton.errors import BatonError
from baton.server.app import make_app
from baton.server.blocks import register_system_blocks
from baton.server.context import ServerContext
from baton.server.database import migrate
from baton.server.database.engine import Database

logger = logging.getLogger("baton.server")

# How long in-flight requests may take to finish after a shutdown signal before connections are closed.
SHUTDOWN_GRACE_SECONDS = 10.0


class PortInUse(BatonError):
    """The address the server should listen on is taken."""


async def prepare_database(settings: object) -> Database:
    """Open the database and bring its schema to head when the settings say so; refuse an unknown revision."""
    database = Database.from_settings(settings)
    await database.open()
    try:
        if not await migrate.is_current(database):
            revision = await migrate.check_known_revision(database)
            if settings.api_database_migrate_on_start:
                await migrate.upgrade(database)
            else:
                raise BatonError(
                    f"The database schema is at revision {revision or 'none (empty database)'}, not the newest. "
                    "Run `baton server database upgrade -y`, or set BATON_API_DATABASE_MIGRATE_ON_START=true."
                )
    except BaseException:
        await database.dispose()
        raise
    return database


async def serve(
    settings: object,
    *,
    host: str,
    port: int,
    ui: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop accepting, let in-flight requests finish, and close everything."""
    started = time.monotonic()
    database = await prepare_database(settings)
    try:
        await register_system_blocks(database)
    except BaseException:
        await database.dispose()
        raise
    context = ServerContext(settings=settings, database=database)
    app = make_app(context, ui=ui)
    server = tornado.httpserver.HTTPServer(
        app, max_body_size=settings.server_api_max_body_bytes, idle_connection_timeout=75
    )
    try:
        server.listen(port, host)
    except OSError as exc:
        await database.dispose()
        raise PortInUse(f"Cannot listen on {host}:{port}: {exc.strerror}. Is another server running there?") from exc

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    base_url = f"http://{host}:{port}"
    logger.info("Baton started in %.2f s", time.monotonic() - started)
    if on_ready is not None:
        on_ready(base_url)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        server.stop()
        await context.wait_until_idle(SHUTDOWN_GRACE_SECONDS)
        await server.close_all_connections()
        await database.dispose()
        logger.info("Baton stopped")
