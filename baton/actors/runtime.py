"""`ActorRuntime`: what the actors of one process share: the settings, the broker, the database, an HTTP client, the
block cipher, and the event loop their coroutines run on.

The services entry point (`baton.actors:services_broker`) makes one per worker process; its database is opened on
the actors' own loop on first use. In embedded mode the server makes one with its own database and loop, so actors
and handlers share one pool and, on SQLite, one in-process write lock. Each actor function takes the runtime as its
first argument (`baton.actors.setup.declare_actors` binds it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.middleware import Interrupt

from baton.actors.quiet import QuietWorkspaces
from baton.queue import messages
from baton.server.blocks.encryption import BlockCipher
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.database.write_lock import mark_actor_task

if TYPE_CHECKING:
    import httpx

    from baton.settings import Settings

# Outgoing requests (notifications) time out after this many seconds.
HTTP_TIMEOUT_SECONDS = 10.0
# A worker thread waiting on an actor's coroutine wakes up this often, so that Dramatiq can interrupt it (a time
# limit): an exception raised in a thread from another one only lands while the thread runs Python code.
INTERRUPT_CHECK_SECONDS = 0.1

#: An actor's coroutine function; a periodic job's may return `NothingDue` (`baton.actors.quiet`).
ActorFunction = Callable[..., Coroutine[Any, Any, object]]

logger = logging.getLogger("baton.actors")


class ActorLoopStopped(RuntimeError):
    """The actors' event loop is not running (not started yet, or stopping); the message is retried."""


class ActorRuntime:
    """The actors' shared resources in one process; `database` None means "open one from the settings when first
    needed" (and close it in `close`). It serves the default workspace; `in_workspace` gives the runtime an actor
    gets for a message of another workspace."""

    #: The workspace this runtime's actors work in (None: the default workspace).
    workspace_id: uuid.UUID | None = None
    #: Where periodic jobs found nothing to do, when this process sees every write (the embedded server); None:
    #: every job visits every workspace at every period.
    quiet: QuietWorkspaces | None = None

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
        self._workspace_runtimes: dict[uuid.UUID, WorkspaceRuntime] = {}
        self._workspaces: Any = None

    def in_workspace(self, workspace_id: uuid.UUID | None) -> ActorRuntime:
        """The runtime for actors working in workspace `workspace_id` (None: this one), made once and kept: its
        database is that workspace's store and every message it sends is for that workspace."""
        if workspace_id is None:
            return self
        runtime = self._workspace_runtimes.get(workspace_id)
        if runtime is None:
            runtime = self._workspace_runtimes[workspace_id] = WorkspaceRuntime(self, workspace_id)
        return runtime

    @property
    def process_broker(self) -> dramatiq.Broker:
        """The process's broker (a workspace's runtime sends through a view of it that marks its messages)."""
        return self.broker

    async def workspace_exists(self, workspace_id: uuid.UUID) -> bool:
        """Whether workspace `workspace_id` exists (read with the workspaces' short cache): a message for a deleted
        workspace is dropped, not retried against a store that is gone."""
        from baton.server.workspaces import WorkspaceDirectory

        if self._workspaces is None:
            self._workspaces = WorkspaceDirectory(await self.database())
        return bool(await self._workspaces.exists(workspace_id))

    async def workspace_ids(self) -> list[uuid.UUID]:
        """Every workspace but the default one (the periodic jobs run in each)."""
        from baton.server.models.workspaces import read_workspace_ids

        async with (await self.database()).read() as connection:
            return await read_workspace_ids(connection)

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

    def run(
        self,
        function: ActorFunction,
        args: tuple[Any, ...],
        workspace: str | None = None,
        fan_out: FanOut | None = None,
    ) -> None:
        """Run `function(runtime, *args)` (the runtime of `workspace`, an id; None: the default) to completion on the
        actors' loop, from a Dramatiq worker thread, having first sent `fan_out` (a periodic job's message) for every
        other workspace; raises what it raises, and ActorLoopStopped when the loop is not running. The loop is
        checked before the coroutine is created, so a message that arrives while the loop stops fails (and is
        retried) instead of leaving a coroutine that never runs. When Dramatiq interrupts the thread (a time limit),
        the coroutine is cancelled."""
        loop = self.loop
        if loop is None or not loop.is_running():
            raise ActorLoopStopped(f"The actors' event loop is not running; {function.__name__} will be retried")
        future = asyncio.run_coroutine_threadsafe(self._as_actor(function, args, workspace, fan_out), loop)
        done = threading.Event()
        future.add_done_callback(lambda _: done.set())
        try:
            while not done.wait(INTERRUPT_CHECK_SECONDS):
                pass
        except Interrupt:
            future.cancel()  # cancels the task on the loop too
            raise
        future.result()

    async def _as_actor(
        self,
        function: ActorFunction,
        args: tuple[Any, ...],
        workspace: str | None,
        fan_out: FanOut | None,
    ) -> None:
        """Run an actor's coroutine in a task whose writes go ahead of request handlers' (one writer, embedded
        mode), with the runtime of the message's workspace; a message for a workspace deleted since is dropped. What
        a workspace's pass returns goes to `quiet`, with the change mark from before it began."""
        mark_actor_task()
        if fan_out is not None:
            await self.fan_out(fan_out.message, fan_out.spread_seconds)
        if workspace is None:
            await function(self, *args)
            return
        workspace_id = uuid.UUID(workspace)
        if not await self.workspace_exists(workspace_id):
            logger.info("Dropped a %s message for workspace %s, which no longer exists", function.__name__, workspace)
            return
        quiet = self.quiet
        mark = quiet.mark(workspace_id) if quiet is not None else 0
        outcome = await function(self.in_workspace(workspace_id), *args)
        if quiet is not None:
            quiet.record(function.__name__, workspace_id, mark, outcome)

    async def fan_out(self, message: dramatiq.Message[Any], spread_seconds: float = 0.0) -> None:
        """Send `message` (a periodic job's, for the default workspace) once for every other workspace where the job
        is not quiet (`quiet`), the first at once and the others delayed evenly over `spread_seconds`."""
        workspace_ids = await self.workspace_ids()
        step_ms = spread_seconds * 1000 / len(workspace_ids) if workspace_ids else 0
        now = utcnow()
        for index, workspace_id in enumerate(workspace_ids):
            if self.quiet is not None and self.quiet.is_quiet(message.actor_name, workspace_id, now):
                continue
            delay = int(index * step_ms) or None
            self.broker.enqueue(messages.in_workspace(message, workspace_id), delay=delay)


