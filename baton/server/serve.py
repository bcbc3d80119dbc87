"""Running the API server: migrate, listen, serve, and shut down cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import tornado.httpserver

from baton.errors import BatonError
from baton.gc_tuning import tune_garbage_collector
from baton.queue.publisher import Publisher
from baton.server.app import make_app
from baton.server.auth.direct import bootstrap_admin
from baton.server.blocks import register_system_blocks
from baton.server.context import ServerContext
from baton.server.database import migrate
from baton.server.database.engine import Database
from baton.server.database.workspace_stores import read_workspace_ids
from baton.server.listen_address import check_listen_address

if TYPE_CHECKING:
    from baton.actors.setup import EmbeddedServices
    from baton.settings import Settings

logger = logging.getLogger("baton.server")
# Request line and headers together: Tornado closes the connection without an answer past this, so it is set well
# above the longest URL the API answers (api/base.py MAX_URL_CHARS, a 414 beyond it).
MAX_HEADER_BYTES = 1024 * 1024

# How long in-flight requests may take to finish after a shutdown signal before connections are closed.
SHUTDOWN_GRACE_SECONDS = 10.0


class PortInUse(BatonError):
    """The address the server should listen on is taken."""


async def prepare_database(settings: Settings) -> Database:
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


class ServerQueue:
    """The queue side of one server process: its publisher and, in embedded mode, the actors and the beat."""

    def __init__(self, publisher: Publisher, embedded: EmbeddedServices | None) -> None:
        self.publisher = publisher
        self.embedded = embedded

    async def stop(self) -> None:
        """Send what is buffered; in embedded mode, let the actors finish the queued work."""
        await self.publisher.close()
        if self.embedded is not None:
            await self.embedded.stop(SHUTDOWN_GRACE_SECONDS)


def start_queue(settings: Settings, database: Database) -> ServerQueue:
    """With `BATON_REDIS_URL`: a publisher to Redis (checked reachable); the actors run in `baton server services`.
    Without: an in-memory broker with the actors and the beat running inside this process."""
    if settings.redis_url:
        from baton.queue.broker import check_reachable, make_broker

        broker = make_broker(settings)
        check_reachable(broker, settings.redis_url)
        return ServerQueue(Publisher.from_settings(broker, settings), None)
    # Only here: an API-only process has no use for the actors' modules.
    from baton.actors.setup import EmbeddedServices

    embedded = EmbeddedServices(settings, database)
    embedded.start()
    return ServerQueue(Publisher.from_settings(embedded.broker, settings), embedded)


async def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    ui: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then stop accepting, let in-flight requests finish, and close everything.
    Refuses a network address with authentication off (see baton.server.listen_address)."""
    warning = check_listen_address(settings, host)
    if warning:
        logger.warning("%s", warning)
    started = time.monotonic()
    database = await prepare_database(settings)
    try:
        await register_system_blocks(database)
        for workspace_id in await read_workspace_ids(database):
            await register_system_blocks(database.for_workspace(workspace_id))
        key = settings.auth_bootstrap_admin_key
        await bootstrap_admin(database, key.get_secret_value() if key is not None else None)
    except BaseException:
        await database.dispose()
        raise
    try:
        queue = start_queue(settings, database)
    except BaseException:
        await database.dispose()
        raise
    context = ServerContext(settings=settings, database=database, publisher=queue.publisher)
    app = make_app(context, ui=ui, bound_host=host)
    server = tornado.httpserver.HTTPServer(
        app,
        max_body_size=settings.server_api_max_body_bytes,
        max_header_size=MAX_HEADER_BYTES,
        idle_connection_timeout=75,
    )
    try:
        server.listen(port, host)
    except OSError as exc:
        await queue.stop()
        await database.dispose()
        raise PortInUse(f"Cannot listen on {host}:{port}: {exc.strerror}. Is another server running there?") from exc

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    base_url = f"http://{host}:{port}"
    tune_garbage_collector()
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
        await context.close()
        await queue.stop()
        await database.dispose()
        logger.info("Baton stopped")
