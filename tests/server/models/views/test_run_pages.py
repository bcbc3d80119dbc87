"""The runs and flows pages' queries on SQLite and PostgreSQL: keyset pages, filters, capped counts, summaries."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.views import run_pages
from baton.server.models.views.run_pages import Cursor, RunSort
from baton.server.schemas.requests import RunFilterSet
from baton.webui.run_listing import RunListFilter

BASE = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@dataclass
class Seeded:
    alpha: uuid.UUID
    beta: uuid.UUID
    empty: uuid.UUID
    runs: dict[str, uuid.UUID]


async def insert_flow(connection: Any, name: str) -> uuid.UUID:
    flow_id = uuid.uuid4()
    await connection.execute(sa.insert(t.flow).values(id=flow_id, name=name, tags=[]))
    return flow_id


async def insert_run(
    connection: Any, flow_id: uuid.UUID, name: str, state: tuple[str, str] | None, **values: Any
) -> uuid.UUID:
    run_id = uuid.uuid4()
    if state is not None:
        values.update(state_id=uuid.uuid4(), state_type=state[0], state_name=state[1], state_timestamp=BASE)
    values.setdefault("tags", [])
    values.setdefault("created", BASE - dt.timedelta(days=1))
    await connection.execute(sa.insert(t.flow_run).values(id=run_id, flow_id=flow_id, name=name, **values))
    return run_id


@pytest.fixture
async def seeded(database: Database) -> Seeded:
    """40 runs whose start times and names tie in groups, plus scheduled, late and never-started runs."""
    runs: dict[str, uuid.UUID] = {}
    async with database.write() as c:
        alpha = await insert_flow(c, "alpha")
        beta = await insert_flow(c, "beta")
        empty = await insert_flow(c, "empty")
        for number in range(30):
            # Ten start times shared by three runs each; five names shared by six runs each.
            start = BASE + (number % 10) * MINUTE
            state = [("COMPLETED", "Completed"), ("FAILED", "Failed"), ("CRASHED", "Crashed")][number % 3]
            runs[f"done-{number}"] = await insert_run(
                c, alpha if number % 2 else beta, f"batch-{number % 5}", state, start_time=start,
                expected_start_time=start, end_time=start + MINUTE, total_run_time=60.0,
                tags=["nightly"] if number % 4 == 0 else ["adhoc", "big"],
            )  # fmt: skip
        for number in range(4):  # scheduled in the future, two at the same time
            when = BASE + dt.timedelta(days=1, hours=number // 2)
            runs[f"scheduled-{number}"] = await insert_run(
                c, alpha, f"upcoming-{number}", ("SCHEDULED", "Scheduled"), expected_start_time=when,
                next_scheduled_start_time=when,
            )  # fmt: skip
        runs["late"] = await insert_run(
            c, alpha, "late_one", ("SCHEDULED", "Late"), expected_start_time=BASE - dt.timedelta(hours=1)
        )
        runs["running"] = await insert_run(
            c, beta, "100%_running", ("RUNNING", "Running"), start_time=BASE + 20 * MINUTE,
            expected_start_time=BASE + 20 * MINUTE,
        )  # fmt: skip
        runs["stateless"] = await insert_run(c, beta, "no state yet", None, created=BASE + 2 * MINUTE)
        runs["also-stateless"] = await insert_run(c, beta, "no state yet", None, created=BASE + 2 * MINUTE)
    return Seeded(alpha, beta, empty, runs)


async def read_all(database: Database, condition: RunFilterSet, sort: RunSort) -> list[uuid.UUID]:
    async with database.read() as c:
        page = await run_pages.read_run_page(c, condition, sort, 10_000)
    assert page.next is None and page.previous is None
    return [row["id"] for row in page.rows]


def condition(database: Database, **spec: Any) -> RunFilterSet:
    """The runs page's filter `spec` in the API's filter language, as the page sends it."""
    return RunListFilter(**spec).filter_set()


@pytest.mark.parametrize("sort", list(RunSort))
async def test_keyset_pages_cover_every_run_once_in_order_both_ways(
    database: Database, seeded: Seeded, sort: RunSort
) -> None:
    everything = condition(database)
    expected = await read_all(database, everything, sort)
    assert sorted(expected) == sorted(seeded.runs.values())

    forward: list[list[uuid.UUID]] = []
    cursor: Cursor | None = None
    async with database.read() as c:
        while True:
            page = await run_pages.read_run_page(c, everything, sort, 4, after=cursor)
            forward.append([row["id"] for row in page.rows])
            assert (page.previous is None) == (cursor is None)
            if page.next is None:
                break
            cursor = page.next
        assert [run for ids in forward for run in ids] == expected
        assert all(len(ids) == 4 for ids in forward[:-1])

        # Back from the last page, through the `previous` cursors, to the first page.
        backward = [forward[-1]]
        previous = page.previous
        while previous is not None:
            page = await run_pages.read_run_page(c, everything, sort, 4, before=previous)
            backward.append([row["id"] for row in page.rows])
            previous = page.previous
    assert backward[-1] == expected[:4]
    walked_back = [run for ids in reversed(backward) for run in ids]
    # The first page may overlap the second one when the run count is not a multiple of the page size.
    assert list(dict.fromkeys(walked_back)) == expected


async def test_ascending_and_descending_start_orders_are_mirror_images(database: Database, seeded: Seeded) -> None:
    everything = condition(database)
    newest_first = await read_all(database, everything, RunSort.START_DESC)
    assert newest_first == list(reversed(await read_all(database, everything, RunSort.START_ASC)))
    # Scheduled runs a day ahead come first; a run with no state sorts by when it was created.
    assert newest_first[0] in (seeded.runs["scheduled-2"], seeded.runs["scheduled-3"])
    assert newest_first.index(seeded.runs["stateless"]) < newest_first.index(seeded.runs["done-1"])


async def test_a_short_page_before_the_start_is_the_first_page(database: Database, seeded: Seeded) -> None:
    everything = condition(database)
    expected = await read_all(database, everything, RunSort.NAME_ASC)
    async with database.read() as c:
        first = await run_pages.read_run_page(c, everything, RunSort.NAME_ASC, 5)
        fourth = first.rows[3]
        back = await run_pages.read_run_page(
            c, everything, RunSort.NAME_ASC, 5, before=Cursor(fourth["sort_key"], fourth["id"])
        )
        # Six runs precede the second run of page two: a full page, with more before it.
        second = await run_pages.read_run_page(c, everything, RunSort.NAME_ASC, 5, after=first.next)
        row = second.rows[1]
        full = await run_pages.read_run_page(
            c, everything, RunSort.NAME_ASC, 5, before=Cursor(row["sort_key"], row["id"])
        )
    assert [row["id"] for row in back.rows] == expected[:5]
    assert back.previous is None and back.next is not None
    assert [row["id"] for row in full.rows] == expected[1:6]
    assert full.previous is not None and full.next is not None


@pytest.mark.parametrize(
    ("spec", "labels"),
    [
        ({"state_types": ("FAILED", "CRASHED")}, {f"done-{n}" for n in range(30) if n % 3}),
        ({"late": True}, {"late"}),
        ({"state_types": ("RUNNING",), "late": True}, {"late", "running"}),
        ({"tag": "nightly"}, {f"done-{n}" for n in range(0, 30, 4)}),
        ({"tag": "nigh"}, set()),
        ({"name": "100%"}, {"running"}),
        ({"name": "late_"}, {"late"}),
        ({"name": "E_O"}, {"late"}),
        ({"name": "e%o"}, set()),
        ({"name": "batch_"}, set()),
        ({"name": "BATCH-3"}, {f"done-{n}" for n in range(3, 30, 5)}),
        (
            {"started_from": BASE + 8 * MINUTE, "started_to": BASE + 9 * MINUTE},
            {f"done-{n}" for n in range(30) if n % 10 in (8, 9)},
        ),
        (
            {"flow_id": "beta", "state_types": ("COMPLETED",), "tag": "adhoc"},
            {f"done-{n}" for n in range(30) if n % 2 == 0 and n % 3 == 0 and n % 4},
        ),
    ],
)
async def test_filters_select_exactly_the_matching_runs(
    database: Database, seeded: Seeded, spec: dict[str, Any], labels: set[str]
) -> None:
    if spec.get("flow_id") == "beta":
        spec = {**spec, "flow_id": seeded.beta}
    found = await read_all(database, condition(database, **spec), RunSort.START_DESC)
    assert set(found) == {seeded.runs[label] for label in labels}
    assert len(found) == len(labels)


async def test_capped_count_stops_past_the_cap(database: Database, seeded: Seeded) -> None:
    async with database.read() as c:
        assert await run_pages.count_runs_capped(c, condition(database), 10) == 11
        assert await run_pages.count_runs_capped(c, condition(database), 1000) == len(seeded.runs)
        assert await run_pages.count_runs_capped(c, condition(database, late=True), 10) == 1


async def test_flow_summaries_count_runs_and_find_the_last_and_next_run(database: Database, seeded: Seeded) -> None:
    async with database.read() as c:
        summaries = await run_pages.read_flow_summaries(c, [seeded.alpha, seeded.beta, seeded.empty], BASE)
    alpha, beta, empty = summaries[seeded.alpha], summaries[seeded.beta], summaries[seeded.empty]
    assert alpha.counts == {"COMPLETED": 5, "FAILED": 5, "CRASHED": 5, "SCHEDULED": 5}
    assert alpha.total == 20
    assert beta.counts == {"COMPLETED": 5, "FAILED": 5, "CRASHED": 5, "RUNNING": 1, "NONE": 2}
    assert empty.total == 0 and empty.last_run is None and empty.next_run is None
    # alpha's runs are the odd ones: the latest start is minute 9 (runs 9, 19, 29), ties broken by id.
    assert alpha.last_run is not None and alpha.last_run["start_time"] == BASE + 9 * MINUTE
    tied = sorted(seeded.runs[f"done-{n}"] for n in (9, 19, 29))
    assert alpha.last_run["id"] == tied[-1]
    assert beta.last_run is not None and beta.last_run["id"] == seeded.runs["running"]
    assert beta.last_run["flow_name"] == "beta"
    # The late run is overdue, so the next run is the soonest one still ahead.
    assert alpha.next_run is not None
    assert alpha.next_run["id"] == min(seeded.runs["scheduled-0"], seeded.runs["scheduled-1"])
    assert beta.next_run is None


async def test_flow_pages_walk_all_flows_by_name(database: Database, seeded: Seeded) -> None:
    async with database.write() as c:
        for number in range(7):
            await insert_flow(c, f"gamma-{number}")
    names: list[str] = []
    cursor = None
    async with database.read() as c:
        while True:
            page = await run_pages.read_flow_page(c, None, 3, after=cursor)
            names += [row["name"] for row in page.rows]
            if page.next is None:
                break
            cursor = page.next
        searched = await run_pages.read_flow_page(c, "GAMMA-", 100)
        choices = await run_pages.read_flow_choices(c, 2)
    assert names == ["alpha", "beta", "empty", *(f"gamma-{n}" for n in range(7))]
    assert [row["name"] for row in searched.rows] == [f"gamma-{n}" for n in range(7)]
    assert [row["name"] for row in choices] == ["alpha", "beta"]
