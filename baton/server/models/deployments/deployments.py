"""Data access for deployments: create (upsert on flow and name), read with schedules, work pool and concurrency
limit, update, pause and resume, delete."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.concurrency import concurrency_leases, concurrency_limits
from baton.server.models.deployments import deployment_queues, deployment_schedules
from baton.server.models.deployments.deployment_runs import delete_scheduled_runs
from baton.server.models.filters import core as filters
from baton.server.schemas.concurrency import ConcurrencyLimitV2Create, ConcurrencyLimitV2Update
from baton.server.schemas.deployments import DeploymentCreate, DeploymentUpdate
from baton.server.schemas.filters import DeploymentFilter
from baton.server.schemas.requests import DeploymentPaginateRequest, RunFilterSet
from baton.server.schemas.sorting import DeploymentSort

Row = dict[str, Any]
# A deployment's own concurrency limit is the global limit of this name (as in Prefect 3).
LIMIT_NAME_PREFIX = "deployment:"

_queue = t.work_queue.alias("deployment_queue")
_pool = t.work_pool.alias("deployment_pool")
_limit = t.concurrency_limit_v2.alias("deployment_limit")
_COLUMNS = [
    *t.deployment.c,
    _pool.c.name.label("work_pool_name"),
    *(column.label(f"limit_{column.key}") for column in _limit.c),
]
_FROM = (
    t.deployment.outerjoin(_queue, _queue.c.id == t.deployment.c.work_queue_id)
    .outerjoin(_pool, _pool.c.id == _queue.c.work_pool_id)
    .outerjoin(_limit, _limit.c.id == t.deployment.c.concurrency_limit_id)
)
# The fields of a deployment's `global_concurrency_limit` (Prefect's GlobalConcurrencyLimitResponse).
GLOBAL_LIMIT_FIELDS = ("id", "created", "updated", "active", "name", "limit", "active_slots", "slot_decay_per_second")
# Columns a PATCH may not set to null: a null there means "leave as it is".
_NOT_NULL = ("paused", "tags", "parameters", "job_variables", "enforce_parameter_schema")


def deployment_limit_name(deployment_id: uuid.UUID) -> str:
    return f"{LIMIT_NAME_PREFIX}{deployment_id}"


def deployment_response(row: Row, schedules: list[Row]) -> Row:
    """The API body of a deployment row read by this module, with its schedules."""
    body = {key: value for key, value in row.items() if not key.startswith("limit_") and key != "concurrency_limit_id"}
    limit = {key[len("limit_") :]: value for key, value in row.items() if key.startswith("limit_")}
    body["concurrency_limit"] = limit["limit"]
    body["global_concurrency_limit"] = (
        {key: limit[key] for key in GLOBAL_LIMIT_FIELDS} if row["concurrency_limit_id"] is not None else None
    )
    body["schedules"] = [
        {key: schedule[key] for key in ("id", "created", "updated", "deployment_id", "schedule", "active")}
        | {key: schedule[key] for key in ("max_scheduled_runs", "parameters", "slug")}
        for schedule in schedules
    ]
    return body


# Fields of a create or update that are not deployment columns as given. Prefect's open-source server accepts
# `version_info` and keeps none of it (deployment versions are a Prefect Cloud feature), so reads answer null.
_NOT_STORED = {"schedules", "concurrency_limit", "global_concurrency_limit_id", "version_info"}


async def create_deployment(connection: AsyncConnection, deployment: DeploymentCreate) -> tuple[uuid.UUID, bool]:
    """Insert the deployment, or update the one of the same flow and name (whose not-started auto-scheduled runs
    and schedules are replaced); returns its id and whether it was created. Raises ObjectNotFound for an unknown
    flow, work pool or global concurrency limit."""
    flow = (await connection.execute(sa.select(t.flow.c.labels).where(t.flow.c.id == deployment.flow_id))).first()
    if flow is None:
        raise ObjectNotFound(f"Flow {deployment.flow_id} does not exist.")
    fields = deployment.model_fields_set
    values = deployment.model_dump(
        exclude_unset=True,
        exclude=_NOT_STORED | {"work_pool_name", "work_queue_name"},
    )
    # As Prefect labels a deployment: its flow's labels, then the system label naming the flow, then its own.
    values["labels"] = {**(flow.labels or {}), "prefect.flow.id": str(deployment.flow_id), **(deployment.labels or {})}
    values.update(await _queue_values(connection, deployment.work_pool_name, deployment.work_queue_name))
    if "global_concurrency_limit_id" in fields:
        values["concurrency_limit_id"] = await _checked_limit_id(connection, deployment.global_concurrency_limit_id)
    now = utcnow()
    deployment_id = uuid.uuid4()
    every_field = deployment.model_dump(exclude=_NOT_STORED)
    insert_values = {key: value for key, value in {**every_field, **values}.items() if key in t.deployment.c}
    insert = (
        dialect_of(connection)
        .insert(t.deployment)
        .values(id=deployment_id, created=now, updated=now, status="NOT_READY", **insert_values)
        .on_conflict_do_nothing(index_elements=["flow_id", "name"])
    )
    created = (await connection.execute(insert)).rowcount == 1
    if not created:
        existing = await connection.scalar(
            sa.select(t.deployment.c.id)
            .where(t.deployment.c.flow_id == deployment.flow_id, t.deployment.c.name == deployment.name)
            .with_for_update()
        )
        assert existing is not None  # the insert conflicted with it
        deployment_id = existing
        await connection.execute(
            sa.update(t.deployment).where(t.deployment.c.id == deployment_id).values(updated=now, **values)
        )
        await delete_scheduled_runs(connection, deployment_id)
        await deployment_schedules.delete_deployment_schedules(connection, deployment_id)
    await deployment_schedules.create_deployment_schedules(connection, deployment_id, deployment.schedules)
    if "concurrency_limit" in fields:
        await _set_own_limit(connection, deployment_id, deployment.concurrency_limit)
    return deployment_id, created


async def update_deployment(connection: AsyncConnection, deployment_id: uuid.UUID, update: DeploymentUpdate) -> bool:
    """Apply the fields set in `update`; its not-started auto-scheduled runs go (the scheduler makes them again).
    False when there is no such deployment."""
    found = await connection.scalar(
        sa.select(t.deployment.c.id).where(t.deployment.c.id == deployment_id).with_for_update()
    )
    if found is None:
        return False
    fields = update.model_fields_set
    values = update.model_dump(
        exclude_unset=True,
        exclude=_NOT_STORED | {"work_pool_name", "work_queue_name"},
    )
    values = {key: value for key, value in values.items() if value is not None or key not in _NOT_NULL}
    if update.work_pool_name or update.work_queue_name:
        values.update(await _queue_values(connection, update.work_pool_name, update.work_queue_name))
    if "global_concurrency_limit_id" in fields:
        values["concurrency_limit_id"] = await _checked_limit_id(connection, update.global_concurrency_limit_id)
    await connection.execute(
        sa.update(t.deployment).where(t.deployment.c.id == deployment_id).values(updated=utcnow(), **values)
    )
    if update.schedules is not None:
        await deployment_schedules.replace_deployment_schedules(connection, deployment_id, update.schedules)
    if "concurrency_limit" in fields:
        await _set_own_limit(connection, deployment_id, update.concurrency_limit)
    await delete_scheduled_runs(connection, deployment_id)
    return True


async def set_paused(connection: AsyncConnection, deployment_id: uuid.UUID, paused: bool) -> bool:
    """Pause (its not-started auto-scheduled runs go) or resume the deployment; False when there is none."""
    result = await connection.execute(
        sa.update(t.deployment).where(t.deployment.c.id == deployment_id).values(paused=paused, updated=utcnow())
    )
    if result.rowcount != 1:
        return False
    if paused:
        await delete_scheduled_runs(connection, deployment_id)
    return True


async def delete_deployment(connection: AsyncConnection, deployment_id: uuid.UUID) -> bool:
    """Delete the deployment, its schedules, its runs that have not started and its own concurrency limit; runs
    that started stay, without a deployment. False when there is no such deployment."""
    await delete_scheduled_runs(connection, deployment_id, auto_scheduled_only=False)
    result = await connection.execute(sa.delete(t.deployment).where(t.deployment.c.id == deployment_id))
    if result.rowcount != 1:
        return False
    own = await concurrency_limits.read_concurrency_limit(connection, deployment_limit_name(deployment_id))
    if own is not None:
        await concurrency_leases.release_leases_of_limit(connection, own["id"])
        await concurrency_limits.delete_concurrency_limit(connection, own["id"])
    return True


async def delete_deployments(
    connection: AsyncConnection, deployment_filter: DeploymentFilter | None, limit: int
) -> list[uuid.UUID]:
    """Delete the first `limit` deployments (by name) matching the filter, each as `delete_deployment` does; their
    ids."""
    condition = filters.deployment_condition(RunFilterSet(deployments=deployment_filter), dialect_of(connection))
    order_by = filters.deployment_order_by(DeploymentSort.NAME_ASC)
    query = sa.select(t.deployment.c.id).where(condition).order_by(*order_by).limit(limit)
    deployment_ids = list((await connection.execute(query)).scalars())
    for deployment_id in deployment_ids:
        await delete_deployment(connection, deployment_id)
    return deployment_ids


async def read_deployment(connection: AsyncConnection, deployment_id: uuid.UUID) -> Row | None:
    """The deployment with its work pool name, concurrency limit and schedules; None when there is none."""
    rows = await read_deployments(connection, t.deployment.c.id == deployment_id, [], 1, 0)
    return rows[0] if rows else None


async def read_deployment_or_404(connection: AsyncConnection, deployment_id: uuid.UUID) -> Row:
    """The deployment as `read_deployment` gives it; ObjectNotFound when there is none."""
    row = await read_deployment(connection, deployment_id)
    if row is None:
        raise ObjectNotFound(f"Deployment {deployment_id} does not exist.")
    return row


async def read_deployment_by_name(connection: AsyncConnection, flow_name: str, name: str) -> Row | None:
    condition = sa.and_(
        t.deployment.c.name == name,
        t.deployment.c.flow_id.in_(sa.select(t.flow.c.id).where(t.flow.c.name == flow_name)),
    )
    rows = await read_deployments(connection, condition, [], 1, 0)
    return rows[0] if rows else None


async def read_deployments(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], order_by: list[Any], limit: int, offset: int
) -> list[Row]:
    """Deployments matching `condition` as API bodies (schedules included)."""
    query = sa.select(*_COLUMNS).select_from(_FROM).where(condition).order_by(*order_by).limit(limit).offset(offset)
    rows = [dict(row) for row in (await connection.execute(query)).mappings()]
    schedules = await deployment_schedules.read_deployment_schedules(connection, [row["id"] for row in rows])
    return [deployment_response(row, schedules.get(row["id"], [])) for row in rows]


async def count_deployments(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.deployment).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def filter_deployments(
    connection: AsyncConnection, request: RunFilterSet, sort: DeploymentSort, limit: int, offset: int
) -> list[Row]:
    """The deployments matching the filters of `request` as API bodies, in `sort` order, `limit` from `offset`."""
    condition = filters.deployment_condition(request, dialect_of(connection))
    return await read_deployments(connection, condition, filters.deployment_order_by(sort), limit, offset)


async def count_deployments_matching(connection: AsyncConnection, request: RunFilterSet) -> int:
    """How many deployments match the filters of `request`."""
    return await count_deployments(connection, filters.deployment_condition(request, dialect_of(connection)))


async def paginate_deployments(
    connection: AsyncConnection, request: DeploymentPaginateRequest, limit: int
) -> tuple[list[Row], int]:
    """Page `request.page` (of `limit` deployments) of those matching `request`, and how many match in all."""
    condition = filters.deployment_condition(request, dialect_of(connection))
    count = await count_deployments(connection, condition)
    order_by = filters.deployment_order_by(request.sort)
    return await read_deployments(connection, condition, order_by, limit, (request.page - 1) * limit), count


async def _queue_values(connection: AsyncConnection, pool_name: str | None, queue_name: str | None) -> Row:
    """The work queue columns for the names given (none when neither is)."""
    queue_id = await deployment_queues.resolve_work_queue_id(connection, pool_name, queue_name)
    if queue_id is None:
        return {}
    names = await deployment_queues.read_queue_names(connection, queue_id)
    return {"work_queue_id": queue_id, "work_queue_name": names["work_queue_name"]}


async def _checked_limit_id(connection: AsyncConnection, limit_id: uuid.UUID | None) -> uuid.UUID | None:
    if limit_id is not None and await concurrency_limits.read_concurrency_limit(connection, limit_id) is None:
        raise ObjectNotFound("Concurrency limit not found")
    return limit_id


async def _set_own_limit(connection: AsyncConnection, deployment_id: uuid.UUID, size: int | None) -> None:
    """Give the deployment a concurrency limit of `size` (its own global limit `deployment:<id>`), or none."""
    name = deployment_limit_name(deployment_id)
    own = await concurrency_limits.read_concurrency_limit(connection, name)
    if size is None:
        if own is not None:
            await concurrency_leases.release_leases_of_limit(connection, own["id"])
            await concurrency_limits.delete_concurrency_limit(connection, own["id"])
        await connection.execute(
            sa.update(t.deployment)
            .where(t.deployment.c.id == deployment_id)
            .values(concurrency_limit=None, concurrency_limit_id=None)
        )
        return
    if own is None:
        own = await concurrency_limits.create_concurrency_limit(
            connection, ConcurrencyLimitV2Create.model_validate({"name": name, "limit": size})
        )
    else:
        await concurrency_limits.update_concurrency_limit(
            connection, own["id"], ConcurrencyLimitV2Update.model_validate({"limit": size})
        )
    await connection.execute(
        sa.update(t.deployment)
        .where(t.deployment.c.id == deployment_id)
        .values(concurrency_limit=size, concurrency_limit_id=own["id"])
    )
