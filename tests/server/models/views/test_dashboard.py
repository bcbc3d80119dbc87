"""Dashboard queries on SQLite and PostgreSQL: exact counts per bucket and state, task runs, failed and late runs, and
the chart's counts agreeing with `/history`'s."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.views.dashboard import (
    count_flow_runs_by_bucket,
    count_task_runs_by_state,
    read_failed_flow_runs,
    read_late_flow_runs,
    read_latest_flow_runs,
)
from baton.webui.pages.dashboard import WINDOW_BY_KEY

BASE = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


async def insert_flow_run(
    connection: Any, flow_id: uuid.UUID, state: tuple[str, str] | None, expected: dt.datetime, tags: list[str]
) -> uuid.UUID:
    run_id = uuid.uuid4()
    values: dict[str, Any] = {"id": run_id, "name": f"run-{run_id.hex[:6]}", "flow_id": flow_id, "tags": tags}
    if state is not None:
        values.update(state_id=uuid.uuid4(), state_type=state[0], state_name=state[1], state_timestamp=expected)
    await connection.execute(sa.insert(t.flow_run).values(expected_start_time=expected, **values))
    return run_id


async def insert_task_run(connection: Any, flow_run_id: uuid.UUID, state_type: str, expected: dt.datetime) -> None:
    await connection.execute(
        sa.insert(t.task_run).values(
            id=uuid.uuid4(), name="task", flow_run_id=flow_run_id, task_key=uuid.uuid4().hex, dynamic_key="0",
            tags=[], state_id=uuid.uuid4(), state_type=state_type, state_name=state_type.title(),
            expected_start_time=expected,
        )
    )  # fmt: skip


@pytest.fixture
async def runs(database: Database) -> dict[str, uuid.UUID]:
    """Flow runs in three 5-minute buckets from BASE, plus runs just outside the window and one without a state."""
    flow_id = uuid.uuid4()
    ids: dict[str, uuid.UUID] = {}
    async with database.write() as c:
        await c.execute(sa.insert(t.flow).values(id=flow_id, name="charted", tags=[]))
        # Bucket 0: [10:00, 10:05)
        ids["first"] = await insert_flow_run(c, flow_id, ("COMPLETED", "Completed"), BASE, ["nightly"])
        await insert_flow_run(c, flow_id, ("COMPLETED", "Completed"), BASE + 4 * MINUTE, ["adhoc"])
        ids["failed-early"] = await insert_flow_run(c, flow_id, ("FAILED", "Failed"), BASE + 2 * MINUTE, ["nightly"])
        # Bucket 1: exactly on its starting edge, 10:05.
        await insert_flow_run(c, flow_id, ("RUNNING", "Running"), BASE + 5 * MINUTE, [])
        ids["late"] = await insert_flow_run(c, flow_id, ("SCHEDULED", "Late"), BASE + 6 * MINUTE, ["nightly"])
        await insert_flow_run(c, flow_id, ("SCHEDULED", "Scheduled"), BASE + 7 * MINUTE, [])
        # Bucket 2: [10:10, 10:15), the window's last.
        ids["crashed"] = await insert_flow_run(c, flow_id, ("CRASHED", "Crashed"), BASE + 11 * MINUTE, [])
        ids["failed-late"] = await insert_flow_run(
            c, flow_id, ("FAILED", "Failed"), BASE + 14 * MINUTE + dt.timedelta(seconds=59.999), ["nightly"]
        )
        # Outside the window (before, and exactly at its end) and without a state: never counted.
        await insert_flow_run(c, flow_id, ("FAILED", "Failed"), BASE - dt.timedelta(microseconds=1), [])
        await insert_flow_run(c, flow_id, ("SCHEDULED", "Late"), BASE + 15 * MINUTE, ["nightly"])
        await insert_flow_run(c, flow_id, None, BASE + MINUTE, ["nightly"])

        for _ in range(3):
            await insert_task_run(c, ids["first"], "COMPLETED", BASE + MINUTE)
        await insert_task_run(c, ids["failed-early"], "FAILED", BASE + 3 * MINUTE)
        await insert_task_run(c, ids["crashed"], "COMPLETED", BASE + 12 * MINUTE)
        await insert_task_run(c, ids["crashed"], "RUNNING", BASE + 20 * MINUTE)  # outside the window
    return ids


async def test_flow_runs_are_counted_per_bucket_and_state_type(database: Database, runs: dict[str, Any]) -> None:
    async with database.read() as connection:
        buckets = await count_flow_runs_by_bucket(connection, BASE, 300, 3)
    assert buckets == [
        {"COMPLETED": 2, "FAILED": 1},
        {"RUNNING": 1, "SCHEDULED": 2},
        {"CRASHED": 1, "FAILED": 1},
    ]


async def test_tag_filter_keeps_only_tagged_runs(database: Database, runs: dict[str, Any]) -> None:
    async with database.read() as connection:
        buckets = await count_flow_runs_by_bucket(connection, BASE, 300, 3, tag="nightly")
        tasks = await count_task_runs_by_state(connection, BASE, BASE + 15 * MINUTE, tag="nightly")
        none = await count_flow_runs_by_bucket(connection, BASE, 300, 3, tag="no-such-tag")
    assert buckets == [{"COMPLETED": 1, "FAILED": 1}, {"SCHEDULED": 1}, {"FAILED": 1}]
    assert tasks == {"COMPLETED": 3, "FAILED": 1}
    assert none == [{}, {}, {}]


async def test_one_wide_bucket_and_a_window_with_no_runs(database: Database, runs: dict[str, Any]) -> None:
    async with database.read() as connection:
        whole = await count_flow_runs_by_bucket(connection, BASE, 900, 1)
        empty = await count_flow_runs_by_bucket(connection, BASE + dt.timedelta(days=1), 3600, 24)
    assert whole == [{"COMPLETED": 2, "FAILED": 2, "RUNNING": 1, "SCHEDULED": 2, "CRASHED": 1}]
    assert empty == [{}] * 24


async def test_task_runs_are_counted_per_state_type(database: Database, runs: dict[str, Any]) -> None:
    async with database.read() as connection:
        counts = await count_task_runs_by_state(connection, BASE, BASE + 15 * MINUTE)
    assert counts == {"COMPLETED": 4, "FAILED": 1}


async def test_failed_and_late_runs_latest_first(database: Database, runs: dict[str, Any]) -> None:
    end = BASE + 15 * MINUTE
    async with database.read() as connection:
        failed = await read_failed_flow_runs(connection, BASE, end)
        tagged = await read_failed_flow_runs(connection, BASE, end, tag="nightly")
        limited = await read_failed_flow_runs(connection, BASE, end, limit=1)
        late = await read_late_flow_runs(connection, BASE, end)
        latest = await read_latest_flow_runs(connection, BASE, end, limit=2)
        latest_tagged = await read_latest_flow_runs(connection, BASE, end, tag="nightly")
    assert [row["id"] for row in failed] == [runs["failed-late"], runs["crashed"], runs["failed-early"]]
    assert failed[0]["flow_name"] == "charted" and failed[0]["state_name"] == "Failed"
    assert [row["id"] for row in tagged] == [runs["failed-late"], runs["failed-early"]]
    assert [row["id"] for row in limited] == [runs["failed-late"]]
    assert [row["id"] for row in late] == [runs["late"]]
    assert [row["id"] for row in latest] == [runs["failed-late"], runs["crashed"]]
    assert len(latest_tagged) == 5 and latest_tagged[-1]["id"] == runs["first"]


async def test_too_many_buckets_is_refused(database: Database) -> None:
    async with database.read() as connection:
        with pytest.raises(ValidationFailed):
            await count_flow_runs_by_bucket(connection, BASE, 1, 501)
        with pytest.raises(ValidationFailed):
            await count_flow_runs_by_bucket(connection, BASE, 0, 10)


def history_counts(buckets: list[dict[str, Any]]) -> list[dict[str, int]]:
    """`/history`'s buckets as the dashboard counts them: runs per state type, state names summed."""
    counts: list[dict[str, int]] = []
    for bucket in buckets:
        per_type: dict[str, int] = {}
        for state in bucket["states"]:
            per_type[state["state_type"]] = per_type.get(state["state_type"], 0) + state["count_runs"]
        counts.append(per_type)
    return counts


