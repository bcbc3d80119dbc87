"""The server's own events: `prefect.flow-run.<State>` for every committed flow-run state, `prefect.flow.created`.

A flow-run state event is built from committed rows (the run, its flow, deployment, work queue and pool, and the
state from the history), so the message that asks for it only carries ids. Its id is the state's id: building it
twice (a redelivered message) records it once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.queue.messages import FlowRunStateChange, StateRef
from baton.server.database import tables as t
from baton.server.database.types import utcnow

_RUNS = (
    sa.select(
        t.flow_run.c.id,
        t.flow_run.c.name,
        t.flow_run.c.run_count,
        t.flow_run.c.tags,
        t.flow_run.c.flow_id,
        t.flow_run.c.parent_task_run_id,
        t.flow.c.name.label("flow_name"),
        t.deployment.c.id.label("deployment_id"),
        t.deployment.c.name.label("deployment_name"),
        t.work_queue.c.id.label("work_queue_id"),
        t.work_queue.c.name.label("work_queue_name"),
        t.work_pool.c.id.label("work_pool_id"),
        t.work_pool.c.name.label("work_pool_name"),
        t.work_pool.c.type.label("work_pool_type"),
    )
    .select_from(
        t.flow_run.join(t.flow, t.flow.c.id == t.flow_run.c.flow_id)
        .outerjoin(t.deployment, t.deployment.c.id == t.flow_run.c.deployment_id)
        .outerjoin(t.work_queue, t.work_queue.c.id == t.flow_run.c.work_queue_id)
        .outerjoin(t.work_pool, t.work_pool.c.id == t.work_queue.c.work_pool_id)
    )
    .where(t.flow_run.c.id.in_(sa.bindparam("ids", expanding=True)))
)
_STATES = sa.select(t.flow_run_state).where(t.flow_run_state.c.id.in_(sa.bindparam("ids", expanding=True)))


def _related(resource_id: str, role: str, name: str | None, **labels: str) -> dict[str, str]:
    related = {"prefect.resource.id": resource_id, "prefect.resource.role": role}
    if name is not None:
        related["prefect.resource.name"] = name
    related.update(labels)
    return related


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def _state_payload(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": state["type"],
        "name": state["name"],
        "message": state.get("message") or "",
        "state_details": {
            key: value for key, value in (state.get("state_details") or {}).items() if key not in ("flow_run_id",)
        },
    }


def flow_run_state_event(run: dict[str, Any], state: dict[str, Any], from_state: StateRef | None) -> dict[str, Any]:
    """The `prefect.flow-run.<State>` event (JSON-mode) of `run` entering `state`."""
    related = [
        _related(f"prefect.flow.{run['flow_id']}", "flow", run["flow_name"]),
    ]
    if run["deployment_id"] is not None:
        related.append(_related(f"prefect.deployment.{run['deployment_id']}", "deployment", run["deployment_name"]))
    if run["work_queue_id"] is not None:
        related.append(_related(f"prefect.work-queue.{run['work_queue_id']}", "work-queue", run["work_queue_name"]))
    if run["work_pool_id"] is not None:
        related.append(
            _related(
                f"prefect.work-pool.{run['work_pool_id']}",
                "work-pool",
                run["work_pool_name"],
                **{"prefect.work-pool.type": run["work_pool_type"]},
            )
        )
    if run["parent_task_run_id"] is not None:
        related.append(_related(f"prefect.task-run.{run['parent_task_run_id']}", "task-run", None))
    related.extend(_related(f"prefect.tag.{tag}", "tag", None) for tag in run["tags"] or [])
    timestamp = state["timestamp"]
    return {
        "id": str(state["id"]),
        "occurred": _iso(timestamp),
        "event": f"prefect.flow-run.{state['name']}",
        "resource": {
            "prefect.resource.id": f"prefect.flow-run.{run['id']}",
            "prefect.resource.name": run["name"],
            "prefect.run-count": str(run["run_count"] or 0),
            "prefect.state-message": state.get("message") or "",
            "prefect.state-name": state["name"],
            "prefect.state-timestamp": _iso(timestamp),
            "prefect.state-type": state["type"],
        },
        "related": related,
        "payload": {
            "intended": {"from": from_state["type"] if from_state else None, "to": state["type"]},
            "initial_state": _state_payload(from_state) if from_state else None,
            "validated_state": _state_payload(state),
        },
        "follows": str(from_state["id"]) if from_state else None,
        "received": _iso(utcnow()),
    }


async def build_flow_run_state_events(
    connection: AsyncConnection, changes: list[FlowRunStateChange]
) -> list[dict[str, Any]]:
    """Events for `changes`; a change whose run or state no longer exists (deleted since) yields none."""
    if not changes:
        return []
    run_ids = list({uuid.UUID(change["flow_run_id"]) for change in changes})
    state_ids = [uuid.UUID(change["state_id"]) for change in changes]
    runs = {row["id"]: dict(row) for row in (await connection.execute(_RUNS, {"ids": run_ids})).mappings()}
    states = {row["id"]: dict(row) for row in (await connection.execute(_STATES, {"ids": state_ids})).mappings()}
    events = []
    for change in changes:
        run = runs.get(uuid.UUID(change["flow_run_id"]))
        state = states.get(uuid.UUID(change["state_id"]))
        if run is None or state is None:
            continue
        events.append(flow_run_state_event(run, state, change["from_state"]))
    return events


def flow_created_event(flow: dict[str, Any]) -> dict[str, Any]:
    """The `prefect.flow.created` event (JSON-mode) of a newly created flow."""
    now = utcnow()
    return {
        "id": str(uuid.uuid4()),
        "occurred": _iso(flow.get("created") or now),
        "event": "prefect.flow.created",
        "resource": {"prefect.resource.id": f"prefect.flow.{flow['id']}", "prefect.resource.name": flow["name"]},
        "related": [],
        "payload": {},
        "follows": None,
        "received": _iso(now),
    }


# The first state of a run the scheduler made: no event stands for it (as in Prefect, whose scheduler inserts runs
# without emitting), so the sweep below must not take its lack of one for a lost message.
_previous = t.flow_run_state.alias("previous")
_AUTO_SCHEDULED_FIRST = sa.and_(
    t.flow_run.c.auto_scheduled.is_(True),
    ~sa.exists().where(
        _previous.c.flow_run_id == t.flow_run_state.c.flow_run_id,
        _previous.c.timestamp < t.flow_run_state.c.timestamp,
    ),
)


async def any_states_written_after(connection: AsyncConnection, after: dt.datetime) -> bool:
    """Whether some flow-run state was written after `after`."""
    state = t.flow_run_state.c
    query = sa.select(state.id).where(state.updated > after).limit(1)
    return (await connection.execute(query)).first() is not None


async def read_unpublished_state_changes(
    connection: AsyncConnection, after: dt.datetime, until: dt.datetime, limit: int
) -> tuple[list[FlowRunStateChange], dt.datetime]:
    """The flow-run states written in (`after`, `until`] that have no event (their message to `emit_flow_run_events`
    was lost: the API process died between its commit and the publisher's next send), oldest first, at most `limit`;
    and how far they reach (`until`, or the last one's time when `limit` cut them short)."""
    state = t.flow_run_state.c
    rows = (
        await connection.execute(
            sa.select(state.id, state.flow_run_id, state.updated)
            .select_from(t.flow_run_state.join(t.flow_run, t.flow_run.c.id == state.flow_run_id))
            .where(
                state.updated > after,
                state.updated <= until,
                ~sa.exists().where(t.events.c.id == state.id),
                ~_AUTO_SCHEDULED_FIRST,
            )
            .order_by(state.updated, state.id)
            .limit(limit)
        )
    ).all()
    reached = rows[-1].updated if len(rows) == limit else until
    changes = [
        FlowRunStateChange(
            flow_run_id=str(row.flow_run_id),
            state_id=str(row.id),
            from_state=await _state_before(connection, row.flow_run_id, row.id),
        )
        for row in rows
    ]
    return changes, reached


async def _state_before(connection: AsyncConnection, flow_run_id: uuid.UUID, state_id: uuid.UUID) -> StateRef | None:
    """The state the run left for `state_id` (the one before it in its history), None for its first."""
    state = t.flow_run_state.c
    this = sa.select(state.timestamp).where(state.id == state_id).scalar_subquery()
    row = (
        await connection.execute(
            sa.select(state.id, state.type, state.name)
            .where(state.flow_run_id == flow_run_id, state.timestamp < this)
            .order_by(state.timestamp.desc())
            .limit(1)
        )
    ).first()
    return StateRef(id=str(row.id), type=row.type, name=row.name) if row else None
