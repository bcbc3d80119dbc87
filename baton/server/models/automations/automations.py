"""Data access for automations: create, read, replace, enable or disable, delete, filter, count; the resources each
relates to (its owner, and the deployments its actions select), which `prefect deployment inspect` and a redeploy
read."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.database.types import utcnow
from baton.server.models.variables import combine
from baton.server.schemas.automations import (
    AutomationCore,
    AutomationFilter,
    AutomationSort,
    RunDeployment,
    reset_trigger_ids,
    run_deployment_loop,
)

Condition = sa.ColumnElement[bool]
DEPLOYMENT_RESOURCE_PREFIX = "prefect.deployment."
_STORED = ("name", "description", "enabled", "tags", "trigger", "actions", "actions_on_trigger", "actions_on_resolve")


def _stored_values(automation: AutomationCore) -> dict[str, Any]:
    return automation.model_dump(mode="json", include=set(_STORED))


async def create_automation(
    connection: AsyncConnection, automation: AutomationCore, owner_resource: str | None = None
) -> dict[str, Any]:
    """Insert the automation (its triggers get fresh ids) and relate it to its owner and selected deployments."""
    reset_trigger_ids(automation.trigger)
    now = utcnow()
    row = {"id": uuid.uuid4(), "created": now, "updated": now, **_stored_values(automation)}
    await connection.execute(sa.insert(t.automation).values(**row))
    await _sync_related_deployments(connection, row["id"], automation)
    if owner_resource:
        await relate_automation_to_resource(connection, row["id"], owner_resource, owned=True)
    return row


async def read_automation(connection: AsyncConnection, automation_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.automation).where(t.automation.c.id == automation_id))).mappings()
    found = row.first()
    return dict(found) if found else None


async def read_enabled_automations(connection: AsyncConnection) -> list[dict[str, Any]]:
    """Every enabled automation, oldest first: what the trigger engine evaluates."""
    query = sa.select(t.automation).where(t.automation.c.enabled.is_(True)).order_by(t.automation.c.created)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def replace_automation(connection: AsyncConnection, automation_id: uuid.UUID, automation: AutomationCore) -> bool:
    """Replace every field of the automation (PUT); its triggers get fresh ids, so their counting starts over.
    False when there is no such automation."""
    reset_trigger_ids(automation.trigger)
    result = await connection.execute(
        sa.update(t.automation)
        .where(t.automation.c.id == automation_id)
        .values(updated=utcnow(), **_stored_values(automation))
    )
    if result.rowcount != 1:
        return False
    await forget_trigger_state(connection, automation_id)
    await _sync_related_deployments(connection, automation_id, automation)
    return True


async def set_automation_enabled(connection: AsyncConnection, automation_id: uuid.UUID, enabled: bool) -> bool:
    """Turn the automation on or off; turning it off forgets its trigger state. False when there is none;
    ValidationFailed when turning it on would let its run-deployment actions fire it again without end."""
    if enabled:
        current = await read_automation(connection, automation_id)
        if current is None:
            return False
        stored = AutomationCore.model_validate({**{key: current[key] for key in _STORED}, "enabled": True})
        problem = run_deployment_loop(stored)
        if problem:
            raise ValidationFailed(
                "Invalid request received.",
                [{"loc": ["body", "enabled"], "msg": f"Value error, {problem}", "type": "value_error"}],
            )
    result = await connection.execute(
        sa.update(t.automation).where(t.automation.c.id == automation_id).values(enabled=enabled, updated=utcnow())
    )
    if result.rowcount != 1:
        return False
    if not enabled:
        await forget_trigger_state(connection, automation_id)
    return True


async def delete_automation(connection: AsyncConnection, automation_id: uuid.UUID) -> bool:
    """Delete the automation with its state, firings and related resources; False when there is none."""
    result = await connection.execute(sa.delete(t.automation).where(t.automation.c.id == automation_id))
    return result.rowcount == 1


async def forget_trigger_state(connection: AsyncConnection, automation_id: uuid.UUID) -> None:
    """Drop the automation's buckets, counted events and held child firings (its history of firings stays)."""
    for table in (t.automation_bucket, t.automation_counted_event, t.composite_trigger_child_firing):
        await connection.execute(sa.delete(table).where(table.c.automation_id == automation_id))


