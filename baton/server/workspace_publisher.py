"""What a workspace's context publishes with: the server's publisher, every event batch and actor message marked
with the workspace (`messages.in_workspace`), so that the actors record, match and act on them in that workspace's
store and nowhere else."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from typing import Any

from baton.queue import messages
from baton.queue.messages import FlowRunStateChange, QueuedEvent


class WorkspacePublisher:
    """The interface of `baton.queue.publisher.Publisher` for one workspace's context, sharing the server's
    publisher (its buffers, sending thread and back-pressure)."""

    def __init__(self, publisher: Any, workspace_id: uuid.UUID) -> None:
        self.publisher = publisher
        self.workspace_id = workspace_id

    @property
    def broker(self) -> Any:
        return self.publisher.broker

    async def publish_events(self, events: Sequence[QueuedEvent], *, wait: bool = False) -> None:
        await self.publisher.publish_events(events, wait=wait, workspace_id=self.workspace_id)

    def offer_events(self, events: Sequence[QueuedEvent]) -> Awaitable[None] | None:
        return self.publisher.offer_events(events, workspace_id=self.workspace_id)

    async def confirm(self) -> bool:
        return bool(await self.publisher.confirm())

    async def send(self, message: Any) -> None:
        await self.publisher.send(messages.in_workspace(message, self.workspace_id))

    def flow_run_state_changed(self, change: FlowRunStateChange) -> None:
        self.publisher.flow_run_state_changed(change, workspace_id=self.workspace_id)

    async def wait_for_actors(self) -> None:
        await self.publisher.wait_for_actors()
