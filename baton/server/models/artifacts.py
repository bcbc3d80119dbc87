"""Data access for artifacts and artifact collections, and their filter and sort bodies as SQL.

An artifact with a key is one version of that key; `artifact_collection` holds one row per key, a copy of its
latest version (`latest_id`). Creating a keyed artifact upserts that row; deleting the latest version points it back
at the newest remaining version, or removes it when none is left.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.database.types import utcnow
from baton.server.models.filters.core import flow_run_condition, task_run_condition
from baton.server.models.variables import combine, contains_pattern
from baton.server.schemas.artifacts import (
    ARTIFACT_FIELDS,
    ArtifactCollectionFilterRequest,
    ArtifactCreate,
    ArtifactFilterKey,
    ArtifactFilterRequest,
    ArtifactFilterType,
    ArtifactSort,
    ArtifactUpdate,
)
from baton.server.schemas.filters import IdAny
from baton.server.schemas.requests import RunFilterSet

Condition = sa.ColumnElement[bool]


async def create_artifact(connection: AsyncConnection, artifact: ArtifactCreate) -> dict[str, Any]:
    """Insert the artifact and, when it has a key, make it the latest of its key's collection; returns its row."""
    now = utcnow()
    row = {"id": uuid.uuid4(), "created": now, "updated": now, **artifact.model_dump()}
    if artifact.key is not None:
        copied = {name: row[name] for name in ARTIFACT_FIELDS}
        insert = dialect_of(connection).insert(t.artifact_collection)
        upsert = insert.values(id=uuid.uuid4(), created=now, updated=now, latest_id=row["id"], **copied)
        # The collection keeps its id and `created` (when the key first appeared); the rest follows the new version.
        changed = {name: insert.excluded[name] for name in ("latest_id", "updated", *ARTIFACT_FIELDS)}
        await connection.execute(upsert.on_conflict_do_update(index_elements=["key"], set_=changed))
    await connection.execute(sa.insert(t.artifact).values(**row))
    return row


async def read_artifact(connection: AsyncConnection, artifact_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.artifact).where(t.artifact.c.id == artifact_id))).mappings().first()
    return dict(row) if row else None


