"""How the resource commands print: aligned plain-text tables, field lists, and JSON for `--json`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
# Rows a listing asks for unless told otherwise, as `prefect variable ls` does; the server caps a page at 200.
DEFAULT_LIST_LIMIT = 100
# Widest a free-text cell (a value, a description) gets before it is cut, so a table fits a common terminal.
MAX_CELL_WIDTH = 60
COLUMN_GAP = "  "
MISSING = "-"

if TYPE_CHECKING:
    from baton.client import BatonClient


def json_option(command: F) -> F:
    """The `--json` flag, passed to the command as `as_json`."""
    return click.option("--json", "as_json", is_flag=True, help="Print the JSON the API answered instead.")(command)


def limit_option(noun: str) -> Callable[[F], F]:
    """The `--limit N` option of a listing, passed to the command as `limit`."""
    return click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=DEFAULT_LIST_LIMIT,
        show_default=True,
        help=f"The most {noun} to list.",
    )


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def compact_json(value: Any) -> str:
    """`value` as one line of JSON."""
    return json.dumps(value, ensure_ascii=False)


def cell(text: str | None, width: int = MAX_CELL_WIDTH) -> str:
    """`text` on one line and at most `width` characters, cut with '...'; '-' when there is nothing."""
    if text is None or text == "":
        return MISSING
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


def timestamp(value: str | None) -> str:
    """An API timestamp as 'YYYY-MM-DD HH:MM:SS' in UTC."""
    if not value:
        return MISSING
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str) -> None:
    """Print rows under headers in left-aligned columns, or `empty` when there are no rows."""
    if not rows:
        click.echo(empty)
        return
    widths = [max(len(header), *(len(row[index]) for row in rows)) for index, header in enumerate(headers)]
    for line in (headers, *rows):
        click.echo(COLUMN_GAP.join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip())


def echo_fields(fields: Sequence[tuple[str, Any]]) -> None:
    """Print 'label  value' lines with the values aligned; a structured value as indented JSON under its label."""
    width = max(len(label) for label, _ in fields) + len(COLUMN_GAP)
    for label, value in fields:
        if isinstance(value, dict | list):
            text = json.dumps(value, indent=2, ensure_ascii=False)
        elif value is None:
            text = MISSING
        else:
            text = str(value)
        first, *rest = text.splitlines() or [""]
        click.echo(f"{label.ljust(width)}{first}".rstrip())
        for line in rest:
            click.echo(f"{' ' * width}{line}".rstrip())


def echo_more_hint(shown: int, limit: int, noun: str) -> None:
    """Say on stderr that a listing may have stopped at its limit."""
    if shown >= limit:
        click.echo(f"Showing the first {limit} {noun}; use --limit to see more.", err=True)


def api_client() -> BatonClient:
    """The SDK client for BATON_API_URL, imported on use: at module level it would load httpx into every `baton`
    process, the server included."""
    from baton.client import BatonClient

    return BatonClient()
