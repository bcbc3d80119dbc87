"""`/flow_run_notification_policies` (Prefect 2's shape) plus test sends, previews, and `/notification_deliveries`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.blocks.encryption import BlockCipher
from baton.server.database.types import utcnow
from baton.server.models.blocks.block_documents import read_block_document
from baton.server.models.notifications import notification_policies as model
from baton.server.models.runs import flow_runs, flows
from baton.server.schemas.notifications import (
    DeliveryFilterRequest,
    NotificationDelivery,
    NotificationPolicy,
    NotificationPolicyCreate,
    NotificationPolicyFilterRequest,
    NotificationPolicyUpdate,
    Preview,
    PreviewRequest,
    TestResult,
)


def sample_subject(policy_id: Any) -> dict[str, Any]:
    """A made-up failed run, for previews and test messages."""
    flow_id, run_id = uuid.UUID(int=1), uuid.UUID(int=2)
    return {
        "policy": {"id": policy_id, "message_template": None},
        "flow": {"id": flow_id, "name": "daily-etl"},
        "run": {"id": run_id, "name": "fuzzy-leopard", "tags": ["daily-etl"], "parameters": {"day": "2026-06-27"}},
        "state": {
            "type": "FAILED",
            "name": "Failed",
            "message": "This is a test message from Baton.",
            "timestamp": utcnow(),
        },
    }


class PoliciesHandler(ApiHandler):
    permission = "notification:write"

    @endpoint("Create a notification policy", body=NotificationPolicyCreate, response=NotificationPolicy, status=201)
    async def post(self) -> None:
        create = self.parse_body(NotificationPolicyCreate)
        async with self.database.write() as connection:
            row = await model.create_policy(connection, create)
        self.write_json(row, status=201)


class PolicyHandler(ApiHandler):
    permission = {"GET": "notification:read", "PATCH": "notification:write", "DELETE": "notification:write"}

    async def _read(self, policy_id: str) -> dict[str, Any]:
        async with self.database.read() as connection:
            row = await model.read_policy(connection, self.path_uuid(policy_id))
        if row is None:
            raise ObjectNotFound(f"Notification policy {policy_id} does not exist.")
        return row

    @endpoint("Read a notification policy", response=NotificationPolicy)
    async def get(self, policy_id: str) -> None:
        self.write_json(await self._read(policy_id))

    @endpoint("Update a notification policy (pause with is_active=false)", body=NotificationPolicyUpdate, status=204)
    async def patch(self, policy_id: str) -> None:
        target = self.path_uuid(policy_id)
        update = self.parse_body(NotificationPolicyUpdate)
        async with self.database.write() as connection:
            found = await model.update_policy(connection, target, update)
        if not found:
            raise ObjectNotFound(f"Notification policy {policy_id} does not exist.")
        self.write_no_content()

    @endpoint("Delete a notification policy and its delivery records", status=204)
    async def delete(self, policy_id: str) -> None:
        async with self.database.write() as connection:
            found = await model.delete_policy(connection, self.path_uuid(policy_id))
        if not found:
            raise ObjectNotFound(f"Notification policy {policy_id} does not exist.")
        self.write_no_content()


class PolicyFilterHandler(ApiHandler):
    permission = "notification:read"

    @endpoint(
        "List notification policies",
        body=NotificationPolicyFilterRequest,
        response=list[NotificationPolicy],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(NotificationPolicyFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await model.read_policies(
                connection, request.flow_run_notification_policy_filter, limit, request.offset
            )
        self.write_json(rows)


class PolicyTestHandler(ApiHandler):
    permission = "notification:write"

    @endpoint("Send a test message through the policy's target now", response=TestResult)
    async def post(self, policy_id: str) -> None:
        from baton.actors.notifications import notification_for, send
        from baton.notifications.channels import DeliveryFailed
        from baton.notifications.http import make_http_client

        settings = self.context.settings
        async with self.database.read() as connection:
            found = await model.read_policy(connection, self.path_uuid(policy_id))
            if found is None:
                raise ObjectNotFound(f"Notification policy {policy_id} does not exist.")
            document = await read_block_document(
                connection,
                found["block_document_id"],
                BlockCipher(settings.server_encryption_key),
                include_secrets=True,
            )
        if document is None:
            raise ValidationFailed("The policy's target block document no longer exists.")
        subject = {**sample_subject(found["id"]), "policy": found, "document": document}
        try:
            async with make_http_client(timeout=10.0) as http:
                result = await send(subject, notification_for(subject, settings), settings, http)
        except DeliveryFailed as failure:
            self.write_json(TestResult(sent=False, response_code=failure.status_code, error=str(failure)))
            return
        self.write_json(TestResult(sent=True, response_code=result.status_code))


class PolicyPreviewHandler(ApiHandler):
    permission = "notification:read"

    @endpoint(
        "Render a message template for a run (or a sample run)",
        body=PreviewRequest,
        response=Preview,
        optional_body=True,
    )
    async def post(self) -> None:
        from baton.notifications.templates import placeholder_values, render, render_subject

        request = self.parse_body(PreviewRequest, default_empty=True)
        subject = sample_subject(None)
        if request.flow_run_id is not None:
            async with self.database.read() as connection:
                run = await flow_runs.read_flow_run(connection, request.flow_run_id)
                if run is None:
                    raise ObjectNotFound(f"Flow run {request.flow_run_id} does not exist.")
                flow = await flows.read_flow(connection, run["flow_id"])
            state = {
                "type": run["state_type"] or "PENDING",
                "name": run["state_name"] or "Pending",
                "message": run.get("state_message"),
                "timestamp": run["state_timestamp"] or dt.datetime.now(dt.UTC),
            }
            subject.update(run=run, flow=flow or {"id": run["flow_id"], "name": "?"}, state=state)
        settings = self.context.settings
        values = placeholder_values(
            policy_id=None,
            flow=subject["flow"],
            run=subject["run"],
            state=subject["state"],
            ui_url=settings.effective_ui_url,
            time_zone=settings.notifications_time_zone,
        )
        self.write_json(Preview(subject=render_subject(values), message=render(request.message_template, values)))


class DeliveryFilterHandler(ApiHandler):
    permission = "notification:read"

    @endpoint(
        "Recent notification deliveries, newest first",
        body=DeliveryFilterRequest,
        response=list[NotificationDelivery],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(DeliveryFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            rows = await model.read_deliveries(connection, request, self.effective_limit(request.limit))
        self.write_json(rows)


_ID = r"(?P<policy_id>[^/]+)"
routes = [
    (r"/flow_run_notification_policies/?", PoliciesHandler),
    (r"/flow_run_notification_policies/filter/?", PolicyFilterHandler),
    (r"/flow_run_notification_policies/preview/?", PolicyPreviewHandler),
    (rf"/flow_run_notification_policies/{_ID}/test/?", PolicyTestHandler),
    (rf"/flow_run_notification_policies/{_ID}/?", PolicyHandler),
    (r"/notification_deliveries/filter/?", DeliveryFilterHandler),
]
