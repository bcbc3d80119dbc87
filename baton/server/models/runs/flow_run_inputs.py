"""Flow run inputs (values a paused run waits for) and resuming paused runs."""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists, ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.runs.flow_runs import read_flow_run
from baton.server.models.runs.states import flow_run_snapshot, set_flow_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.orchestration.policies import resume_proposal


async def create_run_input(
    connection: AsyncConnection, flow_run_id: uuid.UUID, key: str, value: str, sender: str | None
) -> dict[str, Any]:
    if await connection.scalar(sa.select(t.flow_run.c.id).where(t.flow_run.c.id == flow_run_id)) is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    exists = await connection.scalar(
        sa.select(t.flow_run_input.c.id).where(
            t.flow_run_input.c.flow_run_id == flow_run_id, t.flow_run_input.c.key == key
        )
    )
    if exists is not None:
        raise ObjectAlreadyExists(f"Flow run {flow_run_id} already has an input with key {key!r}.")
    now = utcnow()
    row = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "flow_run_id": flow_run_id,
        "key": key,
        "value": value,
        "sender": sender,
    }
    await connection.execute(sa.insert(t.flow_run_input).values(**row))
    return row


async def read_run_input(connection: AsyncConnection, flow_run_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    query = sa.select(t.flow_run_input).where(
        t.flow_run_input.c.flow_run_id == flow_run_id, t.flow_run_input.c.key == key
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_run_inputs(
    connection: AsyncConnection,
    flow_run_id: uuid.UUID,
    prefix: str,
    limit: int,
    exclude_keys: list[str],
) -> list[dict[str, Any]]:
    """Inputs whose key starts with `prefix`, oldest first (the client's `receive_input` reads them this way)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = (
        sa.select(t.flow_run_input)
        .where(
            t.flow_run_input.c.flow_run_id == flow_run_id,
            t.flow_run_input.c.key.like(f"{escaped}%", escape="\\"),
            t.flow_run_input.c.key.not_in(exclude_keys),
        )
        .order_by(t.flow_run_input.c.created)
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def delete_run_input(connection: AsyncConnection, flow_run_id: uuid.UUID, key: str) -> bool:
    result = await connection.execute(
        sa.delete(t.flow_run_input).where(t.flow_run_input.c.flow_run_id == flow_run_id, t.flow_run_input.c.key == key)
    )
    return result.rowcount == 1


class ResumeResult(NamedTuple):
    body: dict[str, Any]
    status_code: int
    # The transition's outcome when the run was resumed (a state was proposed), else None.
    outcome: TransitionOutcome | None


def _not_resumed(status: str, reason: str, state: dict[str, Any] | None) -> ResumeResult:
    details_type = "abort_details" if status == "ABORT" else "reject_details"
    body = {"state": state, "status": status, "details": {"type": details_type, "reason": reason}}
    return ResumeResult(body, 200, None)


async def resume_flow_run(
    connection: AsyncConnection, flow_run_id: uuid.UUID, run_input: dict[str, Any] | None
) -> ResumeResult:
    """Resume a paused run (Running, or Scheduled "Resuming" if it was suspended), after checking `run_input`
    against the schema the pause registered. Returns the OrchestrationResult body and the HTTP status."""
    row = await read_flow_run(connection, flow_run_id, for_update=True)
    if row is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    snapshot = flow_run_snapshot(row)
    current = snapshot.current_state
    if current is None or current["type"] != "PAUSED":
        return _not_resumed("ABORT", "Cannot resume a flow run that is not paused.", None)
    keyset = (current.get("state_details") or {}).get("run_input_keyset")
    if keyset:
        run_input = run_input or {}
        schema_row = await read_run_input(connection, flow_run_id, keyset["schema"])
        if schema_row is None:
            return _not_resumed("REJECT", "Run input schema not found.", current)
        try:
            schema = orjson.loads(schema_row["value"])
        except orjson.JSONDecodeError:
            return _not_resumed("REJECT", "Run input schema is not valid JSON.", current)
        import jsonschema  # only resumes with a keyset need it, so an idle server does not hold it in memory

        try:
            jsonschema.validate(run_input, schema)
        except jsonschema.ValidationError as exc:
            return _not_resumed("REJECT", f"Reason: {exc.message}", current)
        except jsonschema.SchemaError as exc:
            return _not_resumed("REJECT", f"Invalid schema: {exc.message}", current)
    outcome = await set_flow_run_state(connection, flow_run_id, resume_proposal(snapshot, utcnow()), row=row)
    if keyset and run_input and outcome.status == "ACCEPT":
        await create_run_input(connection, flow_run_id, keyset["response"], orjson.dumps(run_input).decode(), None)
    return ResumeResult(outcome.result_body(), outcome.status_code, outcome)
