"""Data access for block documents: stored encrypted, returned with secrets hidden unless asked for.

A document's data may refer to other documents, one per field, as `{"$ref": {"block_document_id": ...}}`. As in
Prefect, such a field is stored as a `block_document_reference` row rather than in the data, and reads put the
referenced document's data back in its place (and describe it under `block_document_references`).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists, ObjectNotFound, ValidationFailed
from baton.server.blocks.encryption import BlockCipher
from baton.server.blocks.secrets import obfuscate_secrets, restore_secrets
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.blocks import block_schemas, block_types
from baton.server.models.filters.blocks import block_document_condition, block_document_order_by
from baton.server.schemas.block_filters import BlockDocumentCountRequest, BlockDocumentFilterRequest
from baton.server.schemas.blocks import BlockDocumentCreate, BlockDocumentUpdate

# Nested documents deeper than this are not followed (Prefect refuses deeper reference chains too).
MAX_REFERENCE_DEPTH = 50


async def create_block_document(
    connection: AsyncConnection, document: BlockDocumentCreate, cipher: BlockCipher
) -> dict[str, Any]:
    """Store the document (encrypted) with its references; returns it with secrets hidden.

    Raises ObjectNotFound for an unknown block type or schema, ObjectAlreadyExists when the block type already has
    a document of that name, ValidationFailed for a schema of another type or a bad reference.
    """
    block_type = (
        await connection.execute(sa.select(t.block_type.c.name).where(t.block_type.c.id == document.block_type_id))
    ).first()
    if block_type is None:
        raise ObjectNotFound(f"Block type {document.block_type_id} not found.")
    await _check_schema_of_type(connection, document.block_schema_id, document.block_type_id)
    name = document.name or f"anonymous-{uuid.uuid4()}"
    if await _name_taken(connection, document.block_type_id, name):
        raise ObjectAlreadyExists(f"Block already exists: the block type already has a document named {name!r}.")
    data, references = _split_references(document.data)
    document_id = uuid.uuid4()
    now = utcnow()
    await connection.execute(
        sa.insert(t.block_document).values(
            id=document_id,
            created=now,
            updated=now,
            name=name,
            data=await cipher.encrypt(connection, data),
            is_anonymous=document.is_anonymous,
            block_type_name=block_type.name,
            block_type_id=document.block_type_id,
            block_schema_id=document.block_schema_id,
        )
    )
    for field, target_id in references:
        await _add_reference(connection, document_id, target_id, field)
    created = await read_block_document(connection, document_id, cipher)
    assert created is not None
    return created


async def read_block_document(
    connection: AsyncConnection, document_id: uuid.UUID, cipher: BlockCipher, *, include_secrets: bool = False
) -> dict[str, Any] | None:
    """The document (anonymous or not) with nested documents filled in; None when there is no such document."""
    found = await read_block_documents(
        connection, t.block_document.c.id == document_id, [], 1, 0, cipher, include_secrets=include_secrets
    )
    return found[0] if found else None


async def read_block_document_by_name(
    connection: AsyncConnection, block_type_slug: str, name: str, cipher: BlockCipher, *, include_secrets: bool = False
) -> dict[str, Any] | None:
    """The document of that name of the block type with that slug (anonymous or not), or None."""
    type_ids = sa.select(t.block_type.c.id).where(t.block_type.c.slug == block_type_slug).correlate(None)
    condition = sa.and_(t.block_document.c.name == name, t.block_document.c.block_type_id.in_(type_ids))
    found = await read_block_documents(connection, condition, [], 1, 0, cipher, include_secrets=include_secrets)
    return found[0] if found else None


async def read_block_documents(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    order_by: list[Any],
    limit: int | None,
    offset: int,
    cipher: BlockCipher,
    *,
    include_secrets: bool = False,
) -> list[dict[str, Any]]:
    """Documents matching `condition`, each with its schema, type and nested documents; secrets hidden unless
    `include_secrets`. Raises DecryptionFailed when stored data does not decrypt with the server's key."""
    query = block_types.select_with_block_type(t.block_document).where(condition).order_by(*order_by).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    roots = [block_types.split_block_type(row) for row in (await connection.execute(query)).mappings()]
    if not roots:
        return []
    return await _complete(connection, roots, cipher, include_secrets)


