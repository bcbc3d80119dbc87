"""`/automations`: create, read, replace, enable or disable, delete, filter, count; the automations related to or
owned by a resource (what `prefect deployment inspect` lists and a redeploy replaces); template validation; and
Baton's history of an automation's firings with each action's outcome."""

from __future__ import annotations

from typing import Any

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.automations.loaded import automation_cache
from baton.server.automations.templates import TemplateInvalid, check_automation_templates, check_template
from baton.server.models.automations import automations, firings
from baton.server.schemas.automations import (
    Automation,
    AutomationCountRequest,
    AutomationCreate,
    AutomationFilterRequest,
    AutomationFiring,
    AutomationFiringsRequest,
    AutomationPartialUpdate,
    AutomationUpdate,
)


class AutomationWriter(ApiHandler):
    def automations_changed(self) -> None:
        """This process's trigger engine sees the change at once (others within a second)."""
        automation_cache(self.database).forget()


def _not_found(automation_id: str) -> ObjectNotFound:
    return ObjectNotFound(f"Automation {automation_id} does not exist.")


class AutomationsHandler(AutomationWriter):
    permission = "automation:write"

    @endpoint("Create an automation (422 names a bad trigger, action or template)", body=AutomationCreate,
              response=Automation, status=201)  # fmt: skip
    async def post(self) -> None:
        automation = self.parse_body(AutomationCreate)
        check_automation_templates(automation)
        async with self.database.write() as connection:
            row = await automations.create_automation(connection, automation, automation.owner_resource)
        self.automations_changed()
        self.write_json(row, status=201)


class AutomationHandler(AutomationWriter):
    permission = {"GET": "automation:read", "PUT": "automation:write", "PATCH": "automation:write",
                  "DELETE": "automation:write"}  # fmt: skip

    @endpoint("Read an automation", response=Automation)
    async def get(self, automation_id: str) -> None:
        async with self.database.read() as connection:
            row = await automations.read_automation(connection, self.path_uuid(automation_id))
        if row is None:
            raise _not_found(automation_id)
        self.write_json(row)

    @endpoint("Replace an automation (its trigger state starts over)", body=AutomationUpdate, status=204)
    async def put(self, automation_id: str) -> None:
        target = self.path_uuid(automation_id)
        automation = self.parse_body(AutomationUpdate)
        check_automation_templates(automation)
        async with self.database.write() as connection:
            found = await automations.replace_automation(connection, target, automation)
        self.automations_changed()
        if not found:
            raise _not_found(automation_id)
        self.write_no_content()

    @endpoint("Turn an automation on or off", body=AutomationPartialUpdate, status=204)
    async def patch(self, automation_id: str) -> None:
        target = self.path_uuid(automation_id)
        update = self.parse_body(AutomationPartialUpdate)
        async with self.database.write() as connection:
            found = await automations.set_automation_enabled(connection, target, update.enabled)
        self.automations_changed()
        if not found:
            raise _not_found(automation_id)
        self.write_no_content()

    @endpoint("Delete an automation with its state and history", status=204)
    async def delete(self, automation_id: str) -> None:
        target = self.path_uuid(automation_id)
        async with self.database.write() as connection:
            found = await automations.delete_automation(connection, target)
        self.automations_changed()
        if not found:
            raise _not_found(automation_id)
        self.write_no_content()


class AutomationFilterHandler(ApiHandler):
    permission = "automation:read"

    @endpoint("Automations matching a filter", body=AutomationFilterRequest, response=list[Automation],
              optional_body=True)  # fmt: skip
    async def post(self) -> None:
        request = self.parse_body(AutomationFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await automations.filter_automations(
                connection, request.automations, request.sort, limit, request.offset
            )
        self.write_json(rows)


class AutomationCountHandler(ApiHandler):
    permission = "automation:read"

    @endpoint("How many automations match a filter", body=AutomationCountRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(AutomationCountRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await automations.count_automations(connection, request.automations)
        self.write_json(count)


class RelatedAutomationsHandler(ApiHandler):
    permission = "automation:read"

    @endpoint("The automations related to a resource (owned by it, or naming it in an action)",
              response=list[Automation])  # fmt: skip
    async def get(self, resource_id: str) -> None:
        async with self.database.read() as connection:
            rows = await automations.read_automations_related_to(connection, resource_id)
        self.write_json(rows)


class OwnedAutomationsHandler(AutomationWriter):
    permission = "automation:write"

    @endpoint("Delete the automations a resource owns (a redeploy replaces its triggers this way)", status=202)
    async def delete(self, resource_id: str) -> None:
        async with self.database.write() as connection:
            await automations.delete_automations_owned_by(connection, resource_id)
        self.automations_changed()
        self.write_no_content(202)


class TemplateValidationHandler(ApiHandler):
    permission = "automation:read"

    @endpoint("Check that a Jinja template compiles: 204, or 422 with its line and message", body=str, status=204,
              optional_body=True)  # fmt: skip
    async def post(self) -> None:
        template = self.json_body()
        if template is None:
            template = ""
        if not isinstance(template, str):
            self.write_json({"error": {"line": None, "message": "The body must be a JSON string.", "source": ""}}, 422)
            return
        try:
            check_template(template)
        except TemplateInvalid as exc:
            self.write_json({"error": {"line": exc.line, "message": exc.message, "source": template}}, 422)
            return
        self.write_no_content()


class AutomationFiringsHandler(ApiHandler):
    permission = "automation:read"

    @endpoint("An automation's firings, newest first, with each action's outcome", body=AutomationFiringsRequest,
              response=list[AutomationFiring], optional_body=True)  # fmt: skip
    async def post(self, automation_id: str) -> None:
        target = self.path_uuid(automation_id)
        request = self.parse_body(AutomationFiringsRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            if await automations.read_automation(connection, target) is None:
                raise _not_found(automation_id)
            rows = await firings.read_firings(connection, target, limit, request.offset)
        self.write_json(rows)


routes: list[tuple[str, Any]] = [
    (r"/automations/?", AutomationsHandler),
    (r"/automations/filter/?", AutomationFilterHandler),
    (r"/automations/count/?", AutomationCountHandler),
    (r"/automations/templates/validate/?", TemplateValidationHandler),
    (r"/templates/validate/?", TemplateValidationHandler),
    (r"/automations/related-to/(?P<resource_id>[^/]+)/?", RelatedAutomationsHandler),
    (r"/automations/owned-by/(?P<resource_id>[^/]+)/?", OwnedAutomationsHandler),
    (r"/automations/(?P<automation_id>[^/]+)/firings/?", AutomationFiringsHandler),
    (r"/automations/(?P<automation_id>[^/]+)/?", AutomationHandler),
]
