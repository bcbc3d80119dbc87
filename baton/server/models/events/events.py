"""Storing events: one multi-row insert per batch, a repeated event id is skipped (exactly-once on redelivery).

Events travel through the queue as JSON-mode dicts (`Event.model_dump(mode="json")` plus `received`); `event_row`
turns one into a row of the `events` table and `event_from_row` turns a row back into the wire shape.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.dialects.base import OnConflict
from baton.server.database.types import utcnow
from baton.server.schemas.events import RESOURCE_ID

EVENT_COLUMNS = ("id", "occurred", "event", "resource", "related", "payload", "follows", "received")
# An id already stored is skipped: recording is idempotent.
SKIP_STORED = OnConflict()


def by_id(row: dict[str, Any]) -> int:
    """Sort key of rows by their UUID `id` (the integer: comparing UUID objects is much slower)."""
    return row["id"].int


def parse_time(value: str | dt.datetime) -> dt.datetime:
    """An ISO-8601 string (or datetime) as an aware UTC datetime."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def event_row(event: dict[str, Any], recorded: dt.datetime) -> dict[str, Any]:
    """The `events` row for one queued event."""
    related = event.get("related") or []
    follows = event.get("follows")
    return {
        "id": uuid.UUID(str(event["id"])),
        "created": recorded,
        "updated": recorded,
        "occurred": parse_time(event["occurred"]),
        "event": event["event"],
        "resource_id": event["resource"][RESOURCE_ID],
        "resource": event["resource"],
        "related_resource_ids": [labels[RESOURCE_ID] for labels in related],
        "related": related,
        "payload": event.get("payload") or {},
        "received": parse_time(event.get("received") or recorded),
        "recorded": recorded,
        "follows": uuid.UUID(str(follows)) if follows else None,
    }


def event_from_row(row: Any) -> dict[str, Any]:
    """An `events` row in the wire shape of a received event."""
    return {
        "id": row["id"],
        "occurred": row["occurred"],
        "event": row["event"],
        "resource": row["resource"],
        "related": row["related"],
        "payload": row["payload"],
        "follows": row["follows"],
        "received": row["received"],
    }


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `events` rows of `events`, one per id (the first), in id order: two batches holding the same ids (a
    redelivery) then lock them in the same order and cannot deadlock."""
    recorded = utcnow()
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    for event in events:
        row = event_row(event, recorded)
        rows.setdefault(row["id"], row)
    return sorted(rows.values(), key=by_id)


async def insert_event_rows(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (see `event_rows`), skipping ids already stored."""
    await dialect_of(connection).insert_rows(connection, t.events, rows, SKIP_STORED)


async def insert_new_event_rows(connection: AsyncConnection, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert `rows` (see `event_rows`), skipping ids already stored; the ids of those inserted."""
    return await dialect_of(connection).insert_new_rows(connection, t.events, rows)


async def write_events(connection: AsyncConnection, events: list[dict[str, Any]]) -> None:
    """Insert `events`, skipping ids already stored (or repeated within the batch)."""
    if events:
        await insert_event_rows(connection, event_rows(events))
