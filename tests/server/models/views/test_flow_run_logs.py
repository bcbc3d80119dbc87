"""A flow run's log pages around cursors, level and text filters, and the live follower, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.views.flow_run_logs import (
    read_flow_run_log_page,
    read_flow_run_logs_forward,
    read_flow_run_state_summary,
)
from baton.server.models.views.run_follower import OVERLAP, RunFollower

BASE = dt.datetime(2026, 2, 1, 8, 0, tzinfo=dt.UTC)


def line(
    run_id: uuid.UUID, second: float, message: str, level: int = 20, *, written: float | None = None
) -> dict[str, Any]:
    """A log line stamped `second` after BASE, written (`created`) `written` seconds after BASE (else as stamped)."""
    return {
        "created": BASE + dt.timedelta(seconds=second if written is None else written),
        "id": uuid.uuid4(),
        "name": "prefect.flow_runs",
        "level": level,
        "message": message,
        "timestamp": BASE + dt.timedelta(seconds=second),
        "flow_run_id": run_id,
        "task_run_id": None,
    }


@pytest.fixture
async def run_id(database: Database) -> uuid.UUID:
    flow_id, run = uuid.uuid4(), uuid.uuid4()
    async with database.write() as c:
        await c.execute(sa.insert(t.flow).values(id=flow_id, name="logged", tags=[]))
        await c.execute(
            sa.insert(t.flow_run).values(
                id=run, flow_id=flow_id, name="r", tags=[], state_id=uuid.uuid4(), state_type="RUNNING",
                state_name="Running", run_count=1, total_run_time=0.0,
            )
        )  # fmt: skip
        rows = [line(run, i, f"line {i}", 30 if i % 10 == 0 else 20) for i in range(25)]
        rows.append(line(uuid.uuid4(), 3, "another run's line 3"))
        await c.execute(sa.insert(t.log), rows)
    return run


def messages(rows: list[dict[str, Any]]) -> list[str]:
    return [row["message"] for row in rows]


async def test_newest_page_then_earlier_and_later_pages(database: Database, run_id: uuid.UUID) -> None:
    async with database.read() as c:
        newest = await read_flow_run_log_page(c, run_id, limit=10)
        assert messages(newest.rows) == [f"line {i}" for i in range(15, 25)]
        assert newest.more_before and not newest.more_after
        first = newest.rows[0]
        earlier = await read_flow_run_log_page(c, run_id, limit=10, before=(first["timestamp"], first["id"]))
        assert messages(earlier.rows) == [f"line {i}" for i in range(5, 15)]
        assert earlier.more_before and earlier.more_after
        last = earlier.rows[-1]
        later = await read_flow_run_log_page(c, run_id, limit=20, after=(last["timestamp"], last["id"]))
        assert messages(later.rows) == [f"line {i}" for i in range(15, 25)]
        assert not later.more_after


async def test_level_and_text_filters(database: Database, run_id: uuid.UUID) -> None:
    async with database.read() as c:
        warnings = await read_flow_run_log_page(c, run_id, limit=100, min_level=30)
        assert messages(warnings.rows) == ["line 0", "line 10", "line 20"]
        found = await read_flow_run_log_page(c, run_id, limit=100, text="LINE 1")
        assert messages(found.rows) == ["line 1", *[f"line {i}" for i in range(10, 20)]]
        # LIKE wildcards are matched literally.
        assert (await read_flow_run_log_page(c, run_id, limit=100, text="line_1")).rows == []
        forward = await read_flow_run_logs_forward(c, run_id, limit=3, since=BASE + dt.timedelta(seconds=20))
        assert messages(forward) == ["line 20", "line 21", "line 22"]
        after = (forward[-1]["timestamp"], forward[-1]["id"])
        rest = await read_flow_run_logs_forward(c, run_id, limit=10, after=after, text="line 2")
        assert messages(rest) == ["line 23", "line 24"]


async def test_follower_sends_each_new_line_once_including_late_arrivals(database: Database, run_id: uuid.UUID) -> None:
    follower = RunFollower(run_id, since=BASE + dt.timedelta(seconds=24))
    async with database.read() as c:
        first = await follower.poll(c)
    # The lines written within the overlap window before `since` are sent again (the page de-duplicates them).
    assert first.exists and first.state is not None
    assert messages(first.lines) == [f"line {i}" for i in range(24 - int(OVERLAP.total_seconds()), 25)]
    async with database.write() as c:
        await c.execute(
            sa.insert(t.log),
            [
                # Stamped 21 s before the newest line sent, written now: followed by when it was written.
                line(run_id, 3, "late", written=27),
                # Written before the newest line sent but committed after it (within the overlap window).
                line(run_id, 26, "committed late", written=24 - OVERLAP.total_seconds() / 2),
                line(run_id, 28, "new", written=28),
                # Written before the overlap window: a commit this late is not looked for.
                line(run_id, 29, "too late", written=20),
            ],
        )
    async with database.read() as c:
        second = await follower.poll(c)
        third = await follower.poll(c)
    assert messages(second.lines) == ["committed late", "late", "new"] and second.state is None
    assert third.lines == [] and third.state is None
    assert [row["created"] for row in second.lines] == sorted(row["created"] for row in second.lines)

    async with database.write() as c:
        await c.execute(sa.update(t.flow_run).values(state_id=uuid.uuid4(), state_type="COMPLETED"))
    async with database.read() as c:
        changed = await follower.poll(c)
        assert changed.state is not None and changed.state["state_type"] == "COMPLETED"
        assert (await read_flow_run_state_summary(c, uuid.uuid4())) is None
    async with database.write() as c:
        await c.execute(sa.delete(t.flow_run))
    async with database.read() as c:
        assert not (await follower.poll(c)).exists


async def test_a_search_written_into_the_statement_matches_quotes_and_backslashes_literally(
    database: Database, run_id: uuid.UUID
) -> None:
    tricky = "it's 100% done \\ path C:\\tmp_1 '; DROP TABLE log; --"
    async with database.write() as c:
        await c.execute(sa.insert(t.log), [line(run_id, 30, tricky), line(run_id, 31, "its 1000 done")])
    async with database.read() as c:
        for text in ("it's 100% done \\", "C:\\tmp_1 '", "'; DROP TABLE log; --"):
            page = await read_flow_run_log_page(c, run_id, limit=10, text=text)
            assert messages(page.rows) == [tricky]
            assert messages(await read_flow_run_logs_forward(c, run_id, limit=10, text=text)) == [tricky]
        assert (await read_flow_run_log_page(c, run_id, limit=10, text="it's 100%_")).rows == []
        assert len((await read_flow_run_log_page(c, run_id, limit=100)).rows) == 27
