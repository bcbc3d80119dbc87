"""What every handler of one server process shares: settings, the database, the event publisher, and the state the
process keeps for them (the lease batcher, the live event and log streams, the events' `received` clock)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from baton.queue import messages
from baton.queue.background_tasks import TaskQueue, make_task_queue
from baton.queue.messages import QueuedEvent
from baton.server.auth.access import AccessControl
from baton.server.auth.audit_log import AuditLog
from baton.server.auth.sign_in import SignInGuard
from baton.server.auth.sso.refusal import is_configured
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.workspace_publisher import WorkspacePublisher
from baton.server.workspaces import WorkspaceDirectory

if TYPE_CHECKING:
    # Imported where first used: a process loads the streams, the lease batcher and the metrics (and the models and
    # schemas they use) only when a request needs them.
    from baton.server.events_stream import EventStream
    from baton.server.lease_batcher import LeaseBatcher
    from baton.server.logs_stream import LogStream
    from baton.server.metrics.exposition import ServerMetrics


class ReceivedClock:
    """Now as the `received` stamp of an event (ISO-8601, UTC). Calls within the same millisecond share one stamp:
    formatting the time for every frame showed in the events socket's CPU under load."""

    def __init__(self) -> None:
        self._stamp: tuple[int, str] = (0, "")

    def now(self) -> str:
        millisecond = time.time_ns() // 1_000_000
        if self._stamp[0] != millisecond:
            self._stamp = (millisecond, utcnow().isoformat())
        return self._stamp[1]


