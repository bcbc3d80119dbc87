"""How the UI names log levels, writes log cursors in URLs, and turns log rows into text and JSON."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from baton.errors import ValidationFailed
from baton.webui.formatting import as_datetime

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
# A search longer than this is refused (it would only be slower, not more precise).
MAX_SEARCH_LENGTH = 200
_CURSOR_SEPARATOR = "~"

LogCursor = tuple[dt.datetime, uuid.UUID]


@dataclass(frozen=True)
class LogFilter:
    """The log view's filter from the query string: a minimum level (name, "" for all) and a substring."""

    level: str = ""
    text: str = ""

    @property
    def min_level(self) -> int:
        return LEVELS.get(self.level, 0)

    def query(self) -> dict[str, str]:
        return {name: value for name, value in (("level", self.level), ("q", self.text)) if value}


def parse_log_filter(level: str | None, text: str | None) -> LogFilter:
    """Raises ValidationFailed for an unknown level or an over-long search."""
    level = (level or "").upper()
    if level and level not in LEVELS:
        raise ValidationFailed(f"The level must be one of {', '.join(LEVELS)}, not {level!r}.")
    text = (text or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValidationFailed(f"The search may be at most {MAX_SEARCH_LENGTH} characters long.")
    return LogFilter(level, text)


def level_name(level: int) -> str:
    for name, number in LEVELS.items():
        if number == level:
            return name
    return f"LEVEL{level}"


def format_cursor(row: dict[str, Any]) -> str:
    moment = as_datetime(row["timestamp"])
    assert moment is not None
    return f"{moment.astimezone(dt.UTC).isoformat()}{_CURSOR_SEPARATOR}{row['id']}"


def parse_cursor(value: str | None) -> LogCursor | None:
    """A cursor written by `format_cursor`; None for none; ValidationFailed for anything else."""
    if not value:
        return None
    try:
        moment, line_id = value.split(_CURSOR_SEPARATOR, 1)
        parsed = as_datetime(moment)
        assert parsed is not None
        return parsed, uuid.UUID(line_id)
    except (ValueError, AssertionError) as exc:
        raise ValidationFailed(f"{value!r} is not a position in a log.") from exc


def log_text_line(row: dict[str, Any]) -> str:
    """'timestamp level logger message' and a newline (the message may hold newlines of its own)."""
    moment = as_datetime(row["timestamp"])
    stamp = moment.astimezone(dt.UTC).isoformat() if moment else ""
    return f"{stamp} {level_name(row['level'])} {row['name']} {row['message']}\n"


def log_sort_key(row: dict[str, Any]) -> str:
    """A line's place in the log, (timestamp, id), as a string that sorts the same way in the browser."""
    moment = as_datetime(row["timestamp"])
    assert moment is not None
    return f"{moment.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S.%f}Z {row['id']}"


def log_json(row: dict[str, Any]) -> dict[str, Any]:
    moment = as_datetime(row["timestamp"])
    return {
        "id": str(row["id"]),
        "sort": log_sort_key(row),
        "timestamp": moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None,
        "level": level_name(row["level"]),
        "logger": row["name"],
        "message": row["message"],
        "task_run_id": str(row["task_run_id"]) if row.get("task_run_id") else None,
    }
