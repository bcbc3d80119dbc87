"""The audit log: appended to, filtered, and trimmed by retention only (no route edits or deletes an entry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t


async def insert_audit_entries(connection: AsyncConnection, entries: Sequence[dict[str, Any]]) -> None:
    if entries:
        await connection.execute(sa.insert(t.audit_entry), list(entries))


def audit_condition(
    *,
    actor_name: str | None = None,
    actor_kind: str | None = None,
    action: str | None = None,
    action_prefix: str | None = None,
    resource_kind: str | None = None,
    resource_id: str | None = None,
    outcome: str | None = None,
    occurred_after: dt.datetime | None = None,
    occurred_before: dt.datetime | None = None,
) -> sa.ColumnElement[bool]:
    c = t.audit_entry.c
    conditions: list[sa.ColumnElement[bool]] = []
    if actor_name is not None:
        conditions.append(c.actor_name == actor_name)
    if actor_kind is not None:
        conditions.append(c.actor_kind == actor_kind)
    if action is not None:
        conditions.append(c.action == action)
    if action_prefix is not None:
        conditions.append(c.action.startswith(action_prefix, autoescape=True))
    if resource_kind is not None:
        conditions.append(c.resource_kind == resource_kind)
    if resource_id is not None:
        conditions.append(c.resource_id == resource_id)
    if outcome is not None:
        conditions.append(c.outcome == outcome)
    if occurred_after is not None:
        conditions.append(c.occurred >= occurred_after)
    if occurred_before is not None:
        conditions.append(c.occurred <= occurred_before)
    return sa.and_(sa.true(), *conditions)


async def read_audit_entries(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Newest first."""
    query = (
        sa.select(t.audit_entry)
        .where(condition)
        .order_by(t.audit_entry.c.occurred.desc(), t.audit_entry.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_audit_entries(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.audit_entry).where(condition)
    return int((await connection.execute(query)).scalar_one())
