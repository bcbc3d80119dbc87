"""Every filter, count, paginate and listing body is read as Prefect's server reads it (each key a FastAPI body
parameter): an unknown top-level key is ignored and a null means the default; the filters inside and action bodies
refuse unknown keys."""

from __future__ import annotations

import datetime as dt

import httpx

RUN_FILTERS = ["flows", "flow_runs", "task_runs", "deployments", "work_pools", "work_pool_queues"]
PAGE = ["sort", "limit", "offset"]
# Each route with the keys its body takes, all sent as null.
LISTINGS = {
    "/flows/filter": [*RUN_FILTERS, *PAGE],
    "/flows/count": RUN_FILTERS,
    "/flows/paginate": [*RUN_FILTERS, "sort", "limit", "page"],
    "/flow_runs/filter": [*RUN_FILTERS, *PAGE],
    "/flow_runs/count": RUN_FILTERS,
    "/flow_runs/paginate": [*RUN_FILTERS, "sort", "limit", "page"],
    "/task_runs/filter": [*RUN_FILTERS, *PAGE],
    "/task_runs/count": RUN_FILTERS,
    "/task_runs/paginate": [*RUN_FILTERS, "sort", "limit", "page"],
    "/deployments/filter": [*RUN_FILTERS, *PAGE],
    "/deployments/count": RUN_FILTERS,
    "/deployments/paginate": [*RUN_FILTERS, "sort", "limit", "page"],
    "/logs/filter": ["logs", *PAGE],
    "/variables/filter": ["variables", *PAGE],
    "/variables/count": ["variables"],
    "/artifacts/filter": ["artifacts", "flow_runs", "task_runs", "flows", "deployments", *PAGE],
    "/artifacts/count": ["artifacts", "flow_runs", "task_runs", "flows", "deployments"],
    "/artifacts/latest/filter": ["artifacts", "flow_runs", "task_runs", "flows", "deployments", *PAGE],
    "/artifacts/latest/count": ["artifacts", "flow_runs", "task_runs", "flows", "deployments"],
    "/work_pools/filter": ["work_pools", "limit", "offset"],
    "/work_pools/count": ["work_pools"],
    "/work_queues/filter": ["work_queues", "limit", "offset"],
    "/block_types/filter": ["block_types", "block_schemas", "limit", "offset"],
    "/block_schemas/filter": ["block_schemas", "limit", "offset"],
    "/block_documents/filter": ["block_documents", "block_types", "block_schemas", "include_secrets", *PAGE],
    "/block_documents/count": ["block_documents", "block_types", "block_schemas"],
    "/concurrency_limits/filter": ["limit", "offset"],
    "/v2/concurrency_limits/filter": ["limit", "offset"],
    "/events/filter": ["filter", "limit"],
    "/flow_run_notification_policies/filter": ["flow_run_notification_policy_filter", "limit", "offset"],
}


async def test_listing_bodies_take_nulls_and_ignore_unknown_keys(client: httpx.AsyncClient) -> None:
    await client.post("/flows/", json={"name": "listed"})
    for path, keys in LISTINGS.items():
        body = {key: None for key in keys} | {"work_queues": None, "not_a_prefect_key": 1}
        response = await client.post(path, json=body)
        assert response.status_code == 200, f"{path}: {response.text}"
        # The same answer as the body with every key left out: each null was taken as the default.
        assert (await client.post(path, json={})).json() == response.json(), path


async def test_history_and_pool_bodies_take_nulls(client: httpx.AsyncClient) -> None:
    await client.post("/work_pools/", json={"name": "nulls", "type": "process"})
    polled = await client.post("/work_pools/nulls/get_scheduled_flow_runs", json={"work_queue_names": None, "x": 1})
    assert (polled.status_code, polled.json()) == (200, [])
    workers = await client.post("/work_pools/nulls/workers/filter", json={"workers": None, "offset": None, "x": 1})
    assert (workers.status_code, workers.json()) == (200, [])
    queues = await client.post("/work_pools/nulls/queues/filter", json={"work_queues": None, "offset": None})
    assert [queue["name"] for queue in queues.json()] == ["default"]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    body = {"history_start": start.isoformat(), "history_end": (start + dt.timedelta(minutes=2)).isoformat()}
    history = await client.post(
        "/flow_runs/history", json={**body, "history_interval_seconds": 60, "flows": None, "work_queues": None}
    )
    assert (history.status_code, len(history.json())) == (200, 2)
    # A required key sent as null is missing, as in FastAPI.
    missing = await client.post("/flow_runs/history", json={**body, "history_start": None})
    assert missing.status_code == 422 and "history_start" in missing.text


async def test_filters_inside_and_action_bodies_refuse_unknown_keys(client: httpx.AsyncClient) -> None:
    inner = await client.post("/flows/filter", json={"flows": {"nmae": {"any_": ["x"]}}})
    assert inner.status_code == 422 and "nmae" in inner.text
    action = await client.post("/flows/", json={"name": "x", "colour": "red"})
    assert action.status_code == 422 and "colour" in action.text
