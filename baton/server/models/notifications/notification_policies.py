"""Data access for notification policies and their deliveries.

A delivery row exists per (policy, flow-run state) that matched; the unique pair is what keeps a message from being
sent twice when a message is redelivered. Its status moves PENDING -> SENDING -> SENT, or through RETRYING to FAILED
after the last attempt; FOLDED marks a message held back by the throttle and counted into a summary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.blocks.encryption import BlockCipher
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.blocks.block_documents import read_block_documents
from baton.server.schemas.notifications import (
    DeliveryFilterRequest,
    NotificationPolicyCreate,
    NotificationPolicyFilter,
    NotificationPolicyUpdate,
)

policy = t.notification_policy
delivery = t.notification_delivery


async def _check_target(connection: AsyncConnection, block_document_id: uuid.UUID) -> None:
    from baton.notifications.channels import CHANNELS

    slug = await connection.scalar(
        sa.select(t.block_type.c.slug)
        .select_from(t.block_document.join(t.block_type, t.block_type.c.id == t.block_document.c.block_type_id))
        .where(t.block_document.c.id == block_document_id)
    )
    if slug is None:
        raise ValidationFailed(f"Block document {block_document_id} does not exist.")
    if slug not in CHANNELS:
        raise ValidationFailed(
            f"Block document {block_document_id} is a {slug!r} block, not a notification channel; use one of: "
            f"{', '.join(sorted(CHANNELS))}."
        )


async def create_policy(connection: AsyncConnection, create: NotificationPolicyCreate) -> dict[str, Any]:
    await _check_target(connection, create.block_document_id)
    now = utcnow()
    values = {"id": uuid.uuid4(), "created": now, "updated": now, **create.model_dump()}
    await connection.execute(sa.insert(policy).values(**values))
    return values


async def read_policy(connection: AsyncConnection, policy_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(policy).where(policy.c.id == policy_id))).mappings().first()
    return dict(row) if row else None


async def read_policies(
    connection: AsyncConnection, condition: NotificationPolicyFilter | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = sa.select(policy).order_by(policy.c.created, policy.c.id).limit(limit).offset(offset)
    if condition is not None and condition.is_active is not None and condition.is_active.eq_ is not None:
        query = query.where(policy.c.is_active == condition.is_active.eq_)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def update_policy(connection: AsyncConnection, policy_id: uuid.UUID, update: NotificationPolicyUpdate) -> bool:
    values = update.model_dump(exclude_unset=True)
    for required in ("is_active", "state_names", "tags", "block_document_id"):
        if required in values and values[required] is None:
            raise ValidationFailed(f"{required} may not be null.")
    if values.get("block_document_id") is not None:
        await _check_target(connection, values["block_document_id"])
    result = await connection.execute(
        sa.update(policy).where(policy.c.id == policy_id).values(updated=utcnow(), **values)
    )
    return result.rowcount > 0


async def delete_policy(connection: AsyncConnection, policy_id: uuid.UUID) -> bool:
    return (await connection.execute(sa.delete(policy).where(policy.c.id == policy_id))).rowcount > 0


def policy_matches(candidate: dict[str, Any], state_name: str, tags: list[str]) -> bool:
    """Whether an active policy wants `state_name` of a run with `tags` (empty lists match everything)."""
    names = candidate["state_names"] or []
    wanted_tags = candidate["tags"] or []
    return (not names or state_name in names) and (not wanted_tags or bool(set(wanted_tags) & set(tags)))


async def read_active_policies(connection: AsyncConnection) -> list[dict[str, Any]]:
    query = sa.select(policy).where(policy.c.is_active.is_(True))
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_states_with_runs(connection: AsyncConnection, state_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """{state_id, flow_run_id, state_name, tags} of each flow-run state that still exists."""
    query = (
        sa.select(
            t.flow_run_state.c.id.label("state_id"),
            t.flow_run_state.c.flow_run_id,
            t.flow_run_state.c.name.label("state_name"),
            t.flow_run.c.tags,
        )
        .select_from(t.flow_run_state.join(t.flow_run, t.flow_run.c.id == t.flow_run_state.c.flow_run_id))
        .where(t.flow_run_state.c.id.in_(state_ids))
    )
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def add_deliveries(connection: AsyncConnection, matches: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Record one PENDING delivery per {policy_id, flow_run_id, flow_run_state_id} (an existing pair is kept);
    the ids of every pair's delivery that is still waiting to be sent (new or left PENDING by a crash)."""
    if not matches:
        return []
    now = utcnow()
    rows = [
        {"id": uuid.uuid4(), "created": now, "updated": now, "status": "PENDING", "attempts": 0, **match}
        for match in matches
    ]
    insert = (
        dialect_of(connection)
        .insert(delivery)
        .on_conflict_do_nothing(index_elements=["policy_id", "flow_run_state_id"])
    )
    await connection.execute(insert, rows)
    pairs = sa.tuple_(delivery.c.policy_id, delivery.c.flow_run_state_id).in_(
        [(m["policy_id"], m["flow_run_state_id"]) for m in matches]
    )
    query = sa.select(delivery.c.id).where(pairs, delivery.c.status.in_(("PENDING", "RETRYING")))
    return list((await connection.execute(query)).scalars())