async def read_block_documents_of_type(
    connection: AsyncConnection, block_type_id: uuid.UUID, cipher: BlockCipher, *, include_secrets: bool = False
) -> list[dict[str, Any]]:
    """Every named (not anonymous) document of the block type, by name."""
    column = t.block_document.c
    condition = sa.and_(column.block_type_id == block_type_id, column.is_anonymous.is_(sa.false()))
    return await read_block_documents(
        connection, condition, [column.name, column.id], None, 0, cipher, include_secrets=include_secrets
    )


async def count_block_documents(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.block_document).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def filter_block_documents(
    connection: AsyncConnection, request: BlockDocumentFilterRequest, limit: int, cipher: BlockCipher
) -> list[dict[str, Any]]:
    """The documents matching the filters of `request`, in its sort order, `limit` of them from its offset; secrets
    hidden unless it asks for them."""
    condition = block_document_condition(request, dialect_of(connection))
    order_by = block_document_order_by(request.sort)
    offset = request.offset or 0
    return await read_block_documents(
        connection, condition, order_by, limit, offset, cipher, include_secrets=request.include_secrets
    )


async def count_block_documents_matching(connection: AsyncConnection, request: BlockDocumentCountRequest) -> int:
    """How many documents match the filters of `request`."""
    return await count_block_documents(connection, block_document_condition(request, dialect_of(connection)))


async def update_block_document(
    connection: AsyncConnection, document_id: uuid.UUID, update: BlockDocumentUpdate, cipher: BlockCipher
) -> bool:
    """Merge `update.data` into the stored data, or replace it when `merge_existing_data` is false; move the document
    to another schema of its type when `block_schema_id` says so. Secret values posted back as `********` keep their
    stored value. False when there is no such document; ValidationFailed for a bad schema or reference."""
    column = t.block_document.c
    current = (
        await connection.execute(
            # Locked, so that two concurrent merges on PostgreSQL do not lose one another's fields.
            sa.select(column.data, column.block_schema_id, column.block_type_id)
            .where(column.id == document_id)
            .with_for_update()
        )
    ).first()
    if current is None:
        return False
    values: dict[str, Any] = {}
    if update.block_schema_id is not None and update.block_schema_id != current.block_schema_id:
        await _check_schema_of_type(connection, update.block_schema_id, current.block_type_id, field="block_schema_id")
        values["block_schema_id"] = update.block_schema_id
    merge = update.merge_existing_data
    if "data" in update.model_fields_set or not merge:
        stored = await cipher.decrypt(connection, current.data, document_id)
        schema_fields = (
            await connection.execute(
                sa.select(t.block_schema.c.fields).where(t.block_schema.c.id == current.block_schema_id)
            )
        ).scalar_one()
        new_data = restore_secrets(copy.deepcopy(update.data), stored, schema_fields or {})
        data, references = _split_references({**stored, **new_data} if merge else new_data)
        values["data"] = await cipher.encrypt(connection, data)
        await _replace_references(connection, document_id, references, keep_unmentioned=merge, mentioned=new_data)
    if values:
        await connection.execute(
            sa.update(t.block_document).where(column.id == document_id).values(updated=utcnow(), **values)
        )
    return True


async def delete_block_document(connection: AsyncConnection, document_id: uuid.UUID) -> bool:
    """Delete the document (documents that refer to it lose that reference); False when there is no such document."""
    result = await connection.execute(sa.delete(t.block_document).where(t.block_document.c.id == document_id))
    return result.rowcount == 1


# --- checks ---------------------------------------------------------------------------------------------------------


