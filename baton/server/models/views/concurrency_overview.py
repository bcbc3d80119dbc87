"""What the Concurrency page shows: global and tag limits with their holders, and the names of the holding runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.models.concurrency import concurrency_leases as leases
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.models.concurrency.concurrency_limits import TAG_PREFIX

Row = dict[str, Any]
limit_table = t.concurrency_limit_v2


@dataclass
class LimitsOverview:
    """Global limits (not `tag:*`) and tag limits, each with `holders`, and the run behind each holder id."""

    global_limits: list[Row]
    tag_limits: list[Row]
    has_more_global: bool
    has_more_tags: bool
    holder_names: dict[uuid.UUID, Row] = field(default_factory=dict)


async def read_limits_overview(connection: AsyncConnection, page_size: int) -> LimitsOverview:
    """Up to `page_size` limits of each kind sorted by name, slot counts after decay, with their holders."""
    is_tag = limit_table.c.name.startswith(TAG_PREFIX, autoescape=True)
    global_rows = await _read_limits(connection, sa.not_(is_tag), page_size + 1)
    tag_rows = await _read_limits(connection, is_tag, page_size + 1)
    shown = global_rows[:page_size] + tag_rows[:page_size]
    holders = await leases.read_limit_holders(connection, [row["id"] for row in shown])
    for row in shown:
        row.update(limits.with_decayed_slots(row))
        row["holders"] = holders[row["id"]]
        row["tag"] = row["name"].removeprefix(TAG_PREFIX)
    names = await read_holder_names(connection, [holder for row in shown for holder in row["holders"]])
    return LimitsOverview(
        global_limits=global_rows[:page_size],
        tag_limits=tag_rows[:page_size],
        has_more_global=len(global_rows) > page_size,
        has_more_tags=len(tag_rows) > page_size,
        holder_names=names,
    )


async def read_holder_names(connection: AsyncConnection, holders: list[Row]) -> dict[uuid.UUID, Row]:
    """{holder id: {name, state_type, state_name, flow_run_id}} for the flow runs and task runs among `holders` that
    exist (a flow run's `flow_run_id` is its own id; a task run's, its parent's)."""
    names: dict[uuid.UUID, Row] = {}
    for holder_type, table in (("flow_run", t.flow_run), ("task_run", t.task_run)):
        ids = {holder["id"] for holder in holders if holder["type"] == holder_type and holder["id"] is not None}
        if not ids:
            continue
        parent = table.c.id if table is t.flow_run else table.c.flow_run_id
        query = sa.select(
            table.c.id, table.c.name, table.c.state_type, table.c.state_name, parent.label("flow_run_id")
        ).where(table.c.id.in_(ids))
        for row in (await connection.execute(query)).mappings():
            names[row["id"]] = dict(row)
    return names


async def _read_limits(connection: AsyncConnection, condition: sa.ColumnElement[bool], limit: int) -> list[Row]:
    query = sa.select(limit_table).where(condition).order_by(limit_table.c.name).limit(limit)
    return [dict(row) for row in (await connection.execute(query)).mappings()]
