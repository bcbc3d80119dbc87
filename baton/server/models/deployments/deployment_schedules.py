"""Data access for deployment schedules: create, read, update, delete, and replacing a deployment's whole list."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists, ValidationFailed
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.schemas.deployments import DeploymentScheduleCreate, DeploymentScheduleUpdate

Row = dict[str, Any]
schedule_table = t.deployment_schedule


def _schedule_json(schedule: Any) -> dict[str, Any]:
    return schedule.model_dump(mode="json")


async def _touch_deployment(connection: AsyncConnection, deployment_id: uuid.UUID) -> None:
    """A schedule change is a change of its deployment: a scheduler pass planned on the old one must not insert."""
    await connection.execute(sa.update(t.deployment).where(t.deployment.c.id == deployment_id).values(updated=utcnow()))


async def create_deployment_schedules(
    connection: AsyncConnection, deployment_id: uuid.UUID, schedules: list[DeploymentScheduleCreate]
) -> list[Row]:
    """Insert the schedules of a deployment; raises ObjectAlreadyExists when a slug is taken."""
    if not schedules:
        return []
    slugs = [schedule.slug for schedule in schedules if schedule.slug is not None]
    if len(slugs) != len(set(slugs)):
        raise ValidationFailed("Two schedules of a deployment cannot have the same slug.")
    if slugs:
        taken = await connection.scalars(
            sa.select(schedule_table.c.slug).where(
                schedule_table.c.deployment_id == deployment_id, schedule_table.c.slug.in_(slugs)
            )
        )
        clash = list(taken)
        if clash:
            raise ObjectAlreadyExists(f"The deployment already has a schedule with the slug {clash[0]!r}.")
    now = utcnow()
    # A microsecond apart, so that schedules created together list in the order they were given.
    rows = [
        {
            "id": uuid.uuid4(),
            "created": now + dt.timedelta(microseconds=index),
            "updated": now + dt.timedelta(microseconds=index),
            "deployment_id": deployment_id,
            "schedule": _schedule_json(schedule.schedule),
            "active": schedule.active,
            "max_scheduled_runs": schedule.max_scheduled_runs,
            "parameters": schedule.parameters,
            "slug": schedule.slug,
        }
        for index, schedule in enumerate(schedules)
    ]
    await connection.execute(schedule_table.insert(), rows)
    await _touch_deployment(connection, deployment_id)
    return rows


async def read_deployment_schedules(
    connection: AsyncConnection, deployment_ids: list[uuid.UUID]
) -> dict[Any, list[Row]]:
    """Per deployment id, its schedules, oldest first."""
    grouped: dict[Any, list[Row]] = defaultdict(list)
    if not deployment_ids:
        return grouped
    query = (
        sa.select(schedule_table)
        .where(schedule_table.c.deployment_id.in_(deployment_ids))
        .order_by(schedule_table.c.created, schedule_table.c.id)
    )
    for row in (await connection.execute(query)).mappings():
        grouped[row["deployment_id"]].append(dict(row))
    return grouped


async def update_deployment_schedule(
    connection: AsyncConnection, deployment_id: uuid.UUID, schedule_id: uuid.UUID, update: DeploymentScheduleUpdate
) -> bool:
    """Apply the fields set in `update` to one schedule of the deployment; False when there is no such schedule."""
    values = update.model_dump(exclude_unset=True, exclude={"replaces"})
    if "schedule" in values:
        if update.schedule is None:
            raise ValidationFailed("A schedule cannot be removed from its deployment schedule; delete it instead.")
        values["schedule"] = _schedule_json(update.schedule)
    if values.get("parameters") is None:
        values.pop("parameters", None)
    if values.get("active") is None:
        values.pop("active", None)
    result = await connection.execute(
        sa.update(schedule_table)
        .where(schedule_table.c.id == schedule_id, schedule_table.c.deployment_id == deployment_id)
        .values(updated=utcnow(), **values)
    )
    if result.rowcount != 1:
        return False
    await _touch_deployment(connection, deployment_id)
    return True


async def delete_deployment_schedule(
    connection: AsyncConnection, deployment_id: uuid.UUID, schedule_id: uuid.UUID
) -> bool:
    result = await connection.execute(
        sa.delete(schedule_table).where(
            schedule_table.c.id == schedule_id, schedule_table.c.deployment_id == deployment_id
        )
    )
    if result.rowcount != 1:
        return False
    await _touch_deployment(connection, deployment_id)
    return True


async def delete_deployment_schedules(connection: AsyncConnection, deployment_id: uuid.UUID) -> None:
    await connection.execute(sa.delete(schedule_table).where(schedule_table.c.deployment_id == deployment_id))


async def replace_deployment_schedules(
    connection: AsyncConnection, deployment_id: uuid.UUID, schedules: list[DeploymentScheduleUpdate]
) -> None:
    """Make the deployment's schedules those of a PATCH body, as Prefect does.

    When every given schedule and every existing one has a slug, schedules are matched by slug (or by `replaces`,
    for a rename): matches are updated in place, the rest created, and existing ones not named deleted. Otherwise
    the list replaces the existing schedules wholesale.
    """
    existing = (await read_deployment_schedules(connection, [deployment_id])).get(deployment_id, [])
    by_slug = {row["slug"]: row for row in existing}
    if schedules and existing and all(s.slug for s in schedules) and all(row["slug"] for row in existing):
        kept: set[Any] = set()
        to_create: list[DeploymentScheduleCreate] = []
        for schedule in schedules:
            target = by_slug.get(schedule.replaces or schedule.slug)
            if target is not None:
                kept.add(target["id"])
                await update_deployment_schedule(connection, deployment_id, target["id"], schedule)
            else:
                to_create.append(_as_create(schedule))
        for row in existing:
            if row["id"] not in kept:
                await delete_deployment_schedule(connection, deployment_id, row["id"])
        await create_deployment_schedules(connection, deployment_id, to_create)
        return
    if existing and all(row["slug"] for row in existing) and not all(s.slug for s in schedules):
        raise ValidationFailed(
            "Please provide a slug for each schedule in your request to ensure schedules are updated correctly."
        )
    await delete_deployment_schedules(connection, deployment_id)
    await create_deployment_schedules(connection, deployment_id, [_as_create(schedule) for schedule in schedules])


def _as_create(schedule: DeploymentScheduleUpdate) -> DeploymentScheduleCreate:
    if schedule.schedule is None:
        raise ValidationFailed("Unable to create new deployment schedules without a schedule configuration.")
    return DeploymentScheduleCreate(
        active=True if schedule.active is None else schedule.active,
        schedule=schedule.schedule,
        max_scheduled_runs=schedule.max_scheduled_runs,
        parameters=schedule.parameters or {},
        slug=schedule.slug,
    )
