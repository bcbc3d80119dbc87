"""The Notifications page: flow-run notification policies, their targets and recent deliveries; a form to create and
edit a policy (and, inline, a notification block to send through). Changes go through the JSON API."""

from __future__ import annotations

from typing import Any

from baton.errors import ObjectNotFound
from baton.notifications.templates import DEFAULT_TEMPLATE, PLACEHOLDERS
from baton.server.models.notifications import notification_policies as notifications
from baton.server.models.views import notification_overview as overview
from baton.states import (
    AWAITING_CONCURRENCY_SLOT,
    AWAITING_RETRY,
    CACHED,
    LATE,
    RETRYING,
    SUSPENDED,
    StateType,
    default_state_name,
)
from baton.webui.base import PageHandler

# Policies listed on the page; a server has a handful, rarely more than a few dozen.
POLICY_PAGE_SIZE = 200
DELIVERY_PAGE_SIZE = 50
# Documents offered as targets in the form's picker.
DOCUMENT_CHOICES = 500
# The state names a policy usually names (Prefect's), in the order a reader looks for them; a policy may name others.
STATE_NAMES = (
    default_state_name(StateType.SCHEDULED),
    LATE,
    default_state_name(StateType.PENDING),
    default_state_name(StateType.RUNNING),
    RETRYING,
    AWAITING_RETRY,
    AWAITING_CONCURRENCY_SLOT,
    default_state_name(StateType.PAUSED),
    SUSPENDED,
    default_state_name(StateType.CANCELLING),
    default_state_name(StateType.CANCELLED),
    default_state_name(StateType.COMPLETED),
    CACHED,
    default_state_name(StateType.FAILED),
    default_state_name(StateType.CRASHED),
    "TimedOut",
)
DELIVERY_STATUS_CLASSES = {
    "SENT": "completed",
    "FAILED": "failed",
    "RETRYING": "late",
    "SENDING": "running",
    "PENDING": "pending",
    "FOLDED": "paused",
}


def state_type_for(name: str) -> str:
    """The badge colour for a state name: its state type when the name is a standard one, else its own name."""
    special = {LATE: "late", RETRYING: "running", AWAITING_RETRY: "scheduled", CACHED: "completed"}
    return special.get(name, name).upper()


class NotificationsPageHandler(PageHandler):
    permission = "notification:read"

    async def get(self) -> None:
        raw_policy = self.get_query_argument("policy", None)
        policy_filter = self.path_uuid(raw_policy, "notification policy") if raw_policy else None
        async with self.database.read() as connection:
            policies = await overview.read_policies_with_targets(connection, POLICY_PAGE_SIZE)
            total = await overview.count_policies(connection)
            deliveries = await overview.read_recent_deliveries(connection, DELIVERY_PAGE_SIZE, policy_id=policy_filter)
        names = {row["id"]: policy_label(row) for row in policies}
        self.render_page(
            "notifications.html",
            title="Notifications",
            policies=policies,
            total=total,
            deliveries=deliveries,
            policy_names=names,
            policy_filter=policy_filter,
            state_type_for=state_type_for,
            delivery_class=lambda status: DELIVERY_STATUS_CLASSES.get(status, "pending"),
            page_size=POLICY_PAGE_SIZE,
        )


def policy_label(row: dict[str, Any]) -> str:
    """A policy's name, or a description made of its states and tags when it has none."""
    if row.get("name"):
        return str(row["name"])
    states = ", ".join(row["state_names"]) or "any state"
    tags = ", ".join(row["tags"])
    return f"{states} · {'tags ' + tags if tags else 'any run'}"


class PolicyFormPageHandler(PageHandler):
    """/notifications/new and /notifications/policy/{id}/edit."""

    permission = "notification:write"

    async def get(self, policy_id: str | None = None) -> None:
        # The channels (and httpx under them) load on first use, so the server's idle memory does not pay for them.
        from baton.notifications.channels import CHANNELS

        async with self.database.read() as connection:
            policy = None
            if policy_id is not None:
                policy = await notifications.read_policy(connection, self.path_uuid(policy_id, "notification policy"))
                if policy is None:
                    raise ObjectNotFound(f"There is no notification policy with the id {policy_id}.")
            channel_types = await overview.read_channel_types(connection, CHANNELS)
            documents = await overview.read_channel_documents(connection, CHANNELS, DOCUMENT_CHOICES)
        chosen = list(policy["state_names"]) if policy else ["Failed", "Crashed"]
        state_choices = list(STATE_NAMES) + [name for name in chosen if name not in STATE_NAMES]
        self.render_page(
            "notification_form.html",
            title="Edit notification" if policy else "New notification",
            policy=policy,
            chosen_states=chosen,
            state_choices=state_choices,
            documents=documents,
            channel_types=[_channel_type_json(row) for row in channel_types],
            placeholders=PLACEHOLDERS,
            default_template=DEFAULT_TEMPLATE,
            preselected_document=self.get_query_argument("block_document_id", None),
        )


def _channel_type_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "block_schema_id": str(row["block_schema_id"]),
        "fields": row["fields"],
    }


routes = [
    (r"/notifications/?", NotificationsPageHandler),
    (r"/notifications/new/?", PolicyFormPageHandler),
    (r"/notifications/policy/(?P<policy_id>[^/]+)/edit/?", PolicyFormPageHandler),
]
