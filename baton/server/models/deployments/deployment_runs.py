"""Flow runs of deployments: a run created on request (`create_flow_run`), the scheduled runs `flow.serve()` polls
for, and removing the auto-scheduled runs a changed deployment no longer wants."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ConflictingParameters, ObjectNotFound, ValidationFailed
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.deployments import deployment_queues
from baton.server.models.runs.flow_runs import FLOW_RUN_COLUMNS, read_flow_run, select_flow_runs
from baton.server.models.runs.run_names import generate_run_name
from baton.server.models.runs.states import set_flow_run_state
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.deployments import DeploymentFlowRunCreate
from baton.server.schemas.states import StateCreate
from baton.states import StateType

Row = dict[str, Any]
_EMPTY_FLOW_RUN = {column.key: None for column in FLOW_RUN_COLUMNS}


def check_parameters(parameters: dict[str, Any], schema: dict[str, Any] | None, *, required: bool = True) -> None:
    """Raise ValidationFailed naming each parameter that does not fit the deployment's parameter schema; without
    `required`, a missing parameter is no error (a deployment's own parameters may leave some to each run)."""
    if not schema:
        return
    import jsonschema  # loaded only when a deployment enforces its schema

    try:
        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(parameters), key=lambda error: list(error.path))
    except jsonschema.SchemaError as exc:
        raise ValidationFailed(f"The deployment's parameter schema is not valid JSON Schema: {exc.message}") from exc
    if not required:
        errors = [error for error in errors if error.path or error.validator != "required"]
    if not errors:
        return
    detail = []
    for error in errors:
        name = str(error.path[0]) if error.path else _missing_property(error)
        detail.append(
            {
                "loc": ["body", "parameters", *([name] if name else [])],
                "msg": f"Validation failed for parameter {name!r}: {error.message}" if name else error.message,
                "type": "parameter_validation",
            }
        )
    raise ValidationFailed("; ".join(str(item["msg"]) for item in detail), detail)


async def check_updated_parameters(connection: AsyncConnection, deployment_id: uuid.UUID, update: Any) -> None:
    """A deployment update's new parameters must fit the (new or current) parameter schema when the deployment
    enforces it; missing required ones are left for each run to give. A misfit is ConflictingParameters (409, as
    Prefect's server answers), naming each parameter."""
    from baton.server.models.deployments.deployments import read_deployment_or_404  # it imports this module

    current = await read_deployment_or_404(connection, deployment_id)
    enforce = update.enforce_parameter_schema
    if enforce is None:
        enforce = current["enforce_parameter_schema"]
    schema = update.parameter_openapi_schema
    if schema is None:
        schema = current["parameter_openapi_schema"]
    if enforce:
        try:
            check_parameters(update.parameters or {}, schema, required=False)
        except ValidationFailed as exc:
            raise ConflictingParameters(f"Error updating deployment: {exc.message}", exc.detail) from exc


def _missing_property(error: Any) -> str | None:
    if error.validator == "required" and isinstance(error.message, str) and error.message.count("'") >= 2:
        return error.message.split("'")[1]
    return None


