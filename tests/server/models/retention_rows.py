"""Rows of every kind retention deletes, each aged as a test asks, inserted directly (the tests of retention and
`baton server database prune` seed them the same way)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import utcnow


class Rows:
    """Inserts rows `days_ago` old on one connection; every method returns the new row's id."""

    def __init__(self, connection: AsyncConnection, now: dt.datetime | None = None) -> None:
        self.connection = connection
        self.now = now or utcnow()
        self.flow_id: uuid.UUID | None = None

    def ago(self, days: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days)

    async def insert(self, table: sa.Table, **values: Any) -> uuid.UUID:
        row_id = values.setdefault("id", uuid.uuid4())
        await self.connection.execute(sa.insert(table).values(**values))
        return row_id

    async def flow_run(
        self, state: str, ended_days_ago: float | None, *, parent_task_run_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        if self.flow_id is None:
            self.flow_id = await self.insert(t.flow, name=f"flow-{uuid.uuid4()}")
        end_time = None if ended_days_ago is None else self.ago(ended_days_ago)
        run_id = uuid.uuid4()
        state_id = uuid.uuid4()
        await self.insert(
            t.flow_run,
            id=run_id,
            name=f"run-{run_id}",
            flow_id=self.flow_id,
            state_id=state_id,
            state_type=state,
            state_name=state.title(),
            end_time=end_time,
            parent_task_run_id=parent_task_run_id,
        )
        await self.insert(t.flow_run_state, id=state_id, flow_run_id=run_id, type=state, name=state.title())
        return run_id

    async def task_run(self, flow_run_id: uuid.UUID | None, state: str, ended_days_ago: float | None) -> uuid.UUID:
        task_id = uuid.uuid4()
        state_id = uuid.uuid4()
        end_time = None if ended_days_ago is None else self.ago(ended_days_ago)
        await self.insert(
            t.task_run,
            id=task_id,
            name="task",
            flow_run_id=flow_run_id,
            task_key=f"key-{task_id}",
            dynamic_key="0",
            state_id=state_id,
            state_type=state,
            state_name=state.title(),
            end_time=end_time,
        )
        await self.insert(t.task_run_state, id=state_id, task_run_id=task_id, type=state, name=state.title())
        await self.insert(t.task_run_state_cache, cache_key=f"cache-{task_id}", task_run_state_id=state_id)
        return task_id

    async def log(
        self, days_ago: float, flow_run_id: uuid.UUID | None, task_run_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        return await self.insert(
            t.log,
            name="test",
            level=20,
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
            message="line",
            timestamp=self.ago(days_ago),
        )

    async def artifact(
        self,
        days_ago: float,
        *,
        key: str | None = None,
        flow_run_id: uuid.UUID | None = None,
        task_run_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """An artifact; one with a key also becomes its key's collection's latest version."""
        created = self.ago(days_ago)
        artifact_id = await self.insert(
            t.artifact,
            key=key,
            type="markdown",
            data="x",
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
            created=created,
            updated=created,
        )
        if key is not None:
            await self.connection.execute(sa.delete(t.artifact_collection).where(t.artifact_collection.c.key == key))
            await self.insert(
                t.artifact_collection,
                key=key,
                latest_id=artifact_id,
                type="markdown",
                data="x",
                flow_run_id=flow_run_id,
                task_run_id=task_run_id,
                created=created,
                updated=created,
            )
        return artifact_id

    async def event(self, days_ago: float) -> uuid.UUID:
        moment = self.ago(days_ago)
        return await self.insert(
            t.events,
            occurred=moment,
            event="test.event",
            resource_id="test.resource",
            received=moment,
            recorded=moment,
        )

    async def delivery(self, days_ago: float, status: str, flow_run_id: uuid.UUID) -> uuid.UUID:
        """A delivery of a new state of the run."""
        if not hasattr(self, "_policy_id"):
            block_type = await self.insert(t.block_type, name=f"type-{uuid.uuid4()}", slug=f"type-{uuid.uuid4()}")
            schema = await self.insert(t.block_schema, checksum=f"sha256:{uuid.uuid4()}", block_type_id=block_type)
            document = await self.insert(
                t.block_document,
                name=f"doc-{uuid.uuid4()}",
                data="{}",
                block_type_id=block_type,
                block_schema_id=schema,
            )
            self._policy_id = await self.insert(t.notification_policy, block_document_id=document)
        created = self.ago(days_ago)
        return await self.insert(
            t.notification_delivery,
            policy_id=self._policy_id,
            flow_run_id=flow_run_id,
            flow_run_state_id=await self.insert(
                t.flow_run_state, flow_run_id=flow_run_id, type="COMPLETED", name="Completed"
            ),
            status=status,
            created=created,
            updated=created,
        )

    async def firing(self, days_ago: float, action_status: str) -> uuid.UUID:
        if not hasattr(self, "_automation_id"):
            self._automation_id = await self.insert(t.automation, name="auto", trigger={})
        firing_id = await self.insert(
            t.automation_firing,
            automation_id=self._automation_id,
            trigger_id=uuid.uuid4(),
            firing_key=str(uuid.uuid4()),
            trigger_state="Triggered",
            occurred=self.ago(days_ago),
        )
        await self.insert(
            t.automation_action_run,
            firing_id=firing_id,
            automation_id=self._automation_id,
            phase="actions",
            action_index=0,
            status=action_status,
        )
        return firing_id

    async def audit_entry(self, days_ago: float) -> uuid.UUID:
        return await self.insert(
            t.audit_entry,
            occurred=self.ago(days_ago),
            actor_kind="user",
            actor_name="someone",
            action="variable.create",
            outcome="success",
            detail={},
        )

    async def lease(self, holder_id: uuid.UUID, holder_type: str = "flow_run") -> uuid.UUID:
        return await self.insert(
            t.concurrency_lease, expires_at=self.ago(-1), slots=1, holder_type=holder_type, holder_id=holder_id
        )
