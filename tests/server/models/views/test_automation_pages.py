"""The Automations pages' queries: the names of the objects an automation names, and the form's pickers."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from baton.notifications.channels import CHANNELS
from baton.server.blocks.registration import register_system_blocks
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.automations.automations import create_automation
from baton.server.models.deployments import deployments
from baton.server.models.views import automation_pages
from baton.server.models.work_pools import work_pools, work_queues
from baton.server.schemas.automations import AutomationCreate
from baton.server.schemas.deployments import DeploymentCreate
from baton.server.schemas.work_pools import WorkPoolCreate, WorkQueueCreate
from tests.server.models.views.test_notification_overview import _document


async def test_names_and_choices(database: Database) -> None:
    await register_system_blocks(database)
    hook = await _document(database, "custom-webhook", "ops-hook")
    await _document(database, "secret", "not-a-channel")
    async with database.write() as connection:
        flow_id = uuid.uuid4()
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name="etl", tags=[]))
        deployment_id, _ = await deployments.create_deployment(
            connection, DeploymentCreate.model_validate({"name": "nightly", "flow_id": flow_id})
        )
        pool, _ = await work_pools.create_work_pool(connection, WorkPoolCreate(name="pool-b"))
        queue = await work_queues.create_work_queue(connection, pool["id"], WorkQueueCreate(name="urgent"))
        owned = await create_automation(
            connection,
            AutomationCreate.model_validate(
                {"name": "owned", "trigger": {"posture": "Reactive"}, "actions": [{"type": "do-nothing"}]}
            ),
            f"prefect.deployment.{deployment_id}",
        )
        automation = await create_automation(
            connection,
            AutomationCreate.model_validate(
                {"name": "watch", "trigger": {"posture": "Reactive"}, "actions": [{"type": "do-nothing"}]}
            ),
        )

    async with database.read() as connection:
        wanted = [str(flow_id), str(deployment_id), str(pool["id"]), str(queue["id"]), str(hook), "not-a-uuid"]
        names = await automation_pages.read_object_names(
            connection, [*wanted, str(automation["id"]), str(uuid.uuid4())]
        )
        assert names == {
            str(flow_id): "etl",
            str(deployment_id): "etl/nightly",
            str(pool["id"]): "pool-b",
            str(queue["id"]): "urgent",
            str(hook): "ops-hook",
            str(automation["id"]): "watch",
        }
        assert await automation_pages.read_object_names(connection, []) == {}

        choices = await automation_pages.read_form_choices(connection, CHANNELS, ("custom-webhook",), 10)
        assert [row["name"] for row in choices["flows"]] == ["etl"]
        assert [(row["id"], row["name"]) for row in choices["deployments"]] == [(deployment_id, "etl/nightly")]
        assert [row["name"] for row in choices["work_pools"]] == ["pool-b"]
        by_name = {row["name"]: row for row in choices["work_queues"]}
        assert by_name["urgent"]["work_pool_name"] == "pool-b" and by_name["urgent"]["work_pool_id"] == pool["id"]
        assert [row["name"] for row in choices["automations"]] == ["owned", "watch"]
        assert [(row["name"], row["type_name"]) for row in choices["notification_blocks"]] == [
            ("ops-hook", "Custom Webhook")
        ]
        assert [row["id"] for row in choices["webhook_blocks"]] == [hook]
        none = await automation_pages.read_form_choices(connection, CHANNELS, ("webhook",), 10)
        assert none["webhook_blocks"] == []
        assert await automation_pages.read_owner_resource(connection, automation["id"]) is None
        assert (
            await automation_pages.read_owner_resource(connection, owned["id"]) == f"prefect.deployment.{deployment_id}"
        )
