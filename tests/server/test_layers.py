"""Layering: SQL lives in server/models and server/database; API handlers and UI pages never import SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

import baton

PACKAGE = Path(baton.__file__).parent
# Handlers parse, call model functions and answer; the SQL those functions need is built in the models.
SQL_FREE_PACKAGES = ("server/api", "webui")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code (TYPE_CHECKING blocks and functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_api_or_ui_module_imports_sqlalchemy() -> None:
    checked = [path for package in SQL_FREE_PACKAGES for path in sorted((PACKAGE / package).rglob("*.py"))]
    assert len(checked) > 40  # the walk found the modules
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "sqlalchemy"
        )
        for path in checked
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "handler.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import sqlalchemy as sa\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy.ext.asyncio import AsyncConnection\n"
        "def f():\n"
        "    import sqlalchemy.exc\n"
    )
    assert {"sqlalchemy", "sqlalchemy.ext.asyncio", "sqlalchemy.exc"} <= imported_modules(module)