async def claim_deliveries(
    connection: AsyncConnection, delivery_ids: list[uuid.UUID], now: dt.datetime, stale_after: dt.timedelta
) -> list[dict[str, Any]]:
    """Mark the deliveries that are waiting SENDING and count their attempt, in one conditional UPDATE (so a
    delivery is claimed by one worker only); the claimed rows, oldest first. A delivery already sent, failed or
    folded, or one another worker started sending less than `stale_after` ago, is left out."""
    waiting = sa.or_(
        delivery.c.status.in_(("PENDING", "RETRYING")),
        sa.and_(
            delivery.c.status == "SENDING",
            sa.or_(delivery.c.last_attempt_at.is_(None), delivery.c.last_attempt_at <= now - stale_after),
        ),
    )
    statement = (
        sa.update(delivery)
        .where(delivery.c.id.in_(delivery_ids), waiting)
        .values(status="SENDING", attempts=delivery.c.attempts + 1, last_attempt_at=now, updated=now)
        .returning(*delivery.c)
    )
    claimed = [dict(row) for row in (await connection.execute(statement)).mappings()]
    claimed.sort(key=lambda row: (row["created"], row["id"]))
    return claimed


async def read_state_names(connection: AsyncConnection, claimed: list[dict[str, Any]]) -> dict[uuid.UUID, str]:
    """{flow-run state id: state name} of the claimed deliveries' states that still exist."""
    query = sa.select(t.flow_run_state.c.id, t.flow_run_state.c.name).where(
        t.flow_run_state.c.id.in_({row["flow_run_state_id"] for row in claimed})
    )
    return {row.id: row.name for row in await connection.execute(query)}


async def lock_throttle_windows(connection: AsyncConnection, claimed: list[dict[str, Any]]) -> None:
    """Make concurrent batches that hold deliveries of the same (policy, run) take turns deciding the throttle, so
    that one sees the other's message as sending and holds its own back (PostgreSQL; SQLite's writers take turns
    anyway)."""
    keys = [
        int.from_bytes(
            hashlib.blake2b(row["policy_id"].bytes + row["flow_run_id"].bytes, digest_size=8).digest(),
            "big",
            signed=True,
        )
        for row in claimed
    ]
    await dialect_of(connection).lock_keys(connection, keys)


async def first_sent_since(
    connection: AsyncConnection, claimed: list[dict[str, Any]], since: dt.datetime
) -> dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID]:
    """For each (policy, run, state name) of the claimed deliveries' runs: the id of the earliest delivery sent since
    `since`, or being sent right now by another worker (the message that opened the throttle window), leaving out the
    claimed deliveries themselves."""
    if not claimed:
        return {}
    pairs = {(row["policy_id"], row["flow_run_id"]) for row in claimed}
    query = (
        sa.select(delivery.c.id, delivery.c.policy_id, delivery.c.flow_run_id, t.flow_run_state.c.name)
        .select_from(delivery.join(t.flow_run_state, t.flow_run_state.c.id == delivery.c.flow_run_state_id))
        .where(
            sa.tuple_(delivery.c.policy_id, delivery.c.flow_run_id).in_(sorted(pairs)),
            delivery.c.id.not_in([row["id"] for row in claimed]),
            sa.or_(
                sa.and_(delivery.c.status == "SENT", delivery.c.sent_at >= since),
                sa.and_(delivery.c.status == "SENDING", delivery.c.last_attempt_at >= since),
            ),
        )
        .order_by(sa.func.coalesce(delivery.c.sent_at, delivery.c.last_attempt_at).desc())
    )
    # Rows come newest first, so the earliest one of each key is written last.
    return {(row.policy_id, row.flow_run_id, row.name): row.id for row in await connection.execute(query)}


async def finish_deliveries(connection: AsyncConnection, outcomes: list[dict[str, Any]]) -> None:
    """Record the outcome of several attempts in one statement: each outcome has `id`, `status`, `response_code`,
    `error` and `sent_at` (None where it does not apply)."""
    if not outcomes:
        return
    statement = (
        sa.update(delivery)
        .where(delivery.c.id == sa.bindparam("delivery_id"))
        .values(
            status=sa.bindparam("new_status"),
            response_code=sa.bindparam("new_response_code"),
            error=sa.bindparam("new_error"),
            sent_at=sa.bindparam("new_sent_at"),
            updated=utcnow(),
        )
    )
    await connection.execute(
        statement,
        [
            {
                "delivery_id": outcome["id"],
                "new_status": outcome["status"],
                "new_response_code": outcome.get("response_code"),
                "new_error": outcome.get("error"),
                "new_sent_at": outcome.get("sent_at"),
            }
            for outcome in outcomes
        ],
    )


