"""Rows to response bodies. Plain dicts encoded by orjson: the hot path skips model validation, and a test checks
each shape against the pydantic response models that document it (schemas/core.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from baton.server.database.types import utcnow

RUN_STATE_FIELDS = ("state_id", "state_type", "state_name", "state_timestamp")


def state_response(row: dict[str, Any]) -> dict[str, Any]:
    """A state-history row as the API's State object."""
    return {
        "id": row["id"],
        "type": row["type"],
        "name": row["name"],
        "timestamp": row["timestamp"],
        "message": row["message"],
        "data": row["data"],
        "state_details": row["state_details"] or {},
    }


def current_state(row: dict[str, Any]) -> dict[str, Any] | None:
    """The run's current state, from its denormalised columns and the joined state row."""
    if row.get("state_id") is None:
        return None
    return {
        "id": row["state_id"],
        "type": row["state_type"],
        "name": row["state_name"],
        "timestamp": row["state_timestamp"],
        "message": row.get("state_message"),
        "data": row.get("state_data"),
        "state_details": row.get("state_details") or {},
    }


def _estimates(row: dict[str, Any], now: dt.datetime) -> tuple[float, float]:
    """(estimated_run_time, estimated_start_time_delta) in seconds, as the Prefect UI expects them."""
    run_time = float(row.get("total_run_time") or 0.0)
    if row.get("state_type") == "RUNNING" and row.get("start_time") is not None:
        state_since = row.get("state_timestamp") or row["start_time"]
        run_time += max((now - state_since).total_seconds(), 0.0)
    expected = row.get("expected_start_time")
    start = row.get("start_time")
    if expected is None:
        delta = 0.0
    elif start is not None:
        delta = max((start - expected).total_seconds(), 0.0)
    elif row.get("state_type") in ("SCHEDULED", "PENDING") and expected < now:
        delta = (now - expected).total_seconds()
    else:
        delta = 0.0
    return run_time, delta


def flow_run_response(row: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    body = {key: value for key, value in row.items() if key not in ("state_message", "state_details", "state_data")}
    body["state"] = current_state(row)
    body["estimated_run_time"], body["estimated_start_time_delta"] = _estimates(row, now or utcnow())
    body.setdefault("work_pool_id", None)
    body.setdefault("work_pool_name", None)
    return body


def task_run_response(row: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    body = {key: value for key, value in row.items() if key not in ("state_message", "state_details", "state_data")}
    body["state"] = current_state(row)
    body["estimated_run_time"], body["estimated_start_time_delta"] = _estimates(row, now or utcnow())
    return body
