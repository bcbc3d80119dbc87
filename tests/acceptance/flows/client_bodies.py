"""Every filter, count and listing call of the official Prefect 3.9.1 client, with its default arguments and with
typical ones, against the server at PREFECT_API_URL. Prints {"flow_run_id", "calls", "found", "schedules"}: each
call's outcome ("ok" or the error), whether it returned what this script had created, and the schedules read back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Awaitable
from typing import Any

from prefect import get_client, task
from prefect.client.schemas.actions import (
    ArtifactCreate,
    BlockDocumentCreate,
    BlockSchemaCreate,
    BlockTypeCreate,
    DeploymentScheduleCreate,
    GlobalConcurrencyLimitCreate,
    LogCreate,
    VariableCreate,
    WorkPoolCreate,
)
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterKey,
    ArtifactFilter,
    ArtifactFilterKey,
    DeploymentFilter,
    DeploymentFilterName,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    LogFilter,
    LogFilterFlowRunId,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
    WorkerFilter,
    WorkerFilterStatus,
    WorkPoolFilter,
    WorkPoolFilterName,
    WorkQueueFilter,
    WorkQueueFilterName,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from prefect.client.schemas.sorting import ArtifactSort, DeploymentSort, FlowRunSort, FlowSort, LogSort, TaskRunSort
from prefect.events.filters import EventFilter, EventNameFilter

SUFFIX = uuid.uuid4().hex[:8]
calls: dict[str, str] = {}
found: dict[str, bool] = {}


async def call(name: str, coroutine: Awaitable[Any]) -> Any:
    """The call's result, or None with the error recorded under `name`."""
    try:
        value = await coroutine
    except Exception as exc:  # recorded, so that one run reports every failing call
        calls[name] = f"{type(exc).__name__}: {exc}"[:600]
        return None
    calls[name] = "ok"
    return value


async def check(name: str, coroutine: Awaitable[Any], expected: Any, key: str = "name") -> None:
    """Call, then record whether the sorted `key`s of what came back are `expected` (a list), or include it (a str)."""
    value = await call(name, coroutine)
    if value is None:
        found[name] = False
        return
    items = value if isinstance(value, list) else [value]
    keys = sorted(str(getattr(item, key)) for item in items)
    found[name] = expected in keys if isinstance(expected, str) else keys == sorted(map(str, expected))


