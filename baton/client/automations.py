"""Automations: list, read (by name or id), create, turn on or off and delete them (the Prefect-shaped
`/automations` API)."""

from __future__ import annotations

import uuid

from baton.client.base import BaseClient, JsonObject, path_part
from baton.errors import ObjectNotFound, ValidationFailed


class AutomationsClient(BaseClient):
    def read_automations(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Automations sorted by name; at most `limit` of them."""
        return self.request("POST", "/automations/filter", json={"sort": "NAME_ASC", "limit": limit, "offset": offset})

    def read_automations_by_name(self, name: str) -> list[JsonObject]:
        """Every automation called `name` (names are not unique), oldest first."""
        body = {"sort": "CREATED_DESC", "automations": {"name": {"any_": [name]}}}
        return list(reversed(self.request("POST", "/automations/filter", json=body)))

    def read_automation(self, name_or_id: str) -> JsonObject:
        """The automation with that id, or the one automation with that name.

        ObjectNotFound if there is none; ValidationFailed if several share the name (their ids are in the message)."""
        try:
            return self.request("GET", f"/automations/{uuid.UUID(name_or_id)}")
        except ValueError:
            pass
        found = self.read_automations_by_name(name_or_id)
        if not found:
            raise ObjectNotFound(f"Automation {name_or_id!r} not found.")
        if len(found) > 1:
            ids = ", ".join(row["id"] for row in found)
            raise ValidationFailed(f"{len(found)} automations are named {name_or_id!r} ({ids}); give one's id.")
        return found[0]

    def create_automation(self, automation: JsonObject) -> JsonObject:
        """The new automation (its triggers get fresh ids); ValidationFailed naming a bad trigger, action or
        template."""
        return self.request("POST", "/automations/", json=automation)

    def replace_automation(self, automation_id: str, automation: JsonObject) -> None:
        """Replace every field of the automation (its trigger state starts over); ObjectNotFound if there is none."""
        self.request("PUT", f"/automations/{automation_id}", json=automation)

    def set_automation_enabled(self, automation_id: str, enabled: bool) -> None:
        """Turn the automation on or off (off forgets what its trigger had counted); ObjectNotFound if none."""
        self.request("PATCH", f"/automations/{automation_id}", json={"enabled": enabled})

    def delete_automation(self, automation_id: str) -> None:
        """Delete the automation with its trigger state and history; ObjectNotFound if there is none."""
        self.request("DELETE", f"/automations/{automation_id}")

    def read_automations_related_to(self, resource_id: str) -> list[JsonObject]:
        """The automations owned by `resource_id` (e.g. `prefect.deployment.<id>`) or selecting it in an action."""
        return self.request("GET", f"/automations/related-to/{path_part(resource_id)}")
