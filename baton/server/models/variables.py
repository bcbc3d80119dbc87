"""Data access for variables, and their filter and sort bodies as SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists
from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect, dialect_of
from baton.server.database.types import utcnow
from baton.server.schemas.filters import TagsAllNull
from baton.server.schemas.variables import (
    VariableCreate,
    VariableFilter,
    VariableFilterRequest,
    VariableSort,
    VariableUpdate,
)

Condition = sa.ColumnElement[bool]


async def create_variable(connection: AsyncConnection, variable: VariableCreate) -> dict[str, Any]:
    """Insert the variable and return its row; raises ObjectAlreadyExists when the name is taken."""
    now = utcnow()
    row = {"id": uuid.uuid4(), "created": now, "updated": now, **variable.model_dump()}
    insert = dialect_of(connection).insert(t.variable).values(**row).on_conflict_do_nothing(index_elements=["name"])
    if (await connection.execute(insert)).rowcount != 1:
        raise ObjectAlreadyExists(f"A variable named {variable.name!r} already exists.")
    return row


async def read_variable(connection: AsyncConnection, variable_id: uuid.UUID) -> dict[str, Any] | None:
    return await _read_one(connection, t.variable.c.id == variable_id)


async def read_variable_by_name(connection: AsyncConnection, name: str) -> dict[str, Any] | None:
    return await _read_one(connection, t.variable.c.name == name)


async def read_variables(
    connection: AsyncConnection, condition: Condition, order_by: list[Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(t.variable).where(condition).order_by(*order_by).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_variables(connection: AsyncConnection, condition: Condition) -> int:
    query = sa.select(sa.func.count()).select_from(t.variable).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def filter_variables(
    connection: AsyncConnection, request: VariableFilterRequest, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The variables matching the filter of `request`, in its sort order, `limit` of them from `offset`."""
    condition = variable_condition(request.variables, dialect_of(connection))
    return await read_variables(connection, condition, variable_order_by(request.sort), limit, offset)


async def count_variables_matching(connection: AsyncConnection, request: VariableFilterRequest) -> int:
    """How many variables match the filter of `request`."""
    return await count_variables(connection, variable_condition(request.variables, dialect_of(connection)))


async def update_variable(connection: AsyncConnection, variable_id: uuid.UUID, update: VariableUpdate) -> bool:
    """Apply the fields set in `update`; False when there is no such variable, ObjectAlreadyExists on a name clash."""
    return await _update(connection, t.variable.c.id == variable_id, update)


async def update_variable_by_name(connection: AsyncConnection, name: str, update: VariableUpdate) -> bool:
    """As `update_variable`, for the variable named `name`."""
    return await _update(connection, t.variable.c.name == name, update)


async def delete_variable(connection: AsyncConnection, variable_id: uuid.UUID) -> bool:
    """Delete the variable; False when there is no such variable."""
    result = await connection.execute(sa.delete(t.variable).where(t.variable.c.id == variable_id))
    return result.rowcount == 1


async def delete_variable_by_name(connection: AsyncConnection, name: str) -> bool:
    """Delete the variable named `name`; False when there is none."""
    result = await connection.execute(sa.delete(t.variable).where(t.variable.c.name == name))
    return result.rowcount == 1


async def _read_one(connection: AsyncConnection, condition: Condition) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.variable).where(condition))).mappings().first()
    return dict(row) if row else None


async def _update(connection: AsyncConnection, which: Condition, update: VariableUpdate) -> bool:
    variable_id = await connection.scalar(sa.select(t.variable.c.id).where(which))
    if variable_id is None:
        return False
    values = update.model_dump(exclude_unset=True)
    # The name and the tags are NOT NULL columns: a null for either means "unchanged", not "clear".
    for key in ("name", "tags"):
        if key in values and values[key] is None:
            del values[key]
    if "name" in values:
        clash = sa.select(t.variable.c.id).where(t.variable.c.name == values["name"], t.variable.c.id != variable_id)
        if await connection.scalar(clash) is not None:
            raise ObjectAlreadyExists(f"A variable named {values['name']!r} already exists.")
    await connection.execute(
        sa.update(t.variable).where(t.variable.c.id == variable_id).values(updated=utcnow(), **values)
    )
    return True


# --- filters and sorting --------------------------------------------------------------------------------------------


def combine(parts: Sequence[Condition], operator: str = "and_") -> Condition:
    """`parts` joined with `operator`; true when there are none (Prefect's rule for an empty filter)."""
    if not parts:
        return sa.true()
    if len(parts) == 1:
        return parts[0]
    return sa.and_(*parts) if operator == "and_" else sa.or_(*parts)


def contains_pattern(column: sa.ColumnElement[Any], pattern: str) -> Condition:
    """Case-insensitive substring match in which `%` and `_` stay SQL wildcards (Prefect documents them for
    variable names and artifact keys, unlike the other `like_` filters, which Baton matches literally)."""
    return column.ilike(f"%{pattern}%")


def tags_condition(column: sa.ColumnElement[Any], spec: TagsAllNull, dialect: DatabaseDialect) -> Condition:
    """`all_`: the tags include every one given; `is_null_`: the tag list is (or is not) empty."""
    parts: list[Condition] = []
    if spec.all_:
        parts.append(dialect.json_contains(column, spec.all_))
    if spec.is_null_ is not None:
        empty = sa.func.coalesce(dialect.json_array_length(column), 0) == 0
        parts.append(empty if spec.is_null_ else sa.not_(empty))
    return combine(parts, spec.operator)


def variable_condition(spec: VariableFilter | None, dialect: DatabaseDialect) -> Condition:
    """The WHERE condition over `variable` for a `variables` filter (everything when `spec` is None)."""
    if spec is None:
        return sa.true()
    column = t.variable.c
    parts: list[Condition] = []
    if spec.id is not None:
        parts.append(combine([] if spec.id.any_ is None else [column.id.in_(spec.id.any_)]))
    if spec.name is not None:
        name: list[Condition] = []
        if spec.name.any_ is not None:
            name.append(column.name.in_(spec.name.any_))
        if spec.name.like_:
            name.append(contains_pattern(column.name, spec.name.like_))
        parts.append(combine(name))
    if spec.tags is not None:
        parts.append(tags_condition(column.tags, spec.tags, dialect))
    return combine(parts, spec.operator)


def variable_order_by(sort: VariableSort) -> list[sa.ColumnElement[Any]]:
    """ORDER BY for a variable sort, ending with the id so that pages are stable."""
    column = t.variable.c
    orders = {
        VariableSort.CREATED_DESC: column.created.desc(),
        VariableSort.UPDATED_DESC: column.updated.desc(),
        VariableSort.NAME_DESC: column.name.desc(),
        VariableSort.NAME_ASC: column.name.asc(),
    }
    return [orders[sort], column.id.asc() if sort is VariableSort.NAME_ASC else column.id.desc()]
