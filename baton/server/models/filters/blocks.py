"""Block filter bodies turned into SQL conditions over `block_type`, `block_schema` and `block_document`.

Related objects are matched with uncorrelated `IN (SELECT ...)` subqueries, as in `baton.server.models.filters.core`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.dialects import DatabaseDialect
from baton.server.models.filters.core import contains_text
from baton.server.schemas import block_filters as bf

Condition = sa.ColumnElement[bool]


def _combine(parts: list[Condition | None], operator: str = "and_") -> Condition:
    present = [part for part in parts if part is not None]
    if not present:
        return sa.true()
    if len(present) == 1:
        return present[0]
    return sa.and_(*present) if operator == "and_" else sa.or_(*present)


def _any(column: sa.ColumnElement[Any], values: list[Any] | None) -> Condition | None:
    return None if values is None else column.in_(values)


def block_type_condition(spec: bf.BlockTypeFilter | None) -> Condition:
    """The condition on `block_type` rows that `spec` describes (true when there is none)."""
    if spec is None:
        return sa.true()
    column = t.block_type.c
    name_like = spec.name.like_ if spec.name is not None else None
    return _combine(
        [
            contains_text(column.name, name_like) if name_like else None,
            _any(column.slug, spec.slug.any_) if spec.slug is not None else None,
        ]
    )


def block_type_request_condition(request: bf.BlockTypeFilterRequest, dialect: DatabaseDialect) -> Condition:
    """The condition on `block_type` rows of a filter request: the type filter, and that some schema of the type
    matches the schema filter (when there is one)."""
    condition = block_type_condition(request.block_types)
    if request.block_schemas is None:
        return condition
    schema_condition = block_schema_condition(request.block_schemas, dialect)
    with_schema = sa.select(t.block_schema.c.block_type_id).where(schema_condition).correlate(None)
    return sa.and_(condition, t.block_type.c.id.in_(with_schema))


def block_schema_condition(spec: bf.BlockSchemaFilter | None, dialect: DatabaseDialect) -> Condition:
    """The condition on `block_schema` rows that `spec` describes (true when there is none)."""
    if spec is None:
        return sa.true()
    column = t.block_schema.c
    capabilities = spec.block_capabilities.all_ if spec.block_capabilities is not None else None
    return _combine(
        [
            _any(column.block_type_id, spec.block_type_id.any_) if spec.block_type_id is not None else None,
            dialect.json_contains(column.capabilities, capabilities) if capabilities else None,
            _any(column.id, spec.id.any_) if spec.id is not None else None,
            _any(column.version, spec.version.any_) if spec.version is not None else None,
        ],
        spec.operator,
    )


def block_document_condition(request: bf.BlockDocumentCountRequest, dialect: DatabaseDialect) -> Condition:
    """The condition on `block_document` rows selected by the document, type and schema filters of `request`."""
    spec = request.block_documents
    column = t.block_document.c
    own: list[Condition | None] = []
    if spec.id is not None:
        own.append(_any(column.id, spec.id.any_))
    if spec.is_anonymous is not None and spec.is_anonymous.eq_ is not None:
        own.append(column.is_anonymous.is_(sa.true() if spec.is_anonymous.eq_ else sa.false()))
    if spec.block_type_id is not None:
        own.append(_any(column.block_type_id, spec.block_type_id.any_))
    if spec.name is not None:
        own.append(_any(column.name, spec.name.any_))
        if spec.name.like_:
            own.append(contains_text(column.name, spec.name.like_))
    parts: list[Condition | None] = [_combine(own, spec.operator)]
    if request.block_types is not None:
        types = sa.select(t.block_type.c.id).where(block_type_condition(request.block_types)).correlate(None)
        parts.append(column.block_type_id.in_(types))
    if request.block_schemas is not None:
        schemas = (
            sa.select(t.block_schema.c.id).where(block_schema_condition(request.block_schemas, dialect)).correlate(None)
        )
        parts.append(column.block_schema_id.in_(schemas))
    return _combine(parts)


def block_document_order_by(sort: bf.BlockDocumentSort) -> list[Any]:
    """ORDER BY for a block document sort, with the id last so that pages are stable."""
    column = t.block_document.c
    if sort is bf.BlockDocumentSort.NAME_DESC:
        return [column.name.desc(), column.id]
    if sort is bf.BlockDocumentSort.BLOCK_TYPE_AND_NAME_ASC:
        return [column.block_type_name.asc(), column.name.asc(), column.id]
    return [column.name.asc(), column.id]
