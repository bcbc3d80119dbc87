"""The Notifications page's queries: policies with their target, channel types and documents, recent deliveries."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from baton.notifications.channels import CHANNELS
from baton.server.blocks.encryption import BlockCipher
from baton.server.blocks.registration import register_system_blocks
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.blocks.block_documents import create_block_document
from baton.server.models.notifications.notification_policies import add_deliveries, create_policy
from baton.server.models.views import notification_overview as overview
from baton.server.schemas.blocks import BlockDocumentCreate
from baton.server.schemas.notifications import NotificationPolicyCreate


async def _document(database: Database, slug: str, name: str) -> uuid.UUID:
    async with database.write() as connection:
        block_type_id, schema_id = (
            await connection.execute(
                sa.select(t.block_type.c.id, t.block_schema.c.id)
                .join(t.block_schema, t.block_schema.c.block_type_id == t.block_type.c.id)
                .where(t.block_type.c.slug == slug)
            )
        ).one()
        create = BlockDocumentCreate(name=name, block_type_id=block_type_id, block_schema_id=schema_id, data={})
        row = await create_block_document(connection, create, BlockCipher())
    return uuid.UUID(str(row["id"]))


async def test_policies_targets_channels_and_deliveries(database: Database) -> None:
    await register_system_blocks(database)
    hook = await _document(database, "custom-webhook", "ops-hook")
    await _document(database, "secret", "not-a-channel")

    async with database.write() as connection:
        first = await create_policy(
            connection, NotificationPolicyCreate(state_names=["Failed"], tags=["nightly"], block_document_id=hook)
        )
        second = await create_policy(connection, NotificationPolicyCreate(name="all", block_document_id=hook))

    async with database.read() as connection:
        policies = await overview.read_policies_with_targets(connection, 10)
        assert await overview.count_policies(connection) == 2
    assert [row["id"] for row in policies] == [first["id"], second["id"]]
    assert policies[0]["target"] == {
        "id": hook,
        "name": "ops-hook",
        "type_name": "Custom Webhook",
        "type_slug": "custom-webhook",
    }

    await _document(database, "custom-webhook", "ops-hook-2")
    async with database.read() as connection:
        channels = await overview.read_channel_types(connection, CHANNELS)
        documents = await overview.read_channel_documents(connection, CHANNELS, 10)
    assert sorted(channel["slug"] for channel in channels) == sorted(CHANNELS)
    webhook = next(channel for channel in channels if channel["slug"] == "custom-webhook")
    assert webhook["fields"]["required"] == ["name", "url"]
    assert [(row["name"], row["type_slug"]) for row in documents] == [
        ("ops-hook", "custom-webhook"),
        ("ops-hook-2", "custom-webhook"),
    ]


async def test_recent_deliveries_newest_change_first_with_run_and_state(database: Database) -> None:
    await register_system_blocks(database)
    hook = await _document(database, "custom-webhook", "ops-hook")
    now = utcnow()
    async with database.write() as connection:
        policy = await create_policy(connection, NotificationPolicyCreate(block_document_id=hook))
        other = await create_policy(connection, NotificationPolicyCreate(block_document_id=hook))
        flow_id, run_id = uuid.uuid4(), uuid.uuid4()
        await connection.execute(sa.insert(t.flow).values(id=flow_id, created=now, updated=now, name="etl"))
        await connection.execute(
            sa.insert(t.flow_run).values(id=run_id, created=now, updated=now, name="brave-otter", flow_id=flow_id)
        )
        states = []
        for index, name in enumerate(("Running", "Failed")):
            state_id = uuid.uuid4()
            states.append(state_id)
            await connection.execute(
                sa.insert(t.flow_run_state).values(
                    id=state_id,
                    created=now,
                    updated=now,
                    flow_run_id=run_id,
                    type=name.upper(),
                    name=name,
                    timestamp=now + dt.timedelta(seconds=index),
                )
            )
        await add_deliveries(
            connection,
            [
                {"policy_id": policy["id"], "flow_run_id": run_id, "flow_run_state_id": states[0]},
                {"policy_id": other["id"], "flow_run_id": run_id, "flow_run_state_id": states[1]},
            ],
        )
        # The first delivery was attempted last: it comes first.
        await connection.execute(
            sa.update(t.notification_delivery)
            .where(t.notification_delivery.c.flow_run_state_id == states[0])
            .values(updated=now + dt.timedelta(seconds=5), status="SENT", response_code=200)
        )

    async with database.read() as connection:
        every = await overview.read_recent_deliveries(connection, 10)
        mine = await overview.read_recent_deliveries(connection, 10, policy_id=other["id"])
    assert [(row["state_name"], row["status"], row["flow_run_name"]) for row in every] == [
        ("Running", "SENT", "brave-otter"),
        ("Failed", "PENDING", "brave-otter"),
    ]
    assert [row["policy_id"] for row in mine] == [other["id"]]
