"""The Automations pages: the list (with an on/off switch and when each last fired), an automation's page (its
trigger and actions in words, its JSON, its firings with each action's outcome), and the create and edit form.
Changes go through the JSON API."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

from baton.errors import ObjectNotFound
from baton.server.models.automations import automations, firings
from baton.server.models.views import automation_pages
from baton.server.schemas.automations import AutomationSort
from baton.webui import automation_text
from baton.webui.base import PageHandler
from baton.webui.pages.notifications import STATE_NAMES

# Automations listed on the page; a server has tens, rarely hundreds.
AUTOMATION_PAGE_SIZE = 500
FIRING_PAGE_SIZE = 50
# Objects offered in each of the form's pickers.
CHOICES_LIMIT = 500
# Block types whose documents a call-webhook action may name: Prefect's Webhook block.
WEBHOOK_BLOCK_SLUGS = ("webhook",)
FIRING_STATUS_CLASSES = {"SUCCEEDED": "completed", "FAILED": "failed", "RUNNING": "running", "PENDING": "pending"}


def referenced_ids(value: Any) -> set[str]:
    """Every id an automation's JSON may name: the last dotted part of each string (prefect.deployment.<id>)."""
    if isinstance(value, dict):
        return set().union(*(referenced_ids(each) for each in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(referenced_ids(each) for each in value)) if value else set()
    if isinstance(value, str):
        return {value.rsplit(".", 1)[-1]}
    return set()


def stored_json(row: dict[str, Any]) -> dict[str, Any]:
    """The automation as the API answers it (the fields a PUT takes back)."""
    keys = ("name", "description", "enabled", "tags", "trigger", "actions", "actions_on_trigger", "actions_on_resolve")
    return {key: row[key] for key in keys}


def event_link(event: dict[str, Any] | None) -> str | None:
    """The Events page filtered to the triggering event's name and resource."""
    if not event:
        return None
    query = {"window": "week", "event": event.get("event", "")}
    resource = (event.get("resource") or {}).get("prefect.resource.id")
    if resource:
        query["resource"] = resource
    return "/events?" + urllib.parse.urlencode(query)


class AutomationsPageHandler(PageHandler):
    permission = "automation:read"

    async def get(self) -> None:
        async with self.database.read() as connection:
            rows = await automations.filter_automations(
                connection, None, AutomationSort.NAME_ASC, AUTOMATION_PAGE_SIZE, 0
            )
            total = await automations.count_automations(connection, None)
            last = await firings.last_fired(connection, [row["id"] for row in rows])
            named = referenced_ids([stored_json(row) for row in rows])
            names = await automation_pages.read_object_names(connection, named)
        self.render_page(
            "automations.html",
            title="Automations",
            automations=rows,
            total=total,
            last_fired=last,
            names=names,
            describe_trigger=automation_text.describe_trigger,
            describe_actions=automation_text.describe_actions,
        )


class AutomationPageHandler(PageHandler):
    permission = "automation:read"

    async def get(self, automation_id: str) -> None:
        the_id = self.path_uuid(automation_id, "automation")
        async with self.database.read() as connection:
            row = await automations.read_automation(connection, the_id)
            if row is None:
                raise ObjectNotFound(f"There is no automation with the id {automation_id}.")
            history = await firings.read_firings(connection, the_id, FIRING_PAGE_SIZE)
            owner = await automation_pages.read_owner_resource(connection, the_id)
            names = await automation_pages.read_object_names(connection, referenced_ids([stored_json(row), owner]))
        self.render_page(
            "automation.html",
            title=row["name"],
            automation=row,
            automation_json=stored_json(row),
            firings=history,
            owner=owner,
            names=names,
            describe_trigger=automation_text.describe_trigger,
            describe_action=automation_text.describe_action,
            resource_page=automation_text.resource_page,
            event_link=event_link,
            status_class=lambda status: FIRING_STATUS_CLASSES.get(status, "pending"),
        )


class AutomationFormPageHandler(PageHandler):
    """/automations/new and /automations/{id}/edit."""

    permission = "automation:write"

    async def get(self, automation_id: str | None = None) -> None:
        # The channels (and httpx under them) load on first use, so the server's idle memory does not pay for them.
        from baton.notifications.channels import CHANNELS

        async with self.database.read() as connection:
            row = None
            if automation_id is not None:
                row = await automations.read_automation(connection, self.path_uuid(automation_id, "automation"))
                if row is None:
                    raise ObjectNotFound(f"There is no automation with the id {automation_id}.")
            choices = await automation_pages.read_form_choices(connection, CHANNELS, WEBHOOK_BLOCK_SLUGS, CHOICES_LIMIT)
            owner = await automation_pages.read_owner_resource(connection, row["id"]) if row else None
        self.render_page(
            "automation_form.html",
            title=f"Edit {row['name']}" if row else "New automation",
            automation=row,
            automation_json=stored_json(row) if row else None,
            choices={key: [_jsonable(each) for each in value] for key, value in choices.items()},
            state_names=STATE_NAMES,
            owner=owner,
            resource_page=automation_text.resource_page,
            preselected_deployment=self.get_query_argument("deployment", ""),
        )


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {key: str(value) if isinstance(value, uuid.UUID) else value for key, value in row.items()}


routes = [
    (r"/automations/?", AutomationsPageHandler),
    (r"/automations/new/?", AutomationFormPageHandler),
    (r"/automations/(?P<automation_id>[^/]+)/edit/?", AutomationFormPageHandler),
    (r"/automations/(?P<automation_id>[^/]+)/?", AutomationPageHandler),
]
