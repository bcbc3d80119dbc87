"""`ActorRuntime`: what the actors of one process share: the settings, the broker, the database, an HTTP client, the
block cipher, and the event loop their coroutines run on.

The services entry point (`baton.actors:services_broker`) makes one per worker process; its database is opened on
the actors' own loop on first use. In embedded mode the server makes one with its own database and loop, so actors
and handlers share one pool and, on SQLite, one in-process write lock. Each actor function takes the runtime as its
first argument (`baton.actors.setup.declare_actors` binds it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.middleware import Interrupt

from baton.server.blocks.encryption import BlockCipher
from baton.server.database.engine import Database
from baton.server.database.write_lock import mark_actor_task

if TYPE_CHECKING:
    import httpx

    from baton.settings import Settings

# Outgoing requests (notifications) time out after this many seconds.
HTTP_TIMEOUT_SECONDS = 10.0
# A worker thread waiting on an actor's coroutine wakes up this often, so that Dramatiq can interrupt it (a time
# limit): an exception raised in a thread from another one only lands while the thread runs Python code.
INTERRUPT_CHECK_SECONDS = 0.1

ActorFunction = Callable[..., Coroutine[Any, Any, None]]


class ActorLoopStopped(RuntimeError):
    """The actors' event loop is not running (not started yet, or stopping); the message is retried."""


class ActorRuntime:
    """The actors' shared resources in one process; `database` None means "open one from the settings when first
    needed" (and close it in `close`)."""

    def __init__(self, settings: Settings, broker: dramatiq.Broker, database: Database | None = None) -> None:
        self.settings = settings
        self.broker = broker
        #: The loop actor coroutines run on: set by whoever runs the actors, None while they are not running.
        self.loop: asyncio.AbstractEventLoop | None = None
        self._database = database
        self._owns_database = False
        # Two actors starting at once must not both open a database (one would never be closed).
        self._opening = asyncio.Lock()
        self._http: httpx.AsyncClient | None = None
        self._cipher: BlockCipher | None = None

    def cipher(self) -> BlockCipher:
        """The block-document cipher: it reads the encryption key once, not on every delivery."""
        if self._cipher is None:
            self._cipher = BlockCipher(self.settings.server_encryption_key)
        return self._cipher

    async def database(self) -> Database:
        """The database actors write to (opened on the calling event loop the first time)."""
        if self._database is not None:
            return self._database
        async with self._opening:
            if self._database is None:
                database = Database.from_settings(self.settings)
                await database.open()
                self._database, self._owns_database = database, True
        return self._database

    async def http_client(self) -> httpx.AsyncClient:
        """One HTTP client for the actors (created on the actors' loop the first time). Building a client costs far
        more CPU than a notification's request (its TLS context), and a shared one keeps connections to the services
        alive between messages."""
        if self._http is None:
            from baton.notifications.http import make_http_client

            self._http = make_http_client(HTTP_TIMEOUT_SECONDS)
        return self._http

    async def close(self) -> None:
        """Close the HTTP client, and a database the runtime opened itself (not one it was handed)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._database is not None and self._owns_database:
            await self._database.dispose()
            self._database, self._owns_database = None, False

    def run(self, function: ActorFunction, args: tuple[Any, ...]) -> None:
        """Run `function(self, *args)` to completion on the actors' loop, from a Dramatiq worker thread; raises what
        it raises, and ActorLoopStopped when the loop is not running. The loop is checked before the coroutine is
        created, so a message that arrives while the loop stops fails (and is retried) instead of leaving a coroutine
        that never runs. When Dramatiq interrupts the thread (a time limit), the coroutine is cancelled."""
        loop = self.loop
        if loop is None or not loop.is_running():
            raise ActorLoopStopped(f"The actors' event loop is not running; {function.__name__} will be retried")
        future = asyncio.run_coroutine_threadsafe(self._as_actor(function, args), loop)
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        try:
            while not done.wait(INTERRUPT_CHECK_SECONDS):
                pass
        except Interrupt:
            future.cancel()  # cancels the task on the loop too
            raise
        future.result()

    async def _as_actor(self, function: ActorFunction, args: tuple[Any, ...]) -> None:
        """Run an actor's coroutine in a task whose writes go ahead of request handlers' (one writer, embedded
        mode)."""
        mark_actor_task()
        await function(self, *args)