async def main() -> None:
    async with get_client() as client:
        flow_name, deployment_name, pool_name = f"bodies-{SUFFIX}", f"dep-{SUFFIX}", f"pool-{SUFFIX}"
        queue_name, artifact_key, worker_name = f"queue-{SUFFIX}", f"art-{SUFFIX}", f"worker-{SUFFIX}"
        flow_id = await client.create_flow_from_name(flow_name)
        pool = await client.create_work_pool(WorkPoolCreate(name=pool_name, type="process"))
        queue = await client.create_work_queue(name=queue_name, work_pool_name=pool.name)
        # No time zone on any of them, as `flow.serve(schedules=[Cron("0 9 * * *")])` sends it; the client gives
        # the interval the anchor's zone and a bare rrule a DTSTART itself.
        sent = [
            DeploymentScheduleCreate(schedule=schedule).schedule
            for schedule in (
                CronSchedule(cron="0 9 * * *"),
                IntervalSchedule(interval=dt.timedelta(hours=1), anchor_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
                RRuleSchedule(rrule="FREQ=DAILY"),
            )
        ]
        deployment_id = await client.create_deployment(
            flow_id=flow_id,
            name=deployment_name,
            work_pool_name=pool.name,
            work_queue_name=queue.name,
            schedules=[DeploymentScheduleCreate(schedule=schedule, active=False) for schedule in sent],
        )
        run = await client.create_flow_run_from_deployment(deployment_id, tags=["bodies"])
        task_run = await client.create_task_run(
            task=task(lambda: None, name=f"task-{SUFFIX}"), flow_run_id=run.id, dynamic_key="0"
        )
        now = dt.datetime.now(dt.UTC)
        await client.create_logs(
            [LogCreate(name="bodies", level=20, message="hello", timestamp=now, flow_run_id=run.id)]
        )
        await client.create_variable(VariableCreate(name=f"var_{SUFFIX}", value=1))
        await client.create_artifact(ArtifactCreate(key=artifact_key, type="markdown", data="# hi", flow_run_id=run.id))
        await client.create_concurrency_limit(tag=f"tag-{SUFFIX}", concurrency_limit=2)
        await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=f"gcl-{SUFFIX}", limit=3))
        await client.create_flow_run_input(run.id, key="answer", value="42")
        await client.send_worker_heartbeat(pool.name, worker_name)
        block_type = await client.create_block_type(BlockTypeCreate(name=f"Bodies {SUFFIX}", slug=f"bodies-{SUFFIX}"))
        block_schema = await client.create_block_schema(
            BlockSchemaCreate(fields={"title": f"B{SUFFIX}", "type": "object"}, block_type_id=block_type.id)
        )
        await client.create_block_document(
            BlockDocumentCreate(
                name=f"doc-{SUFFIX}", data={}, block_type_id=block_type.id, block_schema_id=block_schema.id
            )
        )
        later = now + dt.timedelta(days=2)
        by_flow = FlowFilter(name=FlowFilterName(any_=[flow_name]))
        by_deployment = DeploymentFilter(name=DeploymentFilterName(any_=[deployment_name]))
        by_run = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        everything = dict(
            flow_run_filter=FlowRunFilter(),
            task_run_filter=TaskRunFilter(),
            work_pool_filter=WorkPoolFilter(),
            work_queue_filter=WorkQueueFilter(),
        )

        await check("read_flows()", client.read_flows(), flow_name)
        await check(
            "read_flows(typical)",
            client.read_flows(
                flow_filter=by_flow,
                deployment_filter=DeploymentFilter(),
                sort=FlowSort.CREATED_DESC,
                limit=5,
                offset=0,
                **everything,
            ),
            [flow_name],
        )
        await check("read_flow_runs()", client.read_flow_runs(), str(run.id), key="id")
        scheduled = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
        await check(
            "read_flow_runs(typical)",
            client.read_flow_runs(
                flow_filter=by_flow,
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]), state=scheduled),
                task_run_filter=TaskRunFilter(),
                deployment_filter=by_deployment,
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool_name])),
                work_queue_filter=WorkQueueFilter(name=WorkQueueFilterName(any_=[queue_name])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=10,
                offset=0,
            ),
            [run.id],
            key="id",
        )
        found["count_flow_runs()"] = ((await call("count_flow_runs()", client.count_flow_runs())) or 0) >= 1
        counted = await call(
            "count_flow_runs(typical)",
            client.count_flow_runs(flow_filter=by_flow, deployment_filter=DeploymentFilter(), **everything),
        )
        found["count_flow_runs(typical)"] = counted == 1
        await check(
            "filter_flow_run_input(typical)",
            client.filter_flow_run_input(run.id, key_prefix="ans", limit=10, exclude_keys=set()),
            ["answer"],
            key="key",
        )
        await check("read_task_runs()", client.read_task_runs(), str(task_run.id), key="id")
        await check(
            "read_task_runs(typical)",
            client.read_task_runs(
                flow_filter=FlowFilter(),
                flow_run_filter=by_run,
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[run.id])),
                deployment_filter=DeploymentFilter(),
                sort=TaskRunSort.EXPECTED_START_TIME_DESC,
                limit=10,
                offset=0,
            ),
            [task_run.id],
            key="id",
        )
        await check("read_deployments()", client.read_deployments(), str(deployment_id), key="id")
        await check(
            "read_deployments(typical)",
            client.read_deployments(
                flow_filter=by_flow,
                deployment_filter=by_deployment,
                sort=DeploymentSort.CREATED_DESC,
                limit=5,
                offset=0,
                **everything,
            ),
            [deployment_id],
            key="id",
        )
        await check(
            "get_scheduled_flow_runs_for_deployments()",
            client.get_scheduled_flow_runs_for_deployments([deployment_id]),
            [run.id],
            key="id",
        )
        await check(
            "get_scheduled_flow_runs_for_deployments(typical)",
            client.get_scheduled_flow_runs_for_deployments([deployment_id], scheduled_before=later, limit=5),
            [run.id],
            key="id",
        )
        await check("read_logs()", client.read_logs(), "hello", key="message")
        await check(
            "read_logs(typical)",
            client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])),
                limit=10,
                offset=0,
                sort=LogSort.TIMESTAMP_DESC,
            ),
            ["hello"],
            key="message",
        )
        await check("read_variables()", client.read_variables(), f"var_{SUFFIX}")
        await check("read_variables(typical)", client.read_variables(limit=100), f"var_{SUFFIX}")
        await check("read_work_pools()", client.read_work_pools(), pool_name)
        await check(
            "read_work_pools(typical)",
            client.read_work_pools(
                limit=5, offset=0, work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool_name]))
            ),
            [pool_name],
        )
        await check("read_workers_for_work_pool()", client.read_workers_for_work_pool(pool_name), [worker_name])
        await check(
            "read_workers_for_work_pool(typical)",
            client.read_workers_for_work_pool(
                pool_name, worker_filter=WorkerFilter(status=WorkerFilterStatus(any_=["ONLINE"])), limit=5, offset=0
            ),
            [worker_name],
        )
        polled = await call(
            "get_scheduled_flow_runs_for_work_pool()", client.get_scheduled_flow_runs_for_work_pool(pool_name)
        )
        found["get_scheduled_flow_runs_for_work_pool()"] = [r.flow_run.id for r in polled or []] == [run.id]
        typical_poll = client.get_scheduled_flow_runs_for_work_pool(
            pool_name, work_queue_names=[queue_name], scheduled_before=later
        )
        polled = await call("get_scheduled_flow_runs_for_work_pool(typical)", typical_poll)
        found["get_scheduled_flow_runs_for_work_pool(typical)"] = [r.flow_run.id for r in polled or []] == [run.id]
        await check("read_work_queues()", client.read_work_queues(), queue_name)
        await check(
            "read_work_queues(typical)",
            client.read_work_queues(
                work_pool_name=pool_name,
                work_queue_filter=WorkQueueFilter(name=WorkQueueFilterName(any_=[queue_name])),
                limit=5,
                offset=0,
            ),
            [queue_name],
        )
        await check("match_work_queues()", client.match_work_queues([f"queue-{SUFFIX[:4]}"]), queue_name)
        await check(
            "match_work_queues(typical)", client.match_work_queues(["queue-"], work_pool_name=pool_name), [queue_name]
        )
        await check("get_runs_in_work_queue()", client.get_runs_in_work_queue(queue.id), [run.id], key="id")
        await check(
            "get_runs_in_work_queue(typical)",
            client.get_runs_in_work_queue(queue.id, limit=5, scheduled_before=later),
            [run.id],
            key="id",
        )
        await check("read_artifacts()", client.read_artifacts(), artifact_key, key="key")
        await check(
            "read_artifacts(typical)",
            client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[artifact_key])),
                flow_run_filter=by_run,
                sort=ArtifactSort.CREATED_DESC,
                limit=5,
                offset=0,
            ),
            [artifact_key],
            key="key",
        )
        await check("read_latest_artifacts()", client.read_latest_artifacts(), artifact_key, key="key")
        await check(
            "read_latest_artifacts(typical)",
            client.read_latest_artifacts(
                artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[artifact_key])),
                flow_run_filter=FlowRunFilter(),
                sort=ArtifactSort.KEY_ASC,
                limit=5,
                offset=0,
            ),
            [artifact_key],
            key="key",
        )
        await check("read_block_types()", client.read_block_types(), block_type.slug, key="slug")
        await check("read_block_schemas()", client.read_block_schemas(), str(block_schema.id), key="id")
        await check(
            "get_most_recent_block_schema_for_block_type()",
            client.get_most_recent_block_schema_for_block_type(block_type.id),
            [block_schema.id],
            key="id",
        )
        await check("read_block_documents()", client.read_block_documents(), f"doc-{SUFFIX}")
        await check(
            "read_block_documents(typical)",
            client.read_block_documents(offset=0, limit=200, include_secrets=False),
            f"doc-{SUFFIX}",
        )
        await check(
            "read_block_documents_by_type()", client.read_block_documents_by_type(block_type.slug), [f"doc-{SUFFIX}"]
        )
        await check(
            "read_concurrency_limits()", client.read_concurrency_limits(limit=10, offset=0), f"tag-{SUFFIX}", "tag"
        )
        await check("read_global_concurrency_limits()", client.read_global_concurrency_limits(), f"gcl-{SUFFIX}")
        await check(
            "read_global_concurrency_limits(typical)",
            client.read_global_concurrency_limits(limit=10, offset=0),
            f"gcl-{SUFFIX}",
        )
        # The default page of 100 is above the server's 50: Prefect's server refuses it too (422).
        await call("read_events()", client.read_events())
        events = await call(
            "read_events(typical)",
            client.read_events(filter=EventFilter(event=EventNameFilter(prefix=["prefect.flow-run."])), limit=5),
        )
        found["read_events(typical)"] = events is not None and events.total >= 0
        deployment = await client.read_deployment(deployment_id)
        schedules = await client.read_deployment_schedules(deployment_id)
    print(
        json.dumps(
            {
                "flow_run_id": str(run.id),
                "calls": calls,
                "found": found,
                "schedules_as_sent": sorted(repr(s.schedule) for s in deployment.schedules) == sorted(map(repr, sent)),
                "schedules": sorted((s.schedule.model_dump(mode="json") for s in schedules), key=str),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
