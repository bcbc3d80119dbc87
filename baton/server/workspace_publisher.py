"""What a workspace's context publishes with, until the actors serve workspaces: the workspace's events are recorded
in the request path, into the workspace's own store, and actor messages are not sent (an actor would act on the
default workspace's tables). So a workspace's events and task runs are kept, and nothing of it reaches another
workspace; notifications, automations and the other actors' work do not run in it yet (see README, Workspaces)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import Any

import orjson

from baton.queue.messages import FlowRunStateChange, QueuedEvent
from baton.server.database.engine import Database

logger = logging.getLogger("baton.workspaces")


class WorkspacePublisher:
    """The publisher interface of `baton.queue.publisher.Publisher` for one workspace's context."""

    broker: Any = None

    def __init__(self, database: Database) -> None:
        self.database = database

    async def publish_events(self, events: Sequence[QueuedEvent], *, wait: bool = False) -> None:
        """Record `events` (dicts or their JSON text) in the workspace's store now."""
        if events:
            batch = orjson.dumps(list(events)).decode()
            await self.database.dialect.record_event_batch(self.database, batch)

    def offer_events(self, events: Sequence[QueuedEvent]) -> Awaitable[None] | None:
        return self.publish_events(events)

    async def confirm(self) -> bool:
        return True

    async def send(self, message: Any) -> None:
        logger.debug("Not sent from workspace %s: %s", self.database.workspace_id, message.actor_name)

    def flow_run_state_changed(self, change: FlowRunStateChange) -> None:
        return None

    async def wait_for_actors(self) -> None:
        return None