async def finish_delivery(connection: AsyncConnection, delivery_id: uuid.UUID, **values: Any) -> None:
    """Record an attempt's outcome: status, response_code, error, sent_at."""
    await connection.execute(sa.update(delivery).where(delivery.c.id == delivery_id).values(updated=utcnow(), **values))


async def _by_id(connection: AsyncConnection, table: sa.Table, ids: set[Any]) -> dict[Any, dict[str, Any]]:
    if not ids:
        return {}
    rows = (await connection.execute(sa.select(table).where(table.c.id.in_(ids)))).mappings()
    return {row["id"]: dict(row) for row in rows}


async def read_delivery_subjects(
    connection: AsyncConnection, claimed: list[dict[str, Any]], cipher: BlockCipher
) -> dict[uuid.UUID, dict[str, Any] | None]:
    """What each delivery needs to render and send, by delivery id: policy, run, flow, state, and the target document
    with its secrets (decrypted) and block type slug; None for a delivery whose policy, run, state or target was
    deleted meanwhile. A handful of queries for the whole batch, whatever its size."""
    policies = await _by_id(connection, policy, {row["policy_id"] for row in claimed})
    states = await _by_id(connection, t.flow_run_state, {row["flow_run_state_id"] for row in claimed})
    runs = await _by_id(connection, t.flow_run, {state["flow_run_id"] for state in states.values()})
    flows = await _by_id(connection, t.flow, {run["flow_id"] for run in runs.values()})
    document_ids = {found["block_document_id"] for found in policies.values()}
    documents = (
        {
            document["id"]: document
            for document in await read_block_documents(
                connection, t.block_document.c.id.in_(document_ids), [], None, 0, cipher, include_secrets=True
            )
        }
        if document_ids
        else {}
    )
    subjects: dict[uuid.UUID, dict[str, Any] | None] = {}
    for row in claimed:
        found_policy = policies.get(row["policy_id"])
        state = states.get(row["flow_run_state_id"])
        run = runs.get(state["flow_run_id"]) if state else None
        flow = flows.get(run["flow_id"]) if run else None
        document = documents.get(found_policy["block_document_id"]) if found_policy else None
        complete = found_policy and state and run and flow and document
        subjects[row["id"]] = (
            {"policy": found_policy, "state": state, "run": run, "flow": flow, "document": document}
            if complete
            else None
        )
    return subjects


async def read_delivery_subject(
    connection: AsyncConnection, claimed: dict[str, Any], cipher: BlockCipher
) -> dict[str, Any] | None:
    """The subject of one delivery (see `read_delivery_subjects`)."""
    return (await read_delivery_subjects(connection, [claimed], cipher))[claimed["id"]]


async def read_deliveries(connection: AsyncConnection, request: DeliveryFilterRequest, limit: int) -> list[dict]:
    query = sa.select(delivery).order_by(delivery.c.created.desc(), delivery.c.id).limit(limit).offset(request.offset)
    if request.policy_id is not None:
        query = query.where(delivery.c.policy_id == request.policy_id)
    if request.flow_run_id is not None:
        query = query.where(delivery.c.flow_run_id == request.flow_run_id)
    if request.status:
        query = query.where(delivery.c.status.in_(request.status))
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_folded_since(connection: AsyncConnection, first_id: uuid.UUID) -> tuple[int, dict[str, Any] | None]:
    """How many deliveries were folded into the throttle window opened by delivery `first_id`, and that delivery."""
    first = (await connection.execute(sa.select(delivery).where(delivery.c.id == first_id))).mappings().first()
    if first is None:
        return 0, None
    count = await connection.scalar(
        sa.select(sa.func.count())
        .select_from(delivery)
        .where(
            delivery.c.policy_id == first["policy_id"],
            delivery.c.flow_run_id == first["flow_run_id"],
            delivery.c.status == "FOLDED",
            # Folded after the first message was claimed: deliveries may be processed out of creation order.
            delivery.c.updated >= (first["last_attempt_at"] or first["created"]),
        )
    )
    return int(count or 0), dict(first)


async def any_unfinished_deliveries(connection: AsyncConnection) -> bool:
    """Whether some delivery is still PENDING, RETRYING or SENDING (only those can stall)."""
    query = sa.select(delivery.c.id).where(delivery.c.status.in_(("PENDING", "RETRYING", "SENDING"))).limit(1)
    return (await connection.execute(query)).first() is not None


async def read_stalled_deliveries(connection: AsyncConnection, before: dt.datetime, limit: int) -> list[uuid.UUID]:
    """Deliveries waiting since before `before` (their queue message was lost with an in-memory queue, or a worker
    died mid-send): PENDING or RETRYING not touched since, or SENDING with an attempt that started before it."""
    query = (
        sa.select(delivery.c.id)
        .where(
            sa.or_(
                sa.and_(delivery.c.status.in_(("PENDING", "RETRYING")), delivery.c.updated < before),
                sa.and_(delivery.c.status == "SENDING", delivery.c.last_attempt_at < before),
            )
        )
        .order_by(delivery.c.updated)
        .limit(limit)
    )
    return list((await connection.execute(query)).scalars())
