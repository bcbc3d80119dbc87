"""Data access for block schemas, including the schemas of nested blocks they refer to.

A schema's `fields` are a JSON schema. Fields whose type is itself a block are listed in `block_schema_references`
(`{field: {"block_type_slug", "block_schema_checksum"}}`, or a list of those for a union) with the nested schema in
`definitions`. As in Prefect, each nested schema is stored once, as a schema of its own, linked to its parent by a
`block_schema_reference` row; the stored fields keep neither the references nor the nested definitions, and reads
put both back.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.blocks.checksums import (
    DEFINITION_REF_PREFIX,
    non_block_definitions,
    reference_strings,
    schema_checksum,
)
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.blocks import block_types
from baton.server.models.filters.blocks import block_schema_condition
from baton.server.schemas.block_filters import BlockSchemaFilterRequest
from baton.server.schemas.blocks import BlockSchemaCreate


async def create_block_schema(
    connection: AsyncConnection, block_schema: BlockSchemaCreate, *, definitions: dict[str, Any] | None = None
) -> tuple[dict[str, Any], bool]:
    """Store the schema (and the nested schemas it refers to) unless one with its checksum and version exists.

    Returns the schema and whether it was created. The checksum is computed here, as the Prefect client computes
    it. Raises ObjectNotFound for an unknown block type, ValidationFailed when a nested block's type is unknown or
    its definition is missing. `definitions` are the root schema's, when a nested schema is being stored.
    """
    if await block_types.read_block_type(connection, block_schema.block_type_id) is None:
        raise ObjectNotFound(f"Block type {block_schema.block_type_id} not found.")
    fields = copy.deepcopy(block_schema.fields)
    definitions = definitions or fields.get("definitions")
    if definitions:
        fields["definitions"] = definitions
    checksum = schema_checksum(fields)
    existing = await read_block_schema_by_checksum(connection, checksum, block_schema.version)
    if existing is not None:
        return existing, False

    if definitions:
        kept = non_block_definitions(fields, definitions)
        if kept:
            fields["definitions"] = kept
        else:
            fields.pop("definitions", None)
    references = fields.pop("block_schema_references", None) or {}
    now = utcnow()
    schema_id = uuid.uuid4()
    insert = (
        dialect_of(connection)
        .insert(t.block_schema)
        .values(
            id=schema_id,
            created=now,
            updated=now,
            checksum=checksum,
            fields=fields,
            capabilities=block_schema.capabilities,
            version=block_schema.version,
            block_type_id=block_schema.block_type_id,
        )
        .on_conflict_do_nothing(index_elements=["checksum", "version"])
    )
    created = (await connection.execute(insert)).rowcount == 1
    if created:
        await _store_references(connection, schema_id, references, fields, definitions)
    stored = await read_block_schema_by_checksum(connection, checksum, block_schema.version)
    assert stored is not None
    return stored, created


async def read_block_schema(connection: AsyncConnection, block_schema_id: uuid.UUID) -> dict[str, Any] | None:
    found = await _read(connection, t.block_schema.c.id == block_schema_id, limit=1)
    return found[0] if found else None


async def read_block_schema_by_checksum(
    connection: AsyncConnection, checksum: str, version: str | None = None
) -> dict[str, Any] | None:
    """The schema with this checksum and version; without a version, the newest schema with the checksum."""
    condition = t.block_schema.c.checksum == checksum
    if version is not None:
        condition = sa.and_(condition, t.block_schema.c.version == version)
    found = await _read(connection, condition, limit=1)
    return found[0] if found else None


async def read_block_schemas(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], limit: int, offset: int
) -> list[dict[str, Any]]:
    """Schemas matching `condition`, newest first."""
    return await _read(connection, condition, limit=limit, offset=offset)


async def filter_block_schemas(
    connection: AsyncConnection, request: BlockSchemaFilterRequest, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The schemas matching the filter of `request`, newest first."""
    condition = block_schema_condition(request.block_schemas, dialect_of(connection))
    return await read_block_schemas(connection, condition, limit, offset)


async def delete_block_schema(connection: AsyncConnection, block_schema_id: uuid.UUID) -> bool:
    """Delete the schema with the documents written against it; False when there is no such schema."""
    result = await connection.execute(sa.delete(t.block_schema).where(t.block_schema.c.id == block_schema_id))
    return result.rowcount == 1


async def read_block_capabilities(connection: AsyncConnection) -> list[str]:
    """Every capability some block schema declares, sorted."""
    rows = await connection.execute(sa.select(t.block_schema.c.capabilities))
    return sorted({capability for (capabilities,) in rows for capability in capabilities or []})


# --- reading --------------------------------------------------------------------------------------------------------


async def _read(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], *, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    query = (
        block_types.select_with_block_type(t.block_schema)
        .where(condition)
        .order_by(t.block_schema.c.created.desc(), t.block_schema.c.id)
        .limit(limit)
        .offset(offset)
    )
    roots = [block_types.split_block_type(row) for row in (await connection.execute(query)).mappings()]
    return await with_nested_schemas(connection, roots)


