"""Options shared by the Alembic environment and the schema-drift check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from baton.server.database.tables.base import ONLY_ON_DIALECT


def include_object_for(dialect_name: str) -> Callable[..., bool]:
    """An Alembic `include_object` hook that skips indexes meant only for another dialect (`postgresql_only`)."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "index" and not reflected and obj is not None:
            only_on = obj.info.get(ONLY_ON_DIALECT)
            if only_on is not None and only_on != dialect_name:
                return False
        return True

    return include_object


def in_workspace_store() -> bool:
    """True while migrating a workspace's store (see `baton.server.database.workspace_stores`), which has no global
    table: a step that changes the identity or workspace tables returns early when this is true."""
    from alembic import context

    return bool(context.config.attributes.get("workspace_store"))
