"""Variables: named JSON values that flows read at run time."""

from __future__ import annotations

from typing import Any

from baton.client.base import BaseClient, JsonObject, path_part
from baton.errors import ObjectNotFound


class VariablesClient(BaseClient):
    def read_variables(
        self, *, name_like: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[JsonObject]:
        """Variables sorted by name, optionally those whose name contains `name_like`; at most `limit` of them."""
        body: JsonObject = {"sort": "NAME_ASC", "limit": limit, "offset": offset}
        if name_like is not None:
            body["variables"] = {"name": {"like_": name_like}}
        return self.request("POST", "/variables/filter", json=body)

    def read_variable_by_name(self, name: str) -> JsonObject:
        """The variable called `name`; ObjectNotFound if there is none."""
        return self.request("GET", f"/variables/name/{path_part(name)}")

    def create_variable(self, name: str, value: Any, tags: list[str] | None = None) -> JsonObject:
        """The new variable; ObjectAlreadyExists if the name is taken, ValidationFailed for a bad name or value."""
        body = {"name": name, "value": value, "tags": tags or []}
        return self.request("POST", "/variables/", json=body)

    def update_variable_by_name(self, name: str, value: Any, tags: list[str] | None = None) -> None:
        """Set the value (and the tags, when given) of the variable called `name`; ObjectNotFound if there is none."""
        body: JsonObject = {"value": value}
        if tags is not None:
            body["tags"] = tags
        self.request("PATCH", f"/variables/name/{path_part(name)}", json=body)

    def set_variable(self, name: str, value: Any, tags: list[str] | None = None, *, overwrite: bool = False) -> bool:
        """Create the variable, or with `overwrite` replace the value (and the tags, when given) of an existing one.

        Returns True when it created the variable. Without `overwrite`, a taken name is ObjectAlreadyExists.
        """
        if overwrite:
            try:
                self.update_variable_by_name(name, value, tags)
            except ObjectNotFound:
                pass
            else:
                return False
        self.create_variable(name, value, tags)
        return True

    def delete_variable_by_name(self, name: str) -> None:
        """Delete the variable called `name`; ObjectNotFound if there is none."""
        self.request("DELETE", f"/variables/name/{path_part(name)}")