@dataclass
class ServerContext:
    """Built once by the server at start, passed to every handler; tests build their own.

    The context the server builds serves the default workspace; `for_workspace` gives the context of another, whose
    `database` is that workspace's unit of work and which shares everything that is not per workspace (access,
    audit log, metrics, the request count) with the server's.
    """

    settings: Any
    database: Database
    #: Publishes events and actor messages (a `baton.queue.publisher.Publisher`); None in tests that need no queue.
    publisher: Any = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: Requests being handled right now; shutdown waits for it to reach zero.
    in_flight: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    #: Stamps the events the server receives.
    received_clock: ReceivedClock = field(default_factory=ReceivedClock)
    _lease_batcher: LeaseBatcher | None = field(default=None, init=False, repr=False)
    _event_stream: EventStream | None = field(default=None, init=False, repr=False)
    _task_queue: TaskQueue | None = field(default=None, init=False, repr=False)
    _log_stream: LogStream | None = field(default=None, init=False, repr=False)
    _access: AccessControl | None = field(default=None, init=False, repr=False)
    _audit_log: AuditLog | None = field(default=None, init=False, repr=False)
    _sign_in_guard: SignInGuard | None = field(default=None, init=False, repr=False)
    _metrics: ServerMetrics | None = field(default=None, init=False, repr=False)
    _sso: Any = field(default=None, init=False, repr=False)
    #: The server's context, for the context of a workspace (None for the server's own).
    parent: ServerContext | None = field(default=None, repr=False)
    #: The workspace this context serves (None: the default workspace).
    workspace_id: uuid.UUID | None = None
    _workspaces: WorkspaceDirectory | None = field(default=None, init=False, repr=False)
    _children: dict[uuid.UUID, ServerContext] = field(default_factory=dict, init=False, repr=False)

    @property
    def root(self) -> ServerContext:
        return self.parent if self.parent is not None else self

    @property
    def workspaces(self) -> WorkspaceDirectory:
        """Which workspaces exist and the callers' roles in them (made on first use)."""
        root = self.root
        if root._workspaces is None:
            root._workspaces = WorkspaceDirectory(root.database)
        return root._workspaces

    def for_workspace(self, workspace_id: uuid.UUID | None) -> ServerContext:
        """The context of workspace `workspace_id` (None: the default workspace), made once and kept. The caller
        has checked that the workspace exists."""
        root = self.root
        if workspace_id is None:
            return root
        child = root._children.get(workspace_id)
        if child is None:
            database = root.database.for_workspace(workspace_id)
            child = ServerContext(
                settings=root.settings,
                database=database,
                publisher=WorkspacePublisher(root.publisher, workspace_id) if root.publisher is not None else None,
                started_at=root.started_at,
                received_clock=root.received_clock,
                parent=root,
                workspace_id=workspace_id,
            )
            root._children[workspace_id] = child
        return child

    async def forget_workspace(self, workspace_id: uuid.UUID) -> None:
        """Close what the context of a deleted workspace opened, and forget the cached workspaces and roles."""
        child = self.root._children.pop(workspace_id, None)
        self.workspaces.forget()
        if child is not None:
            await child.close()

    @property
    def metrics(self) -> ServerMetrics:
        """What `/metrics` reports for this process and the cluster (made on first use)."""
        if self.parent is not None:
            return self.parent.metrics
        if self._metrics is None:
            broker = self.publisher.broker if self.publisher is not None else None
            from baton.server.metrics.exposition import ServerMetrics

            self._metrics = ServerMetrics(self.database, broker, self.settings.server_metrics_cache_seconds)
        return self._metrics

    @property
    def sso(self) -> Any:
        """Single sign-on (a `baton.server.auth.sso.service.SingleSignOn`, made on first use), or None when it is
        not configured. Imported on first use: its OAuth and JOSE libraries are not needed otherwise."""
        if self._sso is None and is_configured(self.settings):
            from baton.server.auth.sso.service import SingleSignOn

            self._sso = SingleSignOn(self.settings, self.database)
        return self._sso

    @property
    def sign_in_guard(self) -> SignInGuard:
        """Password checks with failures limited per address and account (made on first use)."""
        if self.parent is not None:
            return self.parent.sign_in_guard
        if self._sign_in_guard is None:
            self._sign_in_guard = SignInGuard()
        return self._sign_in_guard

    @property
    def access(self) -> AccessControl:
        """Who is calling and what they may do (made on first use)."""
        if self.parent is not None:
            return self.parent.access
        if self._access is None:
            self._access = AccessControl(self.settings, self.database)
        return self._access

    @property
    def audit_log(self) -> AuditLog:
        """The audit entries of this process, written in batches (made on first use)."""
        if self.parent is not None:
            return self.parent.audit_log
        if self._audit_log is None:
            self._audit_log = AuditLog(self.database)
        return self._audit_log

    @property
    def lease_batcher(self) -> LeaseBatcher:
        """The server's lease acquisitions and releases, written together (made on first use, on the server's loop)."""
        if self._lease_batcher is None:
            from baton.server.lease_batcher import LeaseBatcher

            self._lease_batcher = LeaseBatcher(self.database)
        return self._lease_batcher

    @property
    def event_stream(self) -> EventStream:
        """The server's live events, fanned out to its websocket subscribers (made on first use)."""
        if self._event_stream is None:
            from baton.server.events_stream import EventStream

            self._event_stream = EventStream(self.database)
        return self._event_stream

    @property
    def task_queue(self) -> TaskQueue:
        """The background task runs waiting for task workers, and those workers (made on first use)."""
        if self._task_queue is None:
            self._task_queue = make_task_queue(self.settings, self.workspace_id)
        return self._task_queue

    async def queue_task_run(self, action: str | None, task_key: str, task_run_json: bytes) -> None:
        """Hand a deferred task run just made SCHEDULED (`action` "enqueue" or "retry", from its transition) to the
        task workers; nothing when `action` is None. Call it after the commit."""
        if action is not None:
            await self.task_queue.enqueue(task_key, task_run_json, retry=action == "retry")

    async def close(self) -> None:
        """Release what the context opened (the task queue's connections, the workspaces' contexts), and write the
        audit entries still queued."""
        for workspace_id in list(self._children):
            await self.forget_workspace(workspace_id)
        if self._audit_log is not None:
            await self._audit_log.flush()
        if self._task_queue is not None:
            await self._task_queue.close()

    @property
    def log_stream(self) -> LogStream:
        """The server's live log lines, fanned out to its websocket subscribers (made on first use)."""
        if self._log_stream is None:
            from baton.server.logs_stream import LogStream

            self._log_stream = LogStream(self.database)
        return self._log_stream

    def flow_run_state_changed(self, flow_run_id: Any, outcome: Any) -> None:
        """Queue the event of a committed transition (`TransitionOutcome`); nothing when no state was written."""
        state = outcome.state_to_write
        if self.publisher is None or state is None:
            return
        initial = outcome.initial_state
        self.publisher.flow_run_state_changed(
            {
                "flow_run_id": str(flow_run_id),
                "state_id": str(state["id"]),
                "from_state": (
                    {"id": str(initial["id"]), "type": initial["type"], "name": initial["name"]} if initial else None
                ),
            }
        )

    async def wait_for_actors(self) -> None:
        """Wait (briefly) while the actors are far behind; call before making a flow-run state change."""
        if self.publisher is not None:
            await self.publisher.wait_for_actors()

    async def send_message(self, message: Any) -> None:
        """Queue one actor message (a `dramatiq.Message`); nothing without a publisher. Call it after the commit."""
        if self.publisher is not None:
            await self.publisher.send(message)

    async def evaluate_triggers(self, events: Sequence[QueuedEvent]) -> None:
        """Hand events the request wrote itself (status events of pools, queues and deployments) to the trigger
        engine; nothing when there are none. Call it after the commit."""
        if events:
            await self.send_message(messages.evaluate_triggers(list(events)))

    async def publish_events(self, events: Sequence[QueuedEvent], *, wait: bool = False) -> None:
        if self.publisher is not None:
            await self.publisher.publish_events(events, wait=wait)

    async def confirm_events(self) -> bool:
        """Whether every event offered so far is in the queue, once it is (False: some could not be queued)."""
        if self.publisher is None:
            return True
        return await self.publisher.confirm()

    def offer_events(self, events: Sequence[QueuedEvent]) -> Awaitable[None] | None:
        """Queue `events` without waiting when the publisher has room; else the awaitable to wait on."""
        if self.publisher is None:
            return None
        return self.publisher.offer_events(events)

    def request_started(self) -> None:
        if self.parent is not None:
            self.parent.request_started()
            return
        self.in_flight += 1
        self._idle.clear()

    def request_finished(self) -> None:
        if self.parent is not None:
            self.parent.request_finished()
            return
        self.in_flight -= 1
        if self.in_flight <= 0:
            self._idle.set()

    async def wait_until_idle(self, grace_seconds: float) -> None:
        """Return when no request is in flight, or after `grace_seconds`."""
        if self.in_flight <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
