"""What an artifact page shows for each artifact type: the data as a table, a link, a progress value or Markdown.

The Prefect client stores a table as a JSON string (a list of rows, a dict of columns or a list of lists), a link
as Markdown (`[text](url)`, or the bare URL), progress as a number from 0 to 100 and markdown as text. Every
function here takes whatever the API accepted (any JSON), so a malformed artifact shows as its JSON rather than
failing the page. Values come back as plain text for the template to escape.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from baton.webui.markdown import is_web_url

# A table artifact shows at most this many rows (the rest is summarised): a page must stay fast.
MAX_TABLE_ROWS = 1000

_MARKDOWN_LINK = re.compile(r"^\[(?P<text>[^\]]*)\]\((?P<url>.*)\)$", re.S)


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    total_rows: int


@dataclass(frozen=True)
class Link:
    text: str
    url: str
    clickable: bool


def _loaded(data: Any) -> Any:
    if isinstance(data, str):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            return data
    return data


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return orjson.dumps(value).decode()


def as_table(data: Any) -> Table | None:
    """The table in a table artifact's data, or None when it is not one of the shapes the client writes."""
    value = _loaded(data)
    if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
        columns = list(dict.fromkeys(key for row in value for key in row))
        rows = [[cell_text(row.get(column)) for column in columns] for row in value[:MAX_TABLE_ROWS]]
        return Table(columns, rows, len(value))
    if isinstance(value, list) and all(isinstance(row, list) for row in value):
        width = max((len(row) for row in value), default=0)
        rows = [[cell_text(cell) for cell in row] + [""] * (width - len(row)) for row in value[:MAX_TABLE_ROWS]]
        return Table([str(number) for number in range(width)], rows, len(value))
    if isinstance(value, dict) and all(isinstance(column, list) for column in value.values()):
        columns = [str(column) for column in value]
        length = max((len(column) for column in value.values()), default=0)
        cells = list(value.values())
        rows = [
            [cell_text(column[index]) if index < len(column) else "" for column in cells]
            for index in range(min(length, MAX_TABLE_ROWS))
        ]
        return Table(columns, rows, length)
    return None


def as_link(data: Any) -> Link:
    """The link of a link artifact; `clickable` only for http(s) URLs."""
    text = data if isinstance(data, str) else cell_text(data)
    match = _MARKDOWN_LINK.match(text.strip())
    label, url = (match.group("text") or match.group("url"), match.group("url")) if match else (text, text.strip())
    return Link(text=label, url=url, clickable=is_web_url(url))


def as_progress(data: Any) -> float | None:
    """The progress percentage of a progress artifact, clamped to 0..100; None when it is not a number."""
    value = _loaded(data)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return max(0.0, min(100.0, float(value)))


def as_image_url(data: Any) -> str | None:
    """The image URL of an image artifact when it is an http(s) URL, else None."""
    return data if isinstance(data, str) and is_web_url(data) else None


def as_text(data: Any) -> str:
    """Data as text: a string as it is, anything else as indented JSON."""
    if isinstance(data, str):
        return data
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()


def preview(data: Any, limit: int = 120) -> str:
    """A one-line excerpt of the data for lists."""
    text = " ".join((data if isinstance(data, str) else cell_text(data)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
