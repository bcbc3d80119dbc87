"""Shared by the events read-side tests: events seeded straight into the table."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from baton.server.database.engine import Database
from baton.server.models.events.events import write_events

NOW = dt.datetime.now(dt.UTC)


def event(
    name: str,
    resource_id: str,
    occurred: dt.datetime | None = None,
    related: list[dict[str, str]] | None = None,
    payload: dict[str, Any] | None = None,
    **labels: str,
) -> dict[str, Any]:
    """An event in the JSON shape the recorder stores; label keyword arguments use `_` for `.`."""
    resource = {"prefect.resource.id": resource_id, **{key.replace("_", "."): value for key, value in labels.items()}}
    return {
        "id": str(uuid.uuid4()),
        "occurred": (occurred or dt.datetime.now(dt.UTC)).isoformat(),
        "event": name,
        "resource": resource,
        "related": related or [],
        "payload": payload or {},
    }


def related(resource_id: str, role: str, **labels: str) -> dict[str, str]:
    return {"prefect.resource.id": resource_id, "prefect.resource.role": role, **labels}


async def seed(database: Database, *events: dict[str, Any]) -> list[dict[str, Any]]:
    async with database.write() as connection:
        await write_events(connection, list(events))
    return list(events)
