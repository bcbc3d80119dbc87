"""The state of metric triggers, one `automation_bucket` row per trigger and resource (`bucketing_key`: the
resource id, or `*` for a trigger over all its runs): `last_operation` is the phase (breaching, triggered,
resolving), `start` since when the phase's condition holds, `end` when the breach that fired (or will) began,
`triggered_at` when it fired, `count` and `last_event` the runs and value of the last evaluation."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.metric_triggers import MetricState, Phase
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow


async def lock_automation(connection: AsyncConnection, automation_id: uuid.UUID) -> dict[str, Any] | None:
    """The automation's row, locked until the transaction ends (PostgreSQL; SQLite has one writer anyway), so that
    two evaluators of its trigger take turns; None when it was deleted."""
    query = sa.select(t.automation).where(t.automation.c.id == automation_id).with_for_update()
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_metric_states(connection: AsyncConnection, trigger_id: uuid.UUID) -> dict[str, MetricState]:
    """The trigger's state per resource."""
    bucket = t.automation_bucket.c
    query = sa.select(t.automation_bucket).where(bucket.trigger_id == trigger_id)
    return {
        row["bucketing_key"]: MetricState(
            phase=Phase(row["last_operation"]),
            since=row["start"],
            breach_start=row["end"],
            triggered_at=row["triggered_at"],
        )
        for row in (await connection.execute(query)).mappings()
    }


async def save_metric_state(
    connection: AsyncConnection,
    automation_id: uuid.UUID,
    trigger_id: uuid.UUID,
    resource: str,
    state: MetricState | None,
    *,
    labels: dict[str, str],
    runs: int,
    value: float | None,
    evaluated: dt.datetime,
) -> None:
    """Store the resource's state, or forget it when `state` is None (quiet)."""
    bucket = t.automation_bucket.c
    if state is None:
        await connection.execute(
            sa.delete(t.automation_bucket).where(bucket.trigger_id == trigger_id, bucket.bucketing_key == resource)
        )
        return
    now = utcnow()
    values = {
        "start": state.since,
        "end": state.breach_start,
        "last_operation": state.phase.value,
        "triggered_at": state.triggered_at,
        "count": runs,
        "last_event": {"value": value, "evaluated": evaluated.isoformat()},
        "triggering_labels": labels,
        "updated": now,
    }
    insert = dialect_of(connection).insert(t.automation_bucket)
    await connection.execute(
        insert.values(
            id=uuid.uuid4(),
            created=now,
            automation_id=automation_id,
            trigger_id=trigger_id,
            bucketing_key=resource,
            **values,
        ).on_conflict_do_update(index_elements=["trigger_id", "bucketing_key"], set_=values)
    )
