"""A worker or a served flow polled deployments: they are READY, with a `prefect.deployment.ready` event for each
that was not."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.events import status_events
from baton.server.models.events.status_events import Event


async def mark_deployments_polled(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], now: dt.datetime
) -> list[Event]:
    """Set `last_polled` of the deployments matching `condition`; those not READY become READY, and their status
    events are returned (not yet written).

    This runs on every poll, so the common case (nothing changes status) is the one UPDATE it always was: it returns
    the rows' statuses, which it leaves alone (the rows are locked by then, so they are current); only rows found
    not READY get a second, guarded UPDATE."""
    deployment = t.deployment.c
    polled = await connection.execute(
        sa.update(t.deployment).where(condition).values(last_polled=now).returning(deployment.id, deployment.status)
    )
    unready = [row.id for row in polled if row.status != "READY"]
    if not unready:
        return []
    ready = await connection.execute(
        sa.update(t.deployment)
        .where(deployment.id.in_(unready), deployment.status != "READY")
        .values(status="READY")
        .returning(*status_events.DEPLOYMENT_COLUMNS)
    )
    rows = [dict(row) for row in ready.mappings()]
    return await status_events.deployment_status_events(connection, rows, "READY", now)


async def record_deployment_polls(
    connection: AsyncConnection, deployment_ids: list[uuid.UUID], now: dt.datetime
) -> list[Event]:
    """A served flow (`flow.serve()`'s runner) polled these deployments for runs: they are READY. Returns the status
    events written."""
    if not deployment_ids:
        return []
    events = await mark_deployments_polled(connection, t.deployment.c.id.in_(deployment_ids), now)
    return await status_events.record_status_events(connection, events)
