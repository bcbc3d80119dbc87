"""`LogStream`: newly written log lines, fanned out to the `/logs/out` subscribers of one server process.

Log lines are written by whichever API process received them, so the stream follows the `log` table by its `created`
column (see `baton.server.live_stream`); a subscriber on any process sees every line. A line reaches a subscriber when
its filter would select it from `/logs/filter`: `log_matches` is the SQL of `models.filters.core.log_condition` in
memory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from baton.server.database.engine import Database
from baton.server.live_stream import LiveStream, Row, StreamSource
from baton.server.models.runs import logs
from baton.server.schemas.base import utc
from baton.server.schemas.event_filters import text_terms
from baton.server.schemas.filters import LogFilter, LogFilterTextSearch


def log_matches(spec: LogFilter, log: Row) -> bool:
    """Whether the log line `log` (a `log` row) passes `spec`."""
    parts = [
        _level_matches(spec, log["level"]),
        _time_matches(spec, log["timestamp"]),
        _flow_run_matches(spec, log["flow_run_id"]),
        _task_run_matches(spec, log["task_run_id"]),
        None if spec.text is None else _text_matches(spec.text, log),
    ]
    present = [part for part in parts if part is not None]
    if not present:
        return True
    return all(present) if spec.operator == "and_" else any(present)


def _level_matches(spec: LogFilter, level: int) -> bool | None:
    if spec.level is None or (spec.level.ge_ is None and spec.level.le_ is None):
        return None
    return (spec.level.ge_ is None or level >= spec.level.ge_) and (spec.level.le_ is None or level <= spec.level.le_)


def _time_matches(spec: LogFilter, timestamp: dt.datetime) -> bool | None:
    if spec.timestamp is None or (spec.timestamp.before_ is None and spec.timestamp.after_ is None):
        return None
    moment = utc(timestamp)
    before, after = spec.timestamp.before_, spec.timestamp.after_
    return (before is None or moment <= utc(before)) and (after is None or moment >= utc(after))


def _flow_run_matches(spec: LogFilter, flow_run_id: Any) -> bool | None:
    if spec.flow_run_id is None or spec.flow_run_id.any_ is None:
        return None
    return flow_run_id in spec.flow_run_id.any_


def _task_run_matches(spec: LogFilter, task_run_id: Any) -> bool | None:
    criteria = spec.task_run_id
    if criteria is None or (criteria.any_ is None and criteria.is_null_ is None):
        return None
    if criteria.any_ is not None and task_run_id not in criteria.any_:
        return False
    return criteria.is_null_ is None or (task_run_id is None) == criteria.is_null_


def _text_matches(spec: LogFilterTextSearch, log: Row) -> bool | None:
    include, exclude, required = text_terms(spec.query)
    if not (include or exclude or required):
        return None
    searchable = f"{log['message']} {log['name']}".lower()
    if include and not any(term in searchable for term in include):
        return False
    if any(term in searchable for term in exclude):
        return False
    return all(term in searchable for term in required)


LOGS: StreamSource[LogFilter] = StreamSource(
    name="logs",
    read_keys=logs.read_written_log_ids,
    read_rows=logs.read_logs_by_id,
    matches=log_matches,
)


class LogStream(LiveStream[LogFilter]):
    """The live log lines of one database for the subscribers in this process."""

    def __init__(self, database: Database, **tuning: Any) -> None:
        super().__init__(database, LOGS, **tuning)
