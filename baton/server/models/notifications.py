"""Data access for notification policies and their deliveries.

A delivery row exists per (policy, flow-run state) that matched; the unique pair is what keeps a message from being
sent twice when a message is redelivered. Its status moves PENDING -> SENDING -> SENT, or through RETRYING to FAILED
after the last attempt; FOLDED marks a message held back by the throttle and counted into a summary.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ValidationFailed
from baton.server.blocks.encryption import BlockCipher
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.models.block_documents import read_block_document
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


async def claim_delivery(
    connection: AsyncConnection, delivery_id: uuid.UUID, now: dt.datetime, stale_after: dt.timedelta
) -> dict[str, Any] | None:
    """Mark the delivery SENDING and count the attempt, under its row lock; None when there is nothing to send (sent,
    failed, folded, or another worker is sending it right now)."""
    query = sa.select(delivery).where(delivery.c.id == delivery_id).with_for_update()
    row = (await connection.execute(query)).mappings().first()
    if row is None or row["status"] in ("SENT", "FAILED", "FOLDED"):
        return None
    if row["status"] == "SENDING" and row["last_attempt_at"] and now - row["last_attempt_at"] < stale_after:
        return None
    await connection.execute(
        sa.update(delivery)
        .where(delivery.c.id == delivery_id)
        .values(status="SENDING", attempts=row["attempts"] + 1, last_attempt_at=now, updated=now)
    )
    return {**dict(row), "attempts": row["attempts"] + 1}


async def sent_recently(
    connection: AsyncConnection, claimed: dict[str, Any], state_name: str, since: dt.datetime
) -> uuid.UUID | None:
    """The id of a delivery of the same policy, run and state name sent since `since` (the throttle's first message)."""
    query = (
        sa.select(delivery.c.id)
        .select_from(delivery.join(t.flow_run_state, t.flow_run_state.c.id == delivery.c.flow_run_state_id))
        .where(
            delivery.c.policy_id == claimed["policy_id"],
            delivery.c.flow_run_id == claimed["flow_run_id"],
            delivery.c.id != claimed["id"],
            delivery.c.status == "SENT",
            delivery.c.sent_at >= since,
            t.flow_run_state.c.name == state_name,
        )
        .order_by(delivery.c.sent_at)
        .limit(1)
    )
    return await connection.scalar(query)


async def finish_delivery(connection: AsyncConnection, delivery_id: uuid.UUID, **values: Any) -> None:
    """Record an attempt's outcome: status, response_code, error, sent_at."""
    await connection.execute(sa.update(delivery).where(delivery.c.id == delivery_id).values(updated=utcnow(), **values))


async def _one(connection: AsyncConnection, table: sa.Table, row_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(table).where(table.c.id == row_id))).mappings().first()
    return dict(row) if row else None


async def read_delivery_subject(
    connection: AsyncConnection, claimed: dict[str, Any], cipher: BlockCipher
) -> dict[str, Any] | None:
    """What a delivery needs to render and send: policy, run, flow, state, and the target document with its secrets
    (decrypted) and block type slug. None when the policy, run or state was deleted meanwhile."""
    found_policy = await read_policy(connection, claimed["policy_id"])
    state = await _one(connection, t.flow_run_state, claimed["flow_run_state_id"])
    if found_policy is None or state is None:
        return None
    run = await _one(connection, t.flow_run, state["flow_run_id"])
    if run is None:
        return None
    flow = await _one(connection, t.flow, run["flow_id"])
    document = await read_block_document(connection, found_policy["block_document_id"], cipher, include_secrets=True)
    if flow is None or document is None:
        return None
    return {"policy": found_policy, "state": state, "run": run, "flow": flow, "document": document}


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
            delivery.c.created >= first["created"],
        )
    )
    return int(count or 0), dict(first)


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
