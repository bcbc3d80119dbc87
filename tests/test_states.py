"""baton/states.py is the one home of the state facts: the terminal set and the Late name are spelled nowhere else in
baton/ (templates and static files aside), and the filter schemas' literal type list matches the enum."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from baton.server.schemas.filters import StateTypeName
from baton.states import LATE, TERMINAL_STATE_TYPES, TERMINAL_STATE_VALUES, StateType

PACKAGE = Path(__file__).resolve().parent.parent / "baton"
# Migrations describe the schema as it was when written, so they never import today's constants.
EXEMPT = {PACKAGE / "states.py", PACKAGE / "migrations"}


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if not any(path == exempt or exempt in path.parents for exempt in EXEMPT)
    ]


def _spellings(path: Path) -> list[str]:
    """Where `path` writes the Late name or the terminal set itself: a string "Late", a collection literal of exactly
    the terminal types, or a text (SQL) naming all four of them."""
    found = []
    terminal = set(TERMINAL_STATE_VALUES)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value == LATE:
                found.append(f"{path}:{node.lineno}: {LATE!r}")
            elif all(value in node.value for value in terminal):
                found.append(f"{path}:{node.lineno}: the terminal types in a text")
        elif isinstance(node, ast.Set | ast.Tuple | ast.List):
            values = {item.value for item in node.elts if isinstance(item, ast.Constant)}
            if values == terminal:
                found.append(f"{path}:{node.lineno}: the terminal set")
    return found


def test_the_terminal_set_and_late_are_spelled_only_in_baton_states() -> None:
    modules = _modules()
    assert len(modules) > 100  # the scan found the package
    assert [spelling for path in modules for spelling in _spellings(path)] == []


def test_terminal_values_are_the_terminal_types() -> None:
    assert set(TERMINAL_STATE_VALUES) == TERMINAL_STATE_TYPES
    assert len(TERMINAL_STATE_VALUES) == len(TERMINAL_STATE_TYPES) == 4
    assert all(type(value) is str for value in TERMINAL_STATE_VALUES)  # plain strings, as SQL binds them


def test_filter_schema_state_type_names_match_the_enum() -> None:
    assert list(typing.get_args(StateTypeName)) == [state_type.value for state_type in StateType]