async def filter_automations(
    connection: AsyncConnection, spec: AutomationFilter | None, sort: AutomationSort, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = (
        sa.select(t.automation)
        .where(automation_condition(spec, dialect_of(connection)))
        .order_by(*automation_order_by(sort))
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_automations(connection: AsyncConnection, spec: AutomationFilter | None) -> int:
    query = (
        sa.select(sa.func.count()).select_from(t.automation).where(automation_condition(spec, dialect_of(connection)))
    )
    return int((await connection.execute(query)).scalar_one())


async def relate_automation_to_resource(
    connection: AsyncConnection, automation_id: uuid.UUID, resource_id: str, *, owned: bool
) -> None:
    """Record that the automation relates to `resource_id`; once owned, a relation stays owned."""
    now = utcnow()
    insert = dialect_of(connection).insert(t.automation_related_resource)
    await connection.execute(
        insert.values(
            id=uuid.uuid4(),
            created=now,
            updated=now,
            automation_id=automation_id,
            resource_id=resource_id,
            automation_owned_by_resource=owned,
        ).on_conflict_do_nothing(index_elements=["automation_id", "resource_id"])
    )
    if owned:
        related = t.automation_related_resource.c
        await connection.execute(
            sa.update(t.automation_related_resource)
            .where(related.automation_id == automation_id, related.resource_id == resource_id)
            .values(automation_owned_by_resource=True, updated=now)
        )


async def read_automations_related_to(connection: AsyncConnection, resource_id: str) -> list[dict[str, Any]]:
    """The automations related to `resource_id` (owned by it or naming it), by name."""
    related = t.automation_related_resource.c
    query = (
        sa.select(t.automation)
        .join(t.automation_related_resource, related.automation_id == t.automation.c.id)
        .where(related.resource_id == resource_id)
        .order_by(t.automation.c.name, t.automation.c.id)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def delete_automations_owned_by(connection: AsyncConnection, resource_id: str) -> int:
    """Delete the automations `resource_id` owns (a redeploy replaces its triggers this way); how many."""
    related = t.automation_related_resource.c
    owned = sa.select(related.automation_id).where(
        related.resource_id == resource_id, related.automation_owned_by_resource.is_(True)
    )
    result = await connection.execute(sa.delete(t.automation).where(t.automation.c.id.in_(owned)))
    return result.rowcount


async def _sync_related_deployments(
    connection: AsyncConnection, automation_id: uuid.UUID, automation: AutomationCore
) -> None:
    """Relate the automation to exactly the deployments its run-deployment actions select (its owner relation,
    when it has one, is kept)."""
    related = t.automation_related_resource.c
    await connection.execute(
        sa.delete(t.automation_related_resource).where(
            related.automation_id == automation_id,
            related.resource_id.like(f"{DEPLOYMENT_RESOURCE_PREFIX}%"),
            related.automation_owned_by_resource.is_(False),
        )
    )
    selected = {
        action.deployment_id
        for action in automation.actions
        if isinstance(action, RunDeployment) and action.source == "selected" and action.deployment_id is not None
    }
    for deployment_id in sorted(selected, key=str):
        await relate_automation_to_resource(
            connection, automation_id, f"{DEPLOYMENT_RESOURCE_PREFIX}{deployment_id}", owned=False
        )


# --- filters and sorting --------------------------------------------------------------------------------------------


def automation_condition(spec: AutomationFilter | None, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `automation` for an `automations` filter (everything when `spec` is None)."""
    if spec is None:
        return sa.true()
    column = t.automation.c
    parts: list[Condition] = []
    if spec.id is not None and spec.id.any_ is not None:
        parts.append(column.id.in_(spec.id.any_))
    if spec.name is not None and spec.name.any_ is not None:
        parts.append(column.name.in_(spec.name.any_))
    if spec.created is not None and spec.created.before_ is not None:
        parts.append(column.created <= spec.created.before_)
    if spec.tags is not None:
        tags: list[Condition] = []
        if spec.tags.all_:
            tags.append(dialect.json_contains(column.tags, spec.tags.all_))
        if spec.tags.any_:
            tags.append(dialect.json_overlaps(column.tags, spec.tags.any_))
        if spec.tags.is_null_ is not None:
            empty = sa.func.coalesce(dialect.json_array_length(column.tags), 0) == 0
            tags.append(empty if spec.tags.is_null_ else sa.not_(empty))
        parts.append(combine(tags, spec.tags.operator))
    return combine(parts, spec.operator)


def automation_order_by(sort: AutomationSort) -> list[sa.ColumnElement[Any]]:
    column = t.automation.c
    orders = {
        AutomationSort.CREATED_DESC: column.created.desc(),
        AutomationSort.UPDATED_DESC: column.updated.desc(),
        AutomationSort.NAME_ASC: column.name.asc(),
        AutomationSort.NAME_DESC: column.name.desc(),
    }
    return [orders[sort], column.id.asc()]