@pytest.mark.parametrize("tag", [None, "nightly"])
async def test_dashboard_and_history_endpoint_agree(
    database: Database, client: httpx.AsyncClient, runs: dict[str, Any], tag: str | None
) -> None:
    """The dashboard's chart and `POST /api/flow_runs/history` count the same runs into the same buckets: over the
    fixture's three 5-minute buckets and over the dashboard's own "Last hour" window ending in the last of them."""
    hour = WINDOW_BY_KEY["hour"]
    # (start, bucket seconds, buckets, runs counted): the hour also holds the failed run just before BASE.
    windows = [
        (BASE, 300, 3, 4 if tag else 8),
        (hour.bounds(BASE + 14 * MINUTE)[0], hour.bucket_seconds, hour.buckets, 4 if tag else 9),
    ]
    for start, seconds, count, counted in windows:
        end = start + dt.timedelta(seconds=seconds * count)
        body: dict[str, Any] = {
            "history_start": start.isoformat(),
            "history_end": end.isoformat(),
            "history_interval_seconds": seconds,
        }
        if tag:
            body["flow_runs"] = {"tags": {"all_": [tag]}}
        response = await client.post("/flow_runs/history", json=body)
        assert response.status_code == 200, response.text
        history = response.json()
        async with database.read() as connection:
            dashboard = await count_flow_runs_by_bucket(connection, start, seconds, count, tag=tag)

        starts = [dt.datetime.fromisoformat(bucket["interval_start"]) for bucket in history]
        assert starts == [start + i * dt.timedelta(seconds=seconds) for i in range(count)]
        assert history_counts(history) == dashboard
        assert sum(sum(bucket.values()) for bucket in dashboard) == counted  # not agreeing on nothing
