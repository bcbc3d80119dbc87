"""Firings and action runs: the record of a trigger changing state and of each action that firing runs.

The engine records a firing under a `firing_key` derived from what fired, and with it one action run per action of
the phase (Triggered: `actions` then `actions_on_trigger`; Resolved: `actions_on_resolve`). Both inserts are
idempotent, so evaluating the same input twice records one firing and one run per action. The action actor claims a
run (PENDING -> RUNNING) before acting and finishes it (SUCCEEDED or FAILED with a reason); a run left RUNNING by a
killed process is claimed again only after `stale_after`, and an action with an effect outside this database keys
that effect on the run's id (a run-deployment's flow run takes it as its idempotency key), so a second attempt finds
the first one's effect instead of repeating it."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.schemas.automations import ActionPhase, ActionRunStatus, TriggerState


@dataclass(frozen=True)
class RecordedFiring:
    firing_id: uuid.UUID
    action_run_ids: list[uuid.UUID]


def phases_for(trigger_state: TriggerState) -> list[ActionPhase]:
    if trigger_state == TriggerState.TRIGGERED:
        return [ActionPhase.ACTIONS, ActionPhase.ON_TRIGGER]
    return [ActionPhase.ON_RESOLVE]


async def record_firing(
    connection: AsyncConnection,
    automation: dict[str, Any],
    *,
    trigger_id: uuid.UUID,
    trigger_state: TriggerState,
    firing_key: str,
    occurred: dt.datetime,
    triggering_labels: dict[str, str] | None = None,
    triggering_event: dict[str, Any] | None = None,
    triggering_value: Any = None,
) -> RecordedFiring | None:
    """Record a firing of `automation` (its row) and its action runs; None when `firing_key` was recorded before
    (nothing is written then). The caller enqueues the returned action runs after its transaction commits."""
    firing_id = uuid.uuid4()
    now = utcnow()
    insert = dialect_of(connection).insert(t.automation_firing)
    inserted = await connection.execute(
        insert.values(
            id=firing_id,
            created=now,
            updated=now,
            automation_id=automation["id"],
            trigger_id=trigger_id,
            firing_key=firing_key,
            trigger_state=trigger_state.value,
            occurred=occurred,
            triggering_labels=triggering_labels or {},
            triggering_event=triggering_event,
            triggering_value=triggering_value,
        ).on_conflict_do_nothing(index_elements=["firing_key"])
    )
    if inserted.rowcount != 1:
        return None
    runs = [
        {
            "id": uuid.uuid4(),
            "created": now,
            "updated": now,
            "firing_id": firing_id,
            "automation_id": automation["id"],
            "phase": phase.value,
            "action_index": index,
            "action": action,
            "status": ActionRunStatus.PENDING.value,
            "attempts": 0,
        }
        for phase in phases_for(trigger_state)
        for index, action in enumerate(automation.get(phase.value) or [])
    ]
    if runs:
        await connection.execute(sa.insert(t.automation_action_run), runs)
    return RecordedFiring(firing_id, [run["id"] for run in runs])


async def claim_action_run(
    connection: AsyncConnection, action_run_id: uuid.UUID, stale_after: dt.timedelta
) -> dict[str, Any] | None:
    """Mark the run RUNNING and return it with its firing's fields (`firing_*`) if it is PENDING, or RUNNING since
    before `stale_after` ago (its process died); None when it is done or another process is running it."""
    run = t.automation_action_run.c
    now = utcnow()
    claim = (
        sa.update(t.automation_action_run)
        .where(
            run.id == action_run_id,
            sa.or_(
                run.status == ActionRunStatus.PENDING.value,
                sa.and_(run.status == ActionRunStatus.RUNNING.value, run.updated < now - stale_after),
            ),
        )
        .values(status=ActionRunStatus.RUNNING.value, attempts=run.attempts + 1, started=now, updated=now)
    )
    if (await connection.execute(claim)).rowcount != 1:
        return None
    firing = t.automation_firing.c
    query = (
        sa.select(
            t.automation_action_run,
            firing.trigger_id.label("firing_trigger_id"),
            firing.trigger_state.label("firing_trigger_state"),
            firing.occurred.label("firing_occurred"),
            firing.triggering_labels.label("firing_triggering_labels"),
            firing.triggering_event.label("firing_triggering_event"),
            firing.triggering_value.label("firing_triggering_value"),
        )
        .join(t.automation_firing, firing.id == run.firing_id)
        .where(run.id == action_run_id)
    )
    return dict((await connection.execute(query)).mappings().one())


async def finish_action_run(
    connection: AsyncConnection,
    action_run_id: uuid.UUID,
    status: ActionRunStatus,
    *,
    reason: str | None = None,
    resulting_resource: str | None = None,
) -> None:
    """Record the outcome of a claimed run."""
    now = utcnow()
    await connection.execute(
        sa.update(t.automation_action_run)
        .where(t.automation_action_run.c.id == action_run_id)
        .values(status=status.value, reason=reason, resulting_resource=resulting_resource, finished=now, updated=now)
    )


async def any_unfinished_action_runs(connection: AsyncConnection) -> bool:
    """Whether some action run is still PENDING or RUNNING (only those can stall)."""
    run = t.automation_action_run.c
    statuses = (ActionRunStatus.PENDING.value, ActionRunStatus.RUNNING.value)
    query = sa.select(run.id).where(run.status.in_(statuses)).limit(1)
    return (await connection.execute(query)).first() is not None


async def unfinished_action_run_ids(
    connection: AsyncConnection, older_than: dt.datetime, running_older_than: dt.datetime | None = None
) -> list[uuid.UUID]:
    """Runs still PENDING with no change since `older_than` (their queue message was lost), or RUNNING with none
    since `running_older_than` (default: `older_than`; their process died): a periodic sweep enqueues them again. A
    RUNNING run is only claimed again once stale, so queueing it earlier would only make messages that do nothing."""
    run = t.automation_action_run.c
    running_cutoff = older_than if running_older_than is None else running_older_than
    query = (
        sa.select(run.id)
        .where(
            sa.or_(
                sa.and_(run.status == ActionRunStatus.PENDING.value, run.updated < older_than),
                sa.and_(run.status == ActionRunStatus.RUNNING.value, run.updated < running_cutoff),
            )
        )
        .order_by(run.updated)
        .limit(1000)
    )
    return list((await connection.execute(query)).scalars())


async def read_firings(
    connection: AsyncConnection, automation_id: uuid.UUID, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """The automation's firings, newest first, each with its action runs (`action_runs`, in phase and index order)."""
    firing = t.automation_firing.c
    query = (
        sa.select(t.automation_firing)
        .where(firing.automation_id == automation_id)
        .order_by(firing.occurred.desc(), firing.id)
        .limit(limit)
        .offset(offset)
    )
    firings = [dict(row) for row in (await connection.execute(query)).mappings()]
    if not firings:
        return []
    run = t.automation_action_run.c
    runs_query = (
        sa.select(t.automation_action_run)
        .where(run.firing_id.in_([each["id"] for each in firings]))
        .order_by(run.phase, run.action_index)
    )
    by_firing: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for row in (await connection.execute(runs_query)).mappings():
        by_firing.setdefault(row["firing_id"], []).append(dict(row))
    for each in firings:
        each["action_runs"] = by_firing.get(each["id"], [])
    return firings


async def last_fired(connection: AsyncConnection, automation_ids: list[uuid.UUID]) -> dict[uuid.UUID, dt.datetime]:
    """When each of the automations last fired (Triggered), for those that have."""
    if not automation_ids:
        return {}
    firing = t.automation_firing.c
    query = (
        sa.select(firing.automation_id, sa.func.max(firing.occurred))
        .where(firing.automation_id.in_(automation_ids), firing.trigger_state == TriggerState.TRIGGERED.value)
        .group_by(firing.automation_id)
    )
    return {row[0]: row[1] for row in (await connection.execute(query)).all()}
