"""Run history: runs counted per time bucket and state, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.filters import core as filters
from baton.server.models.runs.history import run_history
from baton.server.schemas.requests import FlowRunHistoryRequest

BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


async def insert_run(connection: Any, table: sa.Table, state: tuple[str, str] | None, **values: Any) -> None:
    if state is not None:
        values.update(state_id=uuid.uuid4(), state_type=state[0], state_name=state[1])
        values.setdefault("state_timestamp", values.get("start_time") or BASE)
    if table is t.task_run:
        values.update(task_key=str(uuid.uuid4()), dynamic_key="0")
    await connection.execute(sa.insert(table).values(id=uuid.uuid4(), name="run", tags=[], **values))


@pytest.fixture
async def flow_id(database: Database) -> uuid.UUID:
    flow = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    async with database.write() as c:
        await c.execute(sa.insert(t.flow).values(id=flow, name="charted", tags=[]))
        run = {"flow_id": flow}
        await insert_run(
            c, t.flow_run, ("COMPLETED", "Completed"), **run, expected_start_time=BASE, start_time=BASE + MINUTE,
            end_time=BASE + 5 * MINUTE, total_run_time=240.0,
        )  # fmt: skip
        # Expected exactly on the edge between the first two 30-minute buckets: it belongs to the second.
        await insert_run(
            c, t.flow_run, ("RUNNING", "Running"), **run, expected_start_time=BASE + 30 * MINUTE,
            start_time=BASE + 30 * MINUTE, state_timestamp=now - dt.timedelta(seconds=100), total_run_time=0.0,
        )  # fmt: skip
        await insert_run(
            c, t.flow_run, ("FAILED", "Failed"), **run, expected_start_time=BASE + HOUR,
            start_time=BASE + HOUR + 2 * MINUTE, total_run_time=60.0,
        )  # fmt: skip
        await insert_run(
            c, t.flow_run, ("FAILED", "Failed"), **run, expected_start_time=BASE + HOUR + 10 * MINUTE,
            start_time=BASE + HOUR + 10 * MINUTE, total_run_time=30.0,
        )  # fmt: skip
        await insert_run(c, t.flow_run, ("SCHEDULED", "Late"), **run, expected_start_time=BASE + 2 * HOUR)
        await insert_run(c, t.flow_run, None, **run, expected_start_time=BASE)  # no state: not counted
        await insert_run(c, t.flow_run, ("COMPLETED", "Completed"), **run, expected_start_time=BASE + 3 * HOUR)
        await insert_run(c, t.flow_run, ("COMPLETED", "Completed"), **run, expected_start_time=BASE - MINUTE)
        await insert_run(
            c, t.task_run, ("COMPLETED", "Completed"), expected_start_time=BASE + 5 * MINUTE, total_run_time=2.5
        )
    return flow


def summary(buckets: list[dict[str, Any]]) -> list[list[tuple[str, str, int]]]:
    return [[(s["state_type"], s["state_name"], s["count_runs"]) for s in bucket["states"]] for bucket in buckets]


async def test_runs_are_counted_per_bucket_and_state(database: Database, flow_id: uuid.UUID) -> None:
    async with database.read() as connection:
        buckets = await run_history(connection, "flow_run", BASE, BASE + 3 * HOUR, 1800, sa.true())

    assert [bucket["interval_start"] for bucket in buckets] == [BASE + i * 30 * MINUTE for i in range(6)]
    assert buckets[-1]["interval_end"] == BASE + 3 * HOUR
    assert summary(buckets) == [
        [("COMPLETED", "Completed", 1)],
        [("RUNNING", "Running", 1)],
        [("FAILED", "Failed", 2)],
        [],
        [("SCHEDULED", "Late", 1)],
        [],
    ]
    completed, running, failed = buckets[0]["states"][0], buckets[1]["states"][0], buckets[2]["states"][0]
    assert completed["sum_estimated_run_time"] == pytest.approx(240.0)
    assert completed["sum_estimated_lateness"] == pytest.approx(60.0)
    assert 99 <= running["sum_estimated_run_time"] <= 160  # still running: the time since its state began
    assert running["sum_estimated_lateness"] == 0.0
    assert failed["sum_estimated_run_time"] == pytest.approx(90.0)
    assert failed["sum_estimated_lateness"] == pytest.approx(120.0)
    late = buckets[4]["states"][0]
    expected_lateness = (dt.datetime.now(dt.UTC) - (BASE + 2 * HOUR)).total_seconds()
    assert late["sum_estimated_lateness"] == pytest.approx(expected_lateness, abs=60)


async def test_history_applies_the_filter_and_covers_a_partial_last_bucket(
    database: Database, flow_id: uuid.UUID
) -> None:
    request = FlowRunHistoryRequest.model_validate(
        {
            "history_start": BASE.isoformat(),
            "history_end": (BASE + 150 * MINUTE).isoformat(),
            "history_interval_seconds": 3600,
            "flow_runs": {"state": {"type": {"any_": ["FAILED", "SCHEDULED"]}}},
            "flows": {"name": {"any_": ["charted"]}},
        }
    )
    async with database.read() as connection:
        condition = filters.flow_run_condition(request, database.dialect)
        buckets = await run_history(
            connection, "flow_run", request.history_start, request.history_end, request.interval_seconds, condition
        )
        task_buckets = await run_history(connection, "task_run", BASE, BASE + HOUR, 600, sa.true())

    assert summary(buckets) == [[], [("FAILED", "Failed", 2)], [("SCHEDULED", "Late", 1)]]
    assert buckets[-1]["interval_end"] == BASE + 3 * HOUR  # three buckets reach past 2.5 hours
    assert summary(task_buckets)[0] == [("COMPLETED", "Completed", 1)]
    assert task_buckets[0]["states"][0]["sum_estimated_run_time"] == pytest.approx(2.5)
    assert len(task_buckets) == 6 and all(not bucket["states"] for bucket in task_buckets[1:])


async def test_history_refuses_sub_second_intervals(database: Database) -> None:
    async with database.read() as connection:
        with pytest.raises(ValidationFailed, match="less than 1 second"):
            await run_history(connection, "flow_run", BASE, BASE + HOUR, 0.5, sa.true())
        assert await run_history(connection, "task_run", BASE, BASE, 60, sa.true()) == []


def history_body(**values: Any) -> dict[str, Any]:
    body = {"history_start": BASE.isoformat(), "history_end": (BASE + HOUR).isoformat()}
    return {**body, **values}


def test_history_request_validation() -> None:
    request = FlowRunHistoryRequest.model_validate(history_body(history_interval_seconds=60))
    assert (request.interval_seconds, request.bucket_count) == (60, 60)
    prefect_form = FlowRunHistoryRequest.model_validate(
        history_body(history_interval="PT15M", work_queues={"name": {"any_": ["default"]}})
    )
    assert prefect_form.interval_seconds == 900
    assert prefect_form.work_pool_queues is not None
    assert FlowRunHistoryRequest.model_validate(history_body(history_interval=120.0)).bucket_count == 30

    def refused(**values: Any) -> str:
        with pytest.raises(pydantic.ValidationError) as caught:
            FlowRunHistoryRequest.model_validate(history_body(**values))
        return str(caught.value)

    assert "less than 1 second" in refused(history_interval_seconds=0.5)
    assert "at most 500 are allowed" in refused(history_interval_seconds=7)  # 515 buckets
    assert "must be after history_start" in refused(history_interval_seconds=60, history_end=BASE.isoformat())
    assert "history_interval_seconds is required" in refused()
    assert "not both" in refused(history_interval_seconds=60, history_interval=60)
    # As in Prefect, an unknown top-level key is ignored (the filters inside refuse theirs) and a null is the default.
    lenient = FlowRunHistoryRequest.model_validate(history_body(history_interval_seconds=60, flow_runz={}, flows=None))
    assert (lenient.bucket_count, lenient.flows) == (60, None)
    assert "Extra inputs" in refused(history_interval_seconds=60, flow_runs={"idd": {}})
