"""Concurrency limits: global limits (slots shared by any code that names them) and tag limits on task runs."""

from __future__ import annotations

from typing import Any

from baton.client.base import BaseClient, JsonObject, path_part


class ConcurrencyLimitsClient(BaseClient):
    # --- global (v2) limits --------------------------------------------------------------------------------------

    def create_global_concurrency_limit(
        self, name: str, limit: int, *, active: bool = True, slot_decay_per_second: float = 0.0
    ) -> JsonObject:
        """The new limit; ObjectAlreadyExists if the name is taken, ValidationFailed for a bad name or size."""
        body = {"name": name, "limit": limit, "active": active, "slot_decay_per_second": slot_decay_per_second}
        return self.request("POST", "/v2/concurrency_limits/", json=body)

    def read_global_concurrency_limit(self, id_or_name: str) -> JsonObject:
        """The limit with that id or name, its slots after decay and the leases holding them; ObjectNotFound if
        there is none."""
        return self.request("GET", f"/v2/concurrency_limits/{path_part(id_or_name)}")

    def read_global_concurrency_limits(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Global limits sorted by name; at most `limit` of them."""
        return self.request("POST", "/v2/concurrency_limits/filter", json={"limit": limit, "offset": offset})

    def update_global_concurrency_limit(self, id_or_name: str, **fields: Any) -> None:
        """Change the given fields (name, limit, active, active_slots, denied_slots, slot_decay_per_second);
        ObjectNotFound if there is no such limit."""
        self.request("PATCH", f"/v2/concurrency_limits/{path_part(id_or_name)}", json=fields)

    def delete_global_concurrency_limit(self, id_or_name: str) -> None:
        """Delete the limit; ObjectNotFound if there is none."""
        self.request("DELETE", f"/v2/concurrency_limits/{path_part(id_or_name)}")

    # --- tag (v1) limits -----------------------------------------------------------------------------------------

    def create_tag_concurrency_limit(self, tag: str, concurrency_limit: int) -> JsonObject:
        """Create the limit on task runs tagged `tag`, or change its size when it exists."""
        return self.request("POST", "/concurrency_limits/", json={"tag": tag, "concurrency_limit": concurrency_limit})

    def read_tag_concurrency_limit(self, tag: str) -> JsonObject:
        """The tag's limit, with the task runs holding its slots; ObjectNotFound if the tag has no limit."""
        return self.request("GET", f"/concurrency_limits/tag/{path_part(tag)}")

    def read_tag_concurrency_limits(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Tag limits sorted by tag; at most `limit` of them."""
        return self.request("POST", "/concurrency_limits/filter", json={"limit": limit, "offset": offset})

    def reset_tag_concurrency_limit(self, tag: str, slot_override: list[str] | None = None) -> None:
        """Free every slot of the tag's limit (then give one to each task run id in `slot_override`)."""
        self.request("POST", f"/concurrency_limits/tag/{path_part(tag)}/reset", json={"slot_override": slot_override})

    def delete_tag_concurrency_limit(self, tag: str) -> None:
        """Delete the tag's limit; ObjectNotFound if there is none."""
        self.request("DELETE", f"/concurrency_limits/tag/{path_part(tag)}")
