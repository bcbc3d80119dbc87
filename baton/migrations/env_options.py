"""Options shared by the Alembic environment and the schema-drift check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def include_object_for(dialect_name: str) -> Callable[..., bool]:
    """An Alembic `include_object` hook that skips objects meant only for another dialect (`ddl_if`)."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "index" and not reflected and obj is not None:
            ddl_if = getattr(obj, "_ddl_if", None)
            if ddl_if is not None and ddl_if.dialect is not None and ddl_if.dialect != dialect_name:
                return False
        return True

    return include_object