@dataclass(frozen=True)
class FanOut:
    """A periodic job's message to send on to every workspace, spread over `spread_seconds`."""

    message: dramatiq.Message[Any]
    spread_seconds: float


class WorkspaceBroker:
    """A broker whose `enqueue` sends messages for one workspace; everything else is the process's broker's."""

    def __init__(self, broker: dramatiq.Broker, workspace_id: uuid.UUID) -> None:
        self._broker = broker
        self.workspace_id = workspace_id

    @property
    def process_broker(self) -> dramatiq.Broker:
        """The process's broker itself (for what asks which broker it is, such as the backlog's measure)."""
        return self._broker

    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> dramatiq.Message[Any]:
        return self._broker.enqueue(messages.in_workspace(message, self.workspace_id), delay=delay)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)


class WorkspaceRuntime(ActorRuntime):
    """The actor runtime of one workspace: the process runtime's loop, HTTP client and cipher, the workspace's store
    as its database, and a broker that keeps the messages it sends in the workspace."""

    def __init__(self, parent: ActorRuntime, workspace_id: uuid.UUID) -> None:
        super().__init__(parent.settings, WorkspaceBroker(parent.broker, workspace_id))  # type: ignore[arg-type]
        self.parent = parent
        self.workspace_id = workspace_id

    @property  # type: ignore[override]
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self.parent.loop

    @loop.setter
    def loop(self, value: asyncio.AbstractEventLoop | None) -> None:
        """The loop is the process runtime's (ActorRuntime.__init__ assigns it)."""

    @property
    def process_broker(self) -> dramatiq.Broker:
        return self.parent.process_broker

    def cipher(self) -> BlockCipher:
        return self.parent.cipher()

    async def database(self) -> Database:
        return (await self.parent.database()).for_workspace(self.workspace_id)

    async def http_client(self) -> httpx.AsyncClient:
        return await self.parent.http_client()

    def in_workspace(self, workspace_id: uuid.UUID | None) -> ActorRuntime:
        return self.parent.in_workspace(workspace_id)

    async def close(self) -> None:
        """Nothing of its own to close: the process runtime closes what they share."""