async def read_latest_artifact(connection: AsyncConnection, key: str) -> dict[str, Any] | None:
    """The collection row of `key` (its latest version's fields, with the collection's own id), or None."""
    query = sa.select(t.artifact_collection).where(t.artifact_collection.c.key == key)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_artifacts(
    connection: AsyncConnection, condition: Condition, order_by: list[Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(t.artifact).where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_artifacts(connection: AsyncConnection, condition: Condition) -> int:
    query = sa.select(sa.func.count()).select_from(t.artifact).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def read_latest_artifacts(
    connection: AsyncConnection, condition: Condition, order_by: list[Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(t.artifact_collection).where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_latest_artifacts(connection: AsyncConnection, condition: Condition) -> int:
    query = sa.select(sa.func.count()).select_from(t.artifact_collection).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def filter_artifacts(
    connection: AsyncConnection, request: ArtifactFilterRequest, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The artifacts matching the filters of `request`, in its sort order, `limit` of them from `offset`."""
    condition = artifact_condition(request, dialect_of(connection))
    return await read_artifacts(connection, condition, artifact_order_by(request.sort), limit, offset)


async def count_artifacts_matching(connection: AsyncConnection, request: ArtifactFilterRequest) -> int:
    """How many artifacts match the filters of `request`."""
    return await count_artifacts(connection, artifact_condition(request, dialect_of(connection)))


async def filter_latest_artifacts(
    connection: AsyncConnection, request: ArtifactCollectionFilterRequest, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The latest artifact of each key matching the filters of `request`, in its sort order, `limit` from `offset`."""
    condition = artifact_collection_condition(request, dialect_of(connection))
    return await read_latest_artifacts(connection, condition, artifact_collection_order_by(request.sort), limit, offset)


async def count_latest_artifacts_matching(connection: AsyncConnection, request: ArtifactCollectionFilterRequest) -> int:
    """How many keys' latest artifacts match the filters of `request`."""
    return await count_latest_artifacts(connection, artifact_collection_condition(request, dialect_of(connection)))


async def update_artifact(connection: AsyncConnection, artifact_id: uuid.UUID, update: ArtifactUpdate) -> bool:
    """Apply the fields set in `update` to the artifact and, if it is the latest of its key, to the collection;
    False when there is no such artifact."""
    values = {"updated": utcnow(), **update.model_dump(exclude_unset=True)}
    result = await connection.execute(sa.update(t.artifact).where(t.artifact.c.id == artifact_id).values(**values))
    await connection.execute(
        sa.update(t.artifact_collection).where(t.artifact_collection.c.latest_id == artifact_id).values(**values)
    )
    return result.rowcount == 1


async def delete_artifact(connection: AsyncConnection, artifact_id: uuid.UUID) -> bool:
    """Delete the artifact, keeping its key's collection on the newest remaining version (or removing it when there
    is none); False when there is no such artifact."""
    key = await connection.scalar(sa.select(t.artifact.c.key).where(t.artifact.c.id == artifact_id))
    result = await connection.execute(sa.delete(t.artifact).where(t.artifact.c.id == artifact_id))
    if result.rowcount != 1:
        return False
    if key is not None:
        await repoint_artifact_collection(connection, key)
    return True


async def repoint_artifact_collection(connection: AsyncConnection, key: str) -> None:
    """After versions of `key` were deleted: when the collection's latest version is gone, point it at the newest
    remaining version, or remove it when none is left."""
    collection = t.artifact_collection.c
    latest_gone = sa.and_(collection.key == key, ~sa.exists().where(t.artifact.c.id == collection.latest_id))
    if await connection.scalar(sa.select(collection.id).where(latest_gone)) is None:
        return
    previous_query = (
        sa.select(t.artifact)
        .where(t.artifact.c.key == key)
        .order_by(t.artifact.c.created.desc(), t.artifact.c.id.desc())
        .limit(1)
    )
    previous = (await connection.execute(previous_query)).mappings().first()
    if previous is None:
        await connection.execute(sa.delete(t.artifact_collection).where(collection.key == key))
        return
    # As Prefect does, the collection takes the previous version's timestamps along with its fields.
    copied = {name: previous[name] for name in ("created", "updated", *ARTIFACT_FIELDS)}
    await connection.execute(
        sa.update(t.artifact_collection).where(collection.key == key).values(latest_id=previous["id"], **copied)
    )


async def delete_artifacts_where(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    """Delete the artifacts matching `condition`, re-pointing their keys' collections; how many were deleted."""
    artifact = t.artifact.c
    keys = list(
        await connection.scalars(sa.select(artifact.key).distinct().where(condition, artifact.key.is_not(None)))
    )
    deleted = (await connection.execute(sa.delete(t.artifact).where(condition))).rowcount
    for key in keys:
        await repoint_artifact_collection(connection, key)
    return deleted


# --- filters and sorting --------------------------------------------------------------------------------------------


def _ids(column: sa.ColumnElement[Any], spec: IdAny | None) -> Condition | None:
    if spec is None:
        return None
    return combine([] if spec.any_ is None else [column.in_(spec.any_)])


def _key(column: sa.ColumnElement[Any], spec: ArtifactFilterKey | None) -> Condition | None:
    if spec is None:
        return None
    parts: list[Condition] = []
    if spec.any_ is not None:
        parts.append(column.in_(spec.any_))
    if spec.like_:
        parts.append(contains_pattern(column, spec.like_))
    if spec.exists_ is not None:
        parts.append(column.is_not(None) if spec.exists_ else column.is_(None))
    return combine(parts)


def _type(column: sa.ColumnElement[Any], spec: ArtifactFilterType | None) -> Condition | None:
    if spec is None:
        return None
    parts: list[Condition] = []
    if spec.any_ is not None:
        parts.append(column.in_(spec.any_))
    if spec.not_any_:
        parts.append(column.not_in(spec.not_any_))
    return combine(parts)


def _related_runs(
    table: sa.Table, request: ArtifactFilterRequest | ArtifactCollectionFilterRequest, dialect: DatabaseDialect
) -> list[Condition]:
    """Conditions that the artifact's flow run and task run exist and match the run filters that are present."""
    parts: list[Condition] = []
    if request.flows is not None or request.flow_runs is not None or request.deployments is not None:
        runs = RunFilterSet(flows=request.flows, flow_runs=request.flow_runs, deployments=request.deployments)
        matching = sa.select(t.flow_run.c.id).where(flow_run_condition(runs, dialect)).correlate(None)
        parts.append(table.c.flow_run_id.in_(matching))
    if request.task_runs is not None:
        tasks = RunFilterSet(task_runs=request.task_runs)
        matching = sa.select(t.task_run.c.id).where(task_run_condition(tasks, dialect)).correlate(None)
        parts.append(table.c.task_run_id.in_(matching))
    return parts


def artifact_condition(request: ArtifactFilterRequest, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `artifact` for an artifact filter or count request."""
    column = t.artifact.c
    parts = _related_runs(t.artifact, request, dialect)
    spec = request.artifacts
    if spec is not None:
        fields = [
            _ids(column.id, spec.id),
            _key(column.key, spec.key),
            _ids(column.flow_run_id, spec.flow_run_id),
            _ids(column.task_run_id, spec.task_run_id),
            _type(column.type, spec.type),
        ]
        parts.append(combine([part for part in fields if part is not None], spec.operator))
    return combine(parts)


def artifact_collection_condition(request: ArtifactCollectionFilterRequest, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `artifact_collection` for a latest-artifacts filter or count request."""
    column = t.artifact_collection.c
    parts = _related_runs(t.artifact_collection, request, dialect)
    spec = request.artifacts
    if spec is not None:
        fields = [
            _ids(column.latest_id, spec.latest_id),
            _key(column.key, spec.key),
            _ids(column.flow_run_id, spec.flow_run_id),
            _ids(column.task_run_id, spec.task_run_id),
            _type(column.type, spec.type),
        ]
        parts.append(combine([part for part in fields if part is not None], spec.operator))
    return combine(parts)


def artifact_order_by(sort: ArtifactSort) -> list[sa.ColumnElement[Any]]:
    """ORDER BY over `artifact` for an artifact sort."""
    return _order_by(t.artifact, sort)


def artifact_collection_order_by(sort: ArtifactSort) -> list[sa.ColumnElement[Any]]:
    """ORDER BY over `artifact_collection` for an artifact sort (`ID_DESC` is the collection's own id, as in
    Prefect)."""
    return _order_by(t.artifact_collection, sort)


def _order_by(table: sa.Table, sort: ArtifactSort) -> list[sa.ColumnElement[Any]]:
    column = table.c
    orders = {
        ArtifactSort.CREATED_DESC: [column.created.desc()],
        ArtifactSort.UPDATED_DESC: [column.updated.desc()],
        ArtifactSort.ID_DESC: [],
        # Artifacts without a key come last both ways, on both databases.
        ArtifactSort.KEY_DESC: [column.key.desc().nulls_last()],
        ArtifactSort.KEY_ASC: [column.key.asc().nulls_last()],
    }
    # Ending with the id keeps pages stable.
    return [*orders[sort], column.id.asc() if sort is ArtifactSort.KEY_ASC else column.id.desc()]