async def with_nested_schemas(connection: AsyncConnection, roots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`roots` with their fields completed: `block_schema_references` and the nested schemas in `definitions`."""
    known = {root["id"]: root for root in roots}
    children: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {}
    expanded: set[uuid.UUID] = set()
    frontier = list(known)
    reference = t.block_schema_reference.c
    while frontier:
        expanded.update(frontier)
        query = (
            sa.select(reference.name, reference.parent_block_schema_id, reference.reference_block_schema_id)
            .where(reference.parent_block_schema_id.in_(frontier))
            .order_by(reference.created, reference.id)
        )
        links = (await connection.execute(query)).all()
        for name, parent_id, child_id in links:
            children.setdefault(parent_id, []).append((name, child_id))
        missing = {child_id for _, _, child_id in links if child_id not in known}
        if missing:
            nested = block_types.select_with_block_type(t.block_schema).where(t.block_schema.c.id.in_(missing))
            rows = (await connection.execute(nested)).mappings()
            known.update((row["id"], block_types.split_block_type(row)) for row in rows)
        frontier = list(dict.fromkeys(child_id for _, _, child_id in links if child_id not in expanded))
    return [{**root, "fields": _assemble_fields(root["id"], known, children, frozenset())} for root in roots]


def _assemble_fields(
    schema_id: uuid.UUID,
    known: dict[uuid.UUID, dict[str, Any]],
    children: dict[uuid.UUID, list[tuple[str, uuid.UUID]]],
    ancestors: frozenset[uuid.UUID],
) -> dict[str, Any]:
    fields = copy.deepcopy(known[schema_id]["fields"]) or {}
    references: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for name, child_id in children.get(schema_id, []):
        child = known.get(child_id)
        if child is None or child_id in ancestors or child_id == schema_id:
            continue
        entry = {"block_schema_checksum": child["checksum"], "block_type_slug": child["block_type"]["slug"]}
        present = references.get(name)
        if present is None:
            references[name] = entry
        elif isinstance(present, list):
            if entry not in present:
                present.append(entry)
        elif present != entry:
            references[name] = [present, entry]
        child_fields = _assemble_fields(child_id, known, children, ancestors | {schema_id})
        title = child_fields.get("title")
        if title is not None:
            # Definitions are one flat namespace: the child's own definitions move up next to the child.
            child_definitions = child_fields.pop("definitions", {})
            nested = {**nested, title: child_fields, **child_definitions}
    fields["block_schema_references"] = references
    if nested or fields.get("definitions"):
        fields["definitions"] = {**fields.get("definitions", {}), **nested}
    return fields


# --- nested schemas on create ---------------------------------------------------------------------------------------


async def _store_references(
    connection: AsyncConnection,
    parent_id: uuid.UUID,
    references: dict[str, Any],
    fields: dict[str, Any],
    definitions: dict[str, Any] | None,
) -> None:
    """Store (or find) the schema of each nested block in `references` and link it to the parent schema."""
    if not isinstance(references, dict):
        raise ValidationFailed("block_schema_references must be an object of field name to block reference.")
    for name, entries in references.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict) or not {"block_type_slug", "block_schema_checksum"} <= entry.keys():
                raise ValidationFailed(
                    f"block_schema_references.{name} must have a block_type_slug and a block_schema_checksum."
                )
            child_type = await block_types.read_block_type_by_slug(connection, entry["block_type_slug"])
            if child_type is None:
                raise ValidationFailed(
                    f"Cannot create block schema because block type {entry['block_type_slug']!r} was not found. "
                    "Did you forget to register the block type?"
                )
            child = await read_block_schema_by_checksum(connection, entry["block_schema_checksum"])
            if child is None:
                child_fields = _nested_definition(definitions or {}, fields, name, child_type["slug"])
                if child_fields is None:
                    raise ValidationFailed(
                        f"Cannot create the nested block schema of field {name!r} (block type "
                        f"{child_type['slug']!r}): its definition is missing from the schema's definitions."
                    )
                child, _ = await create_block_schema(
                    connection,
                    BlockSchemaCreate(fields=child_fields, block_type_id=child_type["id"]),
                    definitions=definitions,
                )
            await _link(connection, parent_id, child["id"], name)


def _nested_definition(
    definitions: dict[str, Any], fields: dict[str, Any], name: str, block_type_slug: str
) -> dict[str, Any] | None:
    """The definition of the block nested under field `name`; for a union of blocks, the one of `block_type_slug`."""
    spec = (fields.get("properties") or {}).get(name)
    keys = [reference.removeprefix(DEFINITION_REF_PREFIX) for reference in reference_strings(spec)]
    if len(keys) == 1:
        found = definitions.get(keys[0])
        return found if isinstance(found, dict) else None
    for key in keys:
        definition = definitions.get(key)
        if isinstance(definition, dict) and definition.get("block_type_slug") == block_type_slug:
            return definition
    return None


async def _link(connection: AsyncConnection, parent_id: uuid.UUID, child_id: uuid.UUID, name: str) -> None:
    reference = t.block_schema_reference.c
    exists = await connection.execute(
        sa.select(reference.id).where(
            reference.parent_block_schema_id == parent_id,
            reference.reference_block_schema_id == child_id,
            reference.name == name,
        )
    )
    if exists.first() is None:
        now = utcnow()
        await connection.execute(
            sa.insert(t.block_schema_reference).values(
                id=uuid.uuid4(),
                created=now,
                updated=now,
                name=name,
                parent_block_schema_id=parent_id,
                reference_block_schema_id=child_id,
            )
        )