async def create_flow_run_from_deployment(
    connection: AsyncConnection, deployment: Row, request: DeploymentFlowRunCreate
) -> tuple[Row, TransitionOutcome | None]:
    """Insert a run of `deployment` with the request's parameters merged over the deployment's, in its work queue
    (or the named queue of its pool), Scheduled now unless a state is given. An idempotency key already used for the
    flow returns that run (and no outcome). Raises ValidationFailed for parameters that break an enforced schema."""
    parameters = {**(deployment["parameters"] or {}), **request.parameters}
    enforce = request.enforce_parameter_schema
    if enforce is None:
        enforce = deployment["enforce_parameter_schema"]
    if enforce:
        check_parameters(parameters, deployment["parameter_openapi_schema"])
    work_queue_id = deployment["work_queue_id"]
    work_queue_name = deployment["work_queue_name"]
    if request.work_queue_name:
        if deployment.get("work_pool_name") is None:
            raise ValidationFailed(
                f"Cannot create flow run in work queue {request.work_queue_name} because deployment "
                f"{deployment['id']} is not associated with a work pool."
            )
        work_queue_id = await deployment_queues.resolve_work_queue_id(
            connection, deployment["work_pool_name"], request.work_queue_name
        )
        work_queue_name = request.work_queue_name
    now = utcnow()
    tags = list(dict.fromkeys([*(deployment["tags"] or []), *request.tags]))
    labels = {
        **(deployment["labels"] or {}),
        **(request.labels or {}),
        "prefect.flow.id": str(deployment["flow_id"]),
        "prefect.deployment.id": str(deployment["id"]),
    }
    values = {
        "id": uuid.uuid4(),
        "created": now,
        "updated": now,
        "name": request.name or generate_run_name(),
        "flow_id": deployment["flow_id"],
        "deployment_id": deployment["id"],
        "deployment_version": deployment["version"],
        "parameters": parameters,
        "context": request.context,
        "parent_task_run_id": request.parent_task_run_id,
        "infrastructure_document_id": request.infrastructure_document_id or deployment["infrastructure_document_id"],
        "empirical_policy": request.empirical_policy.model_dump(mode="json"),
        "tags": tags,
        "labels": labels,
        "idempotency_key": request.idempotency_key,
        "work_queue_name": work_queue_name,
        "work_queue_id": work_queue_id,
        "job_variables": request.job_variables or {},
        "run_count": 0,
        "total_run_time": 0.0,
        "auto_scheduled": False,
    }
    insert = dialect_of(connection).insert(t.flow_run).values(**values)
    if request.idempotency_key is not None:
        insert = insert.on_conflict_do_nothing(index_elements=["flow_id", "idempotency_key"])
    result = await connection.execute(insert)
    if result.rowcount == 0:
        existing = await connection.scalar(
            sa.select(t.flow_run.c.id).where(
                t.flow_run.c.flow_id == deployment["flow_id"], t.flow_run.c.idempotency_key == request.idempotency_key
            )
        )
        assert existing is not None
        row = await read_flow_run(connection, existing)
        assert row is not None
        return row, None
    initial = request.state or StateCreate(type=StateType.SCHEDULED)
    outcome = await set_flow_run_state(connection, values["id"], initial, force=True, row={**_EMPTY_FLOW_RUN, **values})
    row = await read_flow_run(connection, values["id"])
    assert row is not None
    return row, outcome


async def create_flow_runs_from_deployment(
    connection: AsyncConnection, deployment: Row, requests: list[DeploymentFlowRunCreate]
) -> list[tuple[Row, TransitionOutcome | None]]:
    """Create one run per request as `create_flow_run_from_deployment` does, in this transaction. A request refused
    (parameters that break the schema, a queue without a pool) does not stop the others: its result is FAILED with
    the reason. Returns each result (`FlowRunCreateResult`'s shape) with the outcome of the run's first state."""
    results: list[tuple[Row, TransitionOutcome | None]] = []
    for request in requests:
        try:
            row, outcome = await create_flow_run_from_deployment(connection, deployment, request)
        except (ValidationFailed, ObjectNotFound) as exc:  # raised before anything of this run is written
            results.append(({"flow_run_id": None, "status": "FAILED", "error": exc.message}, None))
            continue
        results.append(({"flow_run_id": row["id"], "status": "CREATED", "error": None}, outcome))
    return results


async def read_scheduled_runs_of_deployments(
    connection: AsyncConnection, deployment_ids: list[uuid.UUID], scheduled_before: dt.datetime | None, limit: int
) -> list[Row]:
    """The deployments' runs waiting in a SCHEDULED state, soonest first (what a `flow.serve()` runner polls)."""
    run = t.flow_run.c
    conditions = [run.deployment_id.in_(deployment_ids), run.state_type == StateType.SCHEDULED.value]
    if scheduled_before is not None:
        conditions.append(run.next_scheduled_start_time <= scheduled_before)
    query = (
        select_flow_runs()
        .where(*conditions)
        .order_by(run.next_scheduled_start_time.asc().nulls_last(), run.id)
        .limit(limit)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def delete_scheduled_runs(
    connection: AsyncConnection,
    deployment_id: uuid.UUID,
    *,
    auto_scheduled_only: bool = True,
    future_only: bool = False,
) -> int:
    """Delete the deployment's runs that have not started (still SCHEDULED, never run): only those the scheduler
    made unless `auto_scheduled_only` is False, only those due after now with `future_only`; returns how many.
    The scheduler makes its runs again from the current schedules."""
    run = t.flow_run.c
    condition = sa.and_(
        run.deployment_id == deployment_id,
        run.state_type == StateType.SCHEDULED.value,
        run.run_count == 0,
    )
    if auto_scheduled_only:
        condition = sa.and_(condition, run.auto_scheduled.is_(True))
    if future_only:
        condition = sa.and_(condition, run.next_scheduled_start_time > utcnow())
    result = await connection.execute(sa.delete(t.flow_run).where(condition))
    return result.rowcount