async def _check_schema_of_type(
    connection: AsyncConnection, schema_id: uuid.UUID, block_type_id: uuid.UUID, field: str | None = None
) -> None:
    schema_type = (
        await connection.execute(sa.select(t.block_schema.c.block_type_id).where(t.block_schema.c.id == schema_id))
    ).scalar_one_or_none()
    if schema_type is None:
        if field is None:
            raise ObjectNotFound(f"Block schema {schema_id} not found.")
        raise ValidationFailed(
            f"Block schema {schema_id} not found.",
            [{"loc": ["body", field], "msg": f"Block schema {schema_id} not found.", "type": "not_found"}],
        )
    if schema_type != block_type_id:
        message = f"Block schema {schema_id} is a schema of another block type than the document's."
        raise ValidationFailed(
            message, [{"loc": ["body", field or "block_schema_id"], "msg": message, "type": "value_error"}]
        )


async def _name_taken(connection: AsyncConnection, block_type_id: uuid.UUID, name: str) -> bool:
    column = t.block_document.c
    query = sa.select(column.id).where(column.block_type_id == block_type_id, column.name == name)
    return (await connection.execute(query)).first() is not None


def _split_references(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, uuid.UUID]]]:
    """`data` without its `{"$ref": {"block_document_id": ...}}` fields, and those fields' (name, document id)."""
    own: dict[str, Any] = {}
    references: list[tuple[str, uuid.UUID]] = []
    for key, value in data.items():
        if not (isinstance(value, dict) and "$ref" in value):
            own[key] = value
            continue
        target = value["$ref"].get("block_document_id") if isinstance(value["$ref"], dict) else None
        try:
            references.append((key, uuid.UUID(str(target))))
        except ValueError:
            message = f"Received block reference without a valid block_document_id in key {key!r}."
            raise ValidationFailed(
                message, [{"loc": ["body", "data", key], "msg": message, "type": "value_error"}]
            ) from None
    return own, references


async def _add_reference(connection: AsyncConnection, parent_id: uuid.UUID, target_id: uuid.UUID, name: str) -> None:
    exists = (
        await connection.execute(sa.select(t.block_document.c.id).where(t.block_document.c.id == target_id))
    ).first()
    if exists is None:
        message = f"Field {name!r} refers to block document {target_id}, which does not exist."
        raise ValidationFailed(message, [{"loc": ["body", "data", name], "msg": message, "type": "not_found"}])
    if await _would_form_cycle(connection, parent_id, target_id):
        message = f"Field {name!r} refers to block document {target_id}, which refers back to this document."
        raise ValidationFailed(message, [{"loc": ["body", "data", name], "msg": message, "type": "value_error"}])
    now = utcnow()
    await connection.execute(
        sa.insert(t.block_document_reference).values(
            id=uuid.uuid4(),
            created=now,
            updated=now,
            name=name,
            parent_block_document_id=parent_id,
            reference_block_document_id=target_id,
        )
    )


async def _would_form_cycle(connection: AsyncConnection, parent_id: uuid.UUID, target_id: uuid.UUID) -> bool:
    """True when `parent_id` can be reached from `target_id` by following references (or is `target_id`)."""
    reference = t.block_document_reference.c
    seen: set[uuid.UUID] = set()
    frontier = {target_id}
    while frontier:
        if parent_id in frontier:
            return True
        seen |= frontier
        query = sa.select(reference.reference_block_document_id).where(reference.parent_block_document_id.in_(frontier))
        frontier = {row[0] for row in await connection.execute(query)} - seen
    return False


async def _replace_references(
    connection: AsyncConnection,
    document_id: uuid.UUID,
    references: list[tuple[str, uuid.UUID]],
    *,
    keep_unmentioned: bool,
    mentioned: dict[str, Any],
) -> None:
    """Make the document's references `references`, plus (when `keep_unmentioned`) the current ones of fields that
    `mentioned` does not set."""
    reference = t.block_document_reference.c
    current = (
        await connection.execute(
            sa.select(reference.id, reference.name, reference.reference_block_document_id).where(
                reference.parent_block_document_id == document_id
            )
        )
    ).all()
    wanted = set(references)
    for row in current:
        pair = (row.name, row.reference_block_document_id)
        if pair in wanted:
            wanted.discard(pair)
        elif not (keep_unmentioned and row.name not in mentioned):
            await connection.execute(sa.delete(t.block_document_reference).where(reference.id == row.id))
    for name, target_id in references:
        if (name, target_id) in wanted:
            await _add_reference(connection, document_id, target_id, name)


