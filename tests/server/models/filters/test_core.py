"""Filter and sort requests turned into SQL, run against real rows on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa

from baton.errors import ValidationFailed
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.filters import core as filters
from baton.server.models.runs import flow_runs, flows, logs, task_runs
from baton.server.schemas.requests import (
    DeploymentFilterRequest,
    FlowFilterRequest,
    FlowRunFilterRequest,
    LogFilterRequest,
    TaskRunFilterRequest,
    effective_limit,
)
from baton.server.schemas.sorting import FlowRunSort, FlowSort, LogSort, TaskRunSort

BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


async def insert(connection: Any, table: sa.Table, **values: Any) -> uuid.UUID:
    """Insert one row (table defaults fill the rest) and return its id."""
    values.setdefault("id", uuid.uuid4())
    await connection.execute(sa.insert(table).values(**values))
    return values["id"]


async def insert_run(
    connection: Any,
    table: sa.Table,
    name: str,
    state: tuple[str, str] | None = None,
    tags: tuple[str, ...] = (),
    **values: Any,
) -> uuid.UUID:
    """A flow run or task run with the given state (type, name), tags and other columns."""
    if state is not None:
        values.update(state_id=uuid.uuid4(), state_type=state[0], state_name=state[1])
        values.setdefault("state_timestamp", values.get("start_time") or BASE)
    if table is t.task_run:
        values.setdefault("task_key", name)
        values.setdefault("dynamic_key", "0")
    return await insert(connection, table, name=name, tags=list(tags), **values)


@dataclass
class Seed:
    etl: uuid.UUID
    ml: uuid.UUID
    nightly: uuid.UUID
    r1: uuid.UUID
    r2: uuid.UUID
    r3: uuid.UUID
    r4: uuid.UUID
    r5: uuid.UUID
    t1: uuid.UUID
    t2: uuid.UUID
    t3: uuid.UUID
    t4: uuid.UUID

    def runs(self, ids: Any) -> set[str]:
        names = {getattr(self, key): key for key in ("r1", "r2", "r3", "r4", "r5", "t1", "t2", "t3", "t4")}
        return {names[i] for i in ids}


@pytest.fixture
async def seed(database: Database) -> Seed:
    async with database.write() as c:
        etl = await insert(c, t.flow, name="etl-Pipeline", tags=["prod"])
        ml = await insert(c, t.flow, name="ml-train", tags=[])
        k8s = await insert(c, t.work_pool, name="k8s-pool", type="kubernetes")
        local = await insert(c, t.work_pool, name="local", type="process")
        critical = await insert(c, t.work_queue, name="critical", work_pool_id=k8s)
        default = await insert(c, t.work_queue, name="Default", work_pool_id=local)
        nightly = await insert(
            c, t.deployment, name="nightly", flow_id=etl, tags=["prod", "nightly"], work_queue_id=critical
        )
        r1 = await insert_run(
            c, t.flow_run, "load-100%", ("COMPLETED", "Completed"), ("prod", "nightly"), flow_id=etl,
            expected_start_time=BASE, start_time=BASE + MINUTE, end_time=BASE + 5 * MINUTE, total_run_time=240.0,
            deployment_id=nightly, work_queue_id=critical, work_queue_name="critical", idempotency_key="k1",
        )  # fmt: skip
        r2 = await insert_run(
            c, t.flow_run, "load-1000", ("FAILED", "Failed"), ("prod",), flow_id=etl,
            expected_start_time=BASE + HOUR, start_time=BASE + HOUR + 2 * MINUTE,
            end_time=BASE + HOUR + 3 * MINUTE, total_run_time=60.0,
        )  # fmt: skip
        r3 = await insert_run(
            c, t.flow_run, "Load-Data", ("SCHEDULED", "Late"), (), flow_id=ml, expected_start_time=BASE + 2 * HOUR,
            next_scheduled_start_time=BASE + 2 * HOUR, work_queue_id=default, work_queue_name="Default",
        )  # fmt: skip
        r5 = await insert_run(c, t.flow_run, "a_b-run", None, ("dev", "prod"), flow_id=ml)
        t1 = await insert_run(
            c, t.task_run, "extract", ("COMPLETED", "Completed"), ("io",), flow_run_id=r1,
            expected_start_time=BASE + MINUTE, start_time=BASE + MINUTE, end_time=BASE + 2 * MINUTE,
            total_run_time=60.0,
        )  # fmt: skip
        t2 = await insert_run(
            c, t.task_run, "transform", ("FAILED", "Failed"), (), flow_run_id=r1,
            expected_start_time=BASE + 2 * MINUTE, start_time=BASE + 2 * MINUTE, total_run_time=5.0,
        )  # fmt: skip
        t3 = await insert_run(
            c, t.task_run, "Extract-again", ("COMPLETED", "Completed"), ("io", "slow"), flow_run_id=r2,
            expected_start_time=BASE + HOUR, total_run_time=120.0,
        )  # fmt: skip
        t4 = await insert_run(c, t.task_run, "orphan", ("PENDING", "Pending"))
        # r4 is a subflow run of t1 (so of r1).
        r4 = await insert_run(
            c, t.flow_run, "axb-run", ("RUNNING", "Running"), ("dev",), flow_id=ml, parent_task_run_id=t1,
            expected_start_time=BASE + 30 * MINUTE, start_time=BASE + 30 * MINUTE,
        )  # fmt: skip
    return Seed(etl, ml, nightly, r1, r2, r3, r4, r5, t1, t2, t3, t4)


async def flow_run_ids(database: Database, body: dict[str, Any]) -> list[uuid.UUID]:
    request = FlowRunFilterRequest.model_validate(body)
    async with database.read() as connection:
        condition = filters.flow_run_condition(request, database.dialect)
        rows = await flow_runs.read_flow_runs(
            connection, condition, filters.flow_run_order_by(request.sort), 200, request.offset
        )
        assert await flow_runs.count_flow_runs(connection, condition) == len(rows) + request.offset
    return [row["id"] for row in rows]


async def task_run_ids(database: Database, body: dict[str, Any]) -> list[uuid.UUID]:
    request = TaskRunFilterRequest.model_validate(body)
    async with database.read() as connection:
        condition = filters.task_run_condition(request, database.dialect)
        order = filters.task_run_order_by(request.sort, database.dialect)
        rows = await task_runs.read_task_runs(connection, condition, order, 200, 0)
        assert await task_runs.count_task_runs(connection, condition) == len(rows)
    return [row["id"] for row in rows]


async def test_ids_and_keys_any_and_not_any(database: Database, seed: Seed) -> None:
    async def runs(body: dict[str, Any]) -> set[str]:
        return seed.runs(await flow_run_ids(database, {"flow_runs": body}))

    assert await runs({"id": {"any_": [str(seed.r1), str(seed.r2)], "not_any_": [str(seed.r2)]}}) == {"r1"}
    assert await runs({"id": {"any_": []}}) == set()
    assert await runs({"id": {"not_any_": []}}) == {"r1", "r2", "r3", "r4", "r5"}
    assert await runs({"idempotency_key": {"any_": ["k1"]}}) == {"r1"}
    assert await runs({"flow_version": {"any_": ["v9"]}}) == set()
    assert await runs({"state": {"name": {"not_any_": ["Late"]}}}) == {"r1", "r2", "r4"}


async def test_tags_all_any_and_is_null(database: Database, seed: Seed) -> None:
    async def runs(tags: dict[str, Any]) -> set[str]:
        return seed.runs(await flow_run_ids(database, {"flow_runs": {"tags": tags}}))

    assert await runs({"all_": ["prod", "nightly"]}) == {"r1"}
    assert await runs({"all_": ["prod"]}) == {"r1", "r2", "r5"}
    assert await runs({"any_": ["dev", "nightly"]}) == {"r1", "r4", "r5"}
    assert await runs({"any_": []}) == set()
    assert await runs({"is_null_": True}) == {"r3"}
    assert await runs({"is_null_": False}) == {"r1", "r2", "r4", "r5"}
    assert await runs({"operator": "or_", "all_": ["nightly"], "is_null_": True}) == {"r1", "r3"}


async def test_like_is_case_insensitive_and_takes_wildcards_literally(database: Database, seed: Seed) -> None:
    async def runs(name: dict[str, Any]) -> set[str]:
        return seed.runs(await flow_run_ids(database, {"flow_runs": {"name": name}}))

    assert await runs({"like_": "LOAD"}) == {"r1", "r2", "r3"}
    assert await runs({"like_": "100%"}) == {"r1"}  # not load-1000: the % is a character here
    assert await runs({"like_": "a_b"}) == {"r5"}  # not axb-run
    assert await runs({"any_": ["Load-Data"], "like_": "data"}) == {"r3"}
    flow_request = FlowFilterRequest.model_validate({"flows": {"name": {"like_": "PIPE"}}})
    async with database.read() as connection:
        rows = await flows.read_flows(
            connection, filters.flow_condition(flow_request, database.dialect), [t.flow.c.name], 10, 0
        )
    assert [row["name"] for row in rows] == ["etl-Pipeline"]


async def test_time_ranges_and_nulls(database: Database, seed: Seed) -> None:
    async def runs(body: dict[str, Any]) -> set[str]:
        return seed.runs(await flow_run_ids(database, {"flow_runs": body}))

    def iso(value: dt.datetime) -> str:
        return value.isoformat()

    # start_time falls back to the expected start time, as in Prefect.
    assert await runs({"start_time": {"after_": iso(BASE + 55 * MINUTE)}}) == {"r2", "r3"}
    assert await runs({"start_time": {"before_": iso(BASE + 30 * MINUTE)}}) == {"r1", "r4"}  # inclusive
    assert await runs({"start_time": {"is_null_": True}}) == {"r3", "r5"}
    assert await runs({"end_time": {"is_null_": False}}) == {"r1", "r2"}
    assert await runs({"end_time": {"before_": iso(BASE + 10 * MINUTE)}}) == {"r1"}
    assert await runs({"expected_start_time": {"after_": iso(BASE + HOUR), "before_": iso(BASE + 2 * HOUR)}}) == {
        "r2",
        "r3",
    }
    assert await runs({"next_scheduled_start_time": {"after_": iso(BASE)}}) == {"r3"}
    assert await runs({"deployment_id": {"is_null_": False}}) == {"r1"}
    assert await runs({"work_queue_name": {"is_null_": True}}) == {"r2", "r4", "r5"}
    assert await runs({"parent_task_run_id": {"any_": [str(seed.t1)]}}) == {"r4"}
    assert await runs({"parent_flow_run_id": {"any_": [str(seed.r1)]}}) == {"r4"}


async def test_state_groups_and_or(database: Database, seed: Seed) -> None:
    async def runs(body: dict[str, Any]) -> set[str]:
        return seed.runs(await flow_run_ids(database, {"flow_runs": body}))

    assert await runs({"state": {"type": {"any_": ["COMPLETED", "FAILED"]}}}) == {"r1", "r2"}
    assert await runs({"state": {"type": {"not_any_": ["COMPLETED"]}}}) == {"r2", "r3", "r4"}
    either = {"type": {"any_": ["COMPLETED"]}, "name": {"any_": ["Late"]}}
    assert await runs({"state": {**either, "operator": "or_"}}) == {"r1", "r3"}
    assert await runs({"state": either}) == set()
    # An empty part of an or_ group does not turn it into "everything".
    assert await runs({"state": {"operator": "or_", "type": {"any_": ["RUNNING"]}, "name": {}}}) == {"r4"}
    body = {"operator": "or_", "name": {"any_": ["load-1000"]}, "tags": {"is_null_": True}}
    assert await runs(body) == {"r2", "r3"}


async def test_cross_entity_filters_on_flow_runs(database: Database, seed: Seed) -> None:
    async def runs(body: dict[str, Any]) -> set[str]:
        return seed.runs(await flow_run_ids(database, body))

    assert await runs({"flows": {"name": {"like_": "etl"}}}) == {"r1", "r2"}
    assert await runs({"flows": {"tags": {"is_null_": True}}}) == {"r3", "r4", "r5"}
    assert await runs({"deployments": {"name": {"any_": ["nightly"]}}}) == {"r1"}
    assert await runs({"deployments": {}}) == {"r1"}  # present means "has a deployment", as in Prefect
    assert await runs({"work_pools": {"type": {"any_": ["kubernetes"]}}}) == {"r1"}
    assert await runs({"work_pool_queues": {"name": {"startswith_": ["DEF"]}}}) == {"r3"}
    assert await runs({"task_runs": {"name": {"like_": "extract"}}}) == {"r1", "r2"}
    assert await runs({"task_runs": {"state": {"type": {"any_": ["FAILED"]}}}}) == {"r1"}
    assert await runs({"task_runs": {}}) == {"r1", "r2"}
    combined = {
        "flows": {"name": {"like_": "etl"}},
        "task_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
        "flow_runs": {"state": {"type": {"any_": ["FAILED"]}}},
    }
    assert await runs(combined) == {"r2"}


async def test_task_run_filters(database: Database, seed: Seed) -> None:
    async def runs(body: dict[str, Any]) -> set[str]:
        return seed.runs(await task_run_ids(database, body))

    assert await runs({"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}) == {"t1", "t2"}
    assert await runs({"flows": {"name": {"any_": ["etl-Pipeline"]}}}) == {"t1", "t2", "t3"}
    assert await runs({"flow_runs": {}}) == {"t1", "t2", "t3"}
    assert await runs({"work_pools": {"name": {"any_": ["k8s-pool"]}}}) == {"t1", "t2"}
    assert await runs({"task_runs": {"subflow_runs": {"exists_": True}}}) == {"t1"}
    assert await runs({"task_runs": {"subflow_runs": {"exists_": False}}}) == {"t2", "t3", "t4"}
    assert await runs({"task_runs": {"flow_run_id": {"is_null_": True}}}) == {"t4"}
    assert await runs({"task_runs": {"flow_run_id": {"any_": [str(seed.r2)], "is_null_": False}}}) == {"t3"}
    assert await runs({"task_runs": {"name": {"like_": "EXTRACT"}}}) == {"t1", "t3"}
    assert await runs({"task_runs": {"tags": {"all_": ["io"]}}}) == {"t1", "t3"}
    assert await runs({"task_runs": {"tags": {"is_null_": True}}}) == {"t2", "t4"}
    assert await runs({"task_runs": {"state": {"name": {"any_": ["Failed"]}}}}) == {"t2"}
    assert await runs({"task_runs": {"start_time": {"is_null_": True}}}) == {"t3", "t4"}


async def test_flow_and_deployment_conditions(database: Database, seed: Seed) -> None:
    async def flow_names(body: dict[str, Any]) -> list[str]:
        request = FlowFilterRequest.model_validate(body)
        async with database.read() as connection:
            condition = filters.flow_condition(request, database.dialect)
            rows = await flows.read_flows(connection, condition, filters.flow_order_by(request.sort), 10, 0)
            assert await flows.count_flows(connection, condition) == len(rows)
        return [row["name"] for row in rows]

    assert await flow_names({}) == ["etl-Pipeline", "ml-train"]
    assert await flow_names({"sort": "NAME_DESC"}) == ["ml-train", "etl-Pipeline"]
    assert await flow_names({"flows": {"deployment": {"is_null_": True}}}) == ["ml-train"]
    assert await flow_names({"flows": {"deployment": {"is_null_": False}}}) == ["etl-Pipeline"]
    assert await flow_names({"flows": {"tags": {"is_null_": True}}}) == ["ml-train"]
    assert await flow_names({"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}}) == ["ml-train"]
    assert await flow_names({"task_runs": {"name": {"any_": ["transform"]}}}) == ["etl-Pipeline"]
    assert await flow_names({"work_pools": {"name": {"any_": ["k8s-pool"]}}}) == ["etl-Pipeline"]

    async def deployment_names(body: dict[str, Any]) -> set[str]:
        request = DeploymentFilterRequest.model_validate(body)
        query = sa.select(t.deployment.c.name).where(filters.deployment_condition(request, database.dialect))
        async with database.read() as connection:
            return set((await connection.execute(query)).scalars())

    assert await deployment_names({"deployments": {"flow_or_deployment_name": {"like_": "PIPELINE"}}}) == {"nightly"}
    assert await deployment_names({"deployments": {"flow_or_deployment_name": {"like_": "nope"}}}) == set()
    assert await deployment_names({"deployments": {"paused": {"eq_": False}, "tags": {"any_": ["x"]}}}) == set()
    assert await deployment_names({"deployments": {"paused": {"eq_": False}}}) == {"nightly"}
    assert await deployment_names({"flow_runs": {"state": {"type": {"any_": ["FAILED"]}}}}) == set()
    assert await deployment_names({"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}) == {"nightly"}
    assert await deployment_names({"work_pool_queues": {"name": {"any_": ["Default"]}}}) == set()


async def test_sorting_puts_nulls_last_and_breaks_ties_by_id(database: Database, seed: Seed) -> None:
    async def order(sort: FlowRunSort) -> list[str]:
        ids = await flow_run_ids(database, {"sort": sort.value})
        return [name for i in ids for name in seed.runs([i])]

    assert await order(FlowRunSort.EXPECTED_START_TIME_ASC) == ["r1", "r4", "r2", "r3", "r5"]
    assert await order(FlowRunSort.EXPECTED_START_TIME_DESC) == ["r3", "r2", "r4", "r1", "r5"]
    assert await order(FlowRunSort.START_TIME_ASC) == ["r1", "r4", "r2", "r3", "r5"]
    assert (await order(FlowRunSort.NEXT_SCHEDULED_START_TIME_ASC))[0] == "r3"
    by_end = await order(FlowRunSort.END_TIME_DESC)
    assert by_end[:2] == ["r2", "r1"]
    unfinished = sorted((seed.r3, seed.r4, seed.r5), key=lambda i: i.hex, reverse=True)
    assert by_end[2:] == [name for i in unfinished for name in seed.runs([i])]
    everything = sorted((seed.r1, seed.r2, seed.r3, seed.r4, seed.r5), key=lambda i: i.hex, reverse=True)
    assert await flow_run_ids(database, {}) == everything  # ID_DESC by default
    assert await flow_run_ids(database, {"sort": "EXPECTED_START_TIME_ASC", "offset": 3}) == [seed.r3, seed.r5]

    async with database.write() as connection:
        # Running for ten minutes already: longer than every finished task, once the ongoing time is counted.
        running = await insert_run(
            connection, t.task_run, "still-going", ("RUNNING", "Running"), flow_run_id=seed.r3,
            state_timestamp=dt.datetime.now(dt.UTC) - 10 * MINUTE, total_run_time=1.0,
        )  # fmt: skip
    by_duration = await task_run_ids(database, {"sort": TaskRunSort.DURATION_DESC.value})
    assert by_duration == [running, seed.t3, seed.t1, seed.t2, seed.t4]
    shortest = await task_run_ids(database, {"sort": "DURATION_ASC"})
    assert shortest == [seed.t4, seed.t2, seed.t1, seed.t3, running]
    # Without the dialect only the recorded run time counts, which is all a not-yet-finished run has.
    recorded_only = filters.task_run_order_by(TaskRunSort.DURATION_DESC)
    async with database.read() as connection:
        rows = await task_runs.read_task_runs(connection, sa.true(), recorded_only, 10, 0)
    assert [row["id"] for row in rows] == [seed.t3, seed.t1, seed.t2, running, seed.t4]
    assert (await task_run_ids(database, {"sort": "EXPECTED_START_TIME_ASC"}))[:3] == [seed.t1, seed.t2, seed.t3]


async def test_log_filters_and_sort(database: Database) -> None:
    run, task = uuid.uuid4(), uuid.uuid4()
    lines = [
        (10, "debug chatter", None),
        (20, "starting Disk check", task),
        (30, "disk almost full", task),
        (40, "Error: disk full", None),
        (50, "critical error in network", None),
    ]
    async with database.write() as connection:
        for minute, (level, message, task_run_id) in enumerate(lines):
            await insert(
                connection, t.log, name="baton.flow_runs", level=level, message=message, flow_run_id=run,
                task_run_id=task_run_id, timestamp=BASE + minute * MINUTE,
            )  # fmt: skip
        await insert(connection, t.log, name="other", level=50, message="x", timestamp=BASE)

    async def levels(body: dict[str, Any]) -> list[int]:
        request = LogFilterRequest.model_validate(body)
        async with database.read() as connection:
            rows = await logs.read_logs(
                connection, filters.log_condition(request.logs), filters.log_order_by(request.sort), 50, request.offset
            )
        return [row["level"] for row in rows]

    mine = {"flow_run_id": {"any_": [str(run)]}}
    assert await levels({"logs": {**mine, "level": {"ge_": 30}}}) == [30, 40, 50]
    assert await levels({"logs": {**mine, "level": {"ge_": 20, "le_": 30}}}) == [20, 30]
    window = {"after_": (BASE + MINUTE).isoformat(), "before_": (BASE + 2 * MINUTE).isoformat()}
    assert await levels({"logs": {"timestamp": window}}) == [20, 30]
    assert await levels({"logs": {**mine, "task_run_id": {"is_null_": True}}}) == [10, 40, 50]
    assert await levels({"logs": {"task_run_id": {"any_": [str(task)]}}}) == [20, 30]
    assert await levels({"logs": {**mine}, "sort": LogSort.TIMESTAMP_DESC.value}) == [50, 40, 30, 20, 10]
    assert await levels({"logs": {**mine}, "offset": 3}) == [40, 50]
    assert await levels({"logs": {"text": {"query": "disk -full"}}}) == [20]
    assert await levels({"logs": {"text": {"query": "ERROR +network"}}}) == [50]
    assert await levels({"logs": {"text": {"query": '"disk full"'}}}) == [40]
    assert len(await levels({})) == 6


def test_limit_above_the_maximum_is_refused() -> None:
    assert effective_limit(None, 200) == 200
    assert effective_limit(0, 200) == 0
    assert effective_limit(200, 200) == 200
    with pytest.raises(ValidationFailed) as caught:
        effective_limit(201, 200)
    assert caught.value.message == "limit must be less than or equal to 200"
    assert caught.value.detail[0]["loc"] == ["body", "limit"]
    with pytest.raises(pydantic.ValidationError):
        FlowRunFilterRequest.model_validate({"limit": -1})
    with pytest.raises(pydantic.ValidationError):
        FlowRunFilterRequest.model_validate({"offset": -1})


@pytest.mark.parametrize(
    "body",
    [
        {"flow_runs": {"nmae": {"any_": ["x"]}}},
        {"flow_runs": {"name": {"like": "x"}}},
        {"flow_runs": {"state": {"type": {"any_": ["DONE"]}}}},
        {"flow_runs": {"operator": "xor_"}},
        {"sort": "NAME"},
    ],
)
def test_unknown_or_invalid_filter_keys_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        FlowRunFilterRequest.model_validate(body)


def test_top_level_unknown_keys_are_ignored_and_nulls_are_defaults() -> None:
    # As Prefect's server reads these bodies (each key a FastAPI body parameter); the filters inside stay strict.
    body = {"flow_runz": {}, "work_queues": None, "flows": None, "sort": None, "limit": None, "offset": None}
    request = FlowRunFilterRequest.model_validate(body)
    assert (request.sort, request.limit, request.offset, request.flows) == (FlowRunSort.ID_DESC, None, 0, None)
    assert FlowFilterRequest.model_validate({"sort": None, "work_queues": None}).sort is FlowSort.NAME_ASC
    assert LogFilterRequest.model_validate({"offset": None, "sort": None}).offset == 0


def test_sort_defaults_follow_prefect() -> None:
    assert FlowFilterRequest().sort is FlowSort.NAME_ASC
    assert FlowRunFilterRequest().sort is FlowRunSort.ID_DESC
    assert TaskRunFilterRequest().sort is TaskRunSort.ID_DESC
    assert LogFilterRequest().sort is LogSort.TIMESTAMP_ASC