# --- reading --------------------------------------------------------------------------------------------------------


async def _complete(
    connection: AsyncConnection, roots: list[dict[str, Any]], cipher: BlockCipher, include_secrets: bool
) -> list[dict[str, Any]]:
    known = {root["id"]: root for root in roots}
    children: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {}
    expanded: set[uuid.UUID] = set()
    frontier = list(known)
    reference = t.block_document_reference.c
    for _ in range(MAX_REFERENCE_DEPTH):
        if not frontier:
            break
        expanded.update(frontier)
        query = (
            sa.select(reference.name, reference.parent_block_document_id, reference.reference_block_document_id)
            .where(reference.parent_block_document_id.in_(frontier))
            .order_by(reference.created, reference.id)
        )
        links = (await connection.execute(query)).all()
        for name, parent_id, child_id in links:
            children.setdefault(parent_id, []).append((name, child_id))
        missing = {child_id for _, _, child_id in links if child_id not in known}
        if missing:
            nested = block_types.select_with_block_type(t.block_document).where(t.block_document.c.id.in_(missing))
            rows = (await connection.execute(nested)).mappings()
            known.update((row["id"], block_types.split_block_type(row)) for row in rows)
        frontier = list(dict.fromkeys(child_id for _, _, child_id in links if child_id not in expanded))

    schema_ids = {document["block_schema_id"] for document in known.values()}
    fields_of = dict(
        (
            await connection.execute(
                sa.select(t.block_schema.c.id, t.block_schema.c.fields).where(t.block_schema.c.id.in_(schema_ids))
            )
        ).all()
    )
    own: dict[uuid.UUID, dict[str, Any]] = {}
    for document_id, document in known.items():
        data = await cipher.decrypt(connection, document["data"], document_id)
        own[document_id] = (
            data if include_secrets else obfuscate_secrets(data, fields_of.get(document["block_schema_id"]) or {})
        )

    root_schema_ids = list(dict.fromkeys(root["block_schema_id"] for root in roots))
    schemas = await block_schemas.read_block_schemas(
        connection, t.block_schema.c.id.in_(root_schema_ids), len(root_schema_ids), 0
    )
    schema_by_id = {schema["id"]: schema for schema in schemas}
    completed = []
    for root in roots:
        data, references = _assemble(root["id"], known, children, own, frozenset())
        completed.append(
            {
                **root,
                "data": data,
                "block_schema": schema_by_id.get(root["block_schema_id"]),
                "block_document_references": references,
            }
        )
    return completed


def _assemble(
    document_id: uuid.UUID,
    known: dict[uuid.UUID, dict[str, Any]],
    children: dict[uuid.UUID, list[tuple[str, uuid.UUID]]],
    own: dict[uuid.UUID, dict[str, Any]],
    ancestors: frozenset[uuid.UUID],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The document's data with nested documents' data in place, and the description of those references."""
    data = copy.deepcopy(own[document_id])
    references: dict[str, Any] = {}
    for name, child_id in children.get(document_id, []):
        if child_id not in own or child_id in ancestors or child_id == document_id:
            continue
        child_data, child_references = _assemble(child_id, known, children, own, ancestors | {document_id})
        child = known[child_id]
        data[name] = child_data
        references[name] = {
            "block_document": {
                "id": child["id"],
                "name": child["name"],
                "block_type": child["block_type"],
                "is_anonymous": child["is_anonymous"],
                "block_document_references": child_references,
            }
        }
    return data, references
