"""Regression tests for input that once reached a 500 (issue 29): each is a clear 4xx now, on both databases."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.deployments.deployments import create_deployment
from baton.server.models.deployments.scheduling import SchedulerLimits, insert_runs, plan_runs
from baton.server.models.runs.flows import create_flow
from baton.server.models.work_pools.workers import StatusRules, update_statuses
from baton.server.schemas.actions import FlowCreate
from baton.server.schemas.deployments import DeploymentCreate


async def _flow_run(client: httpx.AsyncClient, name: str = "a-run") -> dict[str, Any]:
    flow = (await client.post("/flows/", json={"name": "hardening"})).json()
    response = await client.post("/flow_runs/", json={"flow_id": flow["id"], "name": name})
    assert response.status_code == 201, response.text
    return response.json()


def _names_field(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"], response.text


async def test_slot_decay_is_bounded_and_the_listing_survives_a_large_one(client: httpx.AsyncClient) -> None:
    refused = await client.post(
        "/v2/concurrency_limits/", json={"name": "huge", "limit": 1, "slot_decay_per_second": 1e308}
    )
    _names_field(refused, "slot_decay_per_second")
    # The fastest rate allowed, with slots taken, read back long after: the decay arithmetic stays finite.
    created = await client.post(
        "/v2/concurrency_limits/",
        json={"name": "fast", "limit": 5, "active_slots": 3, "denied_slots": 2, "slot_decay_per_second": 1e6},
    )
    assert created.status_code == 201, created.text
    listing = await client.post("/v2/concurrency_limits/filter", json={})
    assert listing.status_code == 200, listing.text
    assert [(row["name"], row["active_slots"], row["denied_slots"]) for row in listing.json()] == [("fast", 0, 0)]
    taken = await client.post(
        "/v2/concurrency_limits/increment", json={"names": ["fast"], "slots": 1, "mode": "rate_limit"}
    )
    assert taken.status_code == 200, taken.text


async def test_schedule_min_time_is_bounded(client: httpx.AsyncClient) -> None:
    flow = (await client.post("/flows/", json={"name": "scheduled"})).json()
    deployment = (await client.post("/deployments/", json={"flow_id": flow["id"], "name": "d"})).json()
    response = await client.post(f"/deployments/{deployment['id']}/schedule", json={"min_time": 300000000000})
    _names_field(response, "min_time")


async def test_history_interval_is_bounded(client: httpx.AsyncClient) -> None:
    for resource in ("flow_runs", "task_runs"):
        body = {
            "history_start": "2026-01-01T00:00:00Z",
            "history_end": "2026-01-02T00:00:00Z",
            "history_interval_seconds": 1e17,
        }
        _names_field(await client.post(f"/{resource}/history", json=body), "history_interval_seconds")


async def test_logs_download_encodes_any_run_name_in_content_disposition(client: httpx.AsyncClient) -> None:
    for name, ascii_name in [('snow ☃ "quoted"\nline\x07', "snow _ _quoted__line_"), ("plain", "plain")]:
        run = await _flow_run(client, name)
        response = await client.get(f"/flow_runs/{run['id']}/logs/download")
        assert response.status_code == 200, response.text
        disposition = response.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="{ascii_name}-logs.csv"'), disposition
        if name != "plain":
            assert "filename*=UTF-8''snow%20%E2%98%83%20%22quoted%22%0Aline%07-logs.csv" in disposition


async def test_page_is_bounded_alike_on_both_databases(client: httpx.AsyncClient) -> None:
    for resource in ("flows", "flow_runs", "task_runs", "deployments"):
        response = await client.post(f"/{resource}/paginate", json={"page": 9223372036854775807})
        _names_field(response, "page")
    offset = await client.post("/flows/filter", json={"offset": 9223372036854775807})
    _names_field(offset, "offset")


async def test_heartbeat_interval_is_bounded(client: httpx.AsyncClient) -> None:
    assert (await client.post("/work_pools/", json={"name": "pool"})).status_code == 201
    response = await client.post(
        "/work_pools/pool/workers/heartbeat", json={"name": "w", "heartbeat_interval_seconds": 1000000000000000}
    )
    _names_field(response, "heartbeat_interval_seconds")


async def test_ids_in_paths_that_are_not_uuids_are_422(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/flow_runs/{uuid.uuid4()}x")
    assert response.status_code == 422, response.text


async def test_scheduler_inserts_nothing_when_every_deployment_changed_since_it_was_read(database: Database) -> None:
    async with database.write() as connection:
        flow, _ = await create_flow(connection, FlowCreate(name="flow"))
        body = DeploymentCreate.model_validate(
            {"flow_id": flow["id"], "name": "d", "schedules": [{"schedule": {"interval": 60}}]}
        )
        deployment_id, _ = await create_deployment(connection, body)
    now = dt.datetime.now(dt.UTC)
    async with database.read() as connection:
        runs = await plan_runs(connection, [{"id": deployment_id}], now, SchedulerLimits())
    assert runs
    # The deployment as the scheduler read it, before a PATCH moved its `updated` on.
    stale = [{"id": deployment_id, "updated": now - dt.timedelta(hours=1)}]
    async with database.write() as connection:
        assert await insert_runs(connection, runs, stale) == 0
    async with database.read() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(t.flow_run)) == 0


async def test_status_sweep_skips_a_worker_whose_interval_makes_no_date(
    client: httpx.AsyncClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await client.post("/work_pools/", json={"name": "pool"})).status_code == 201
    for name in ("huge", "silent"):
        heartbeat = {"name": name, "heartbeat_interval_seconds": 10}
        assert (await client.post("/work_pools/pool/workers/heartbeat", json=heartbeat)).status_code == 204
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    async with database.write() as connection:
        # A row stored before the bound (PostgreSQL's integer column holds at most 2**31 - 1).
        worker = t.worker.c
        await connection.execute(sa.update(t.worker).values(last_heartbeat_time=long_ago))
        await connection.execute(
            sa.update(t.worker).where(worker.name == "huge").values(heartbeat_interval_seconds=2**31 - 1)
        )
    # 2**31 seconds times this multiple is past the calendar's end.
    rules = StatusRules(
        inactivity_heartbeat_multiple=100_000, fallback_heartbeat_interval_seconds=30, last_polled_timeout_seconds=60
    )
    with caplog.at_level(logging.WARNING, logger="baton.jobs"):
        for _ in range(2):
            async with database.write() as connection:
                await update_statuses(connection, rules)
    workers = (await client.post("/work_pools/pool/workers/filter", json={})).json()
    assert sorted((w["name"], w["status"]) for w in workers) == [("huge", "ONLINE"), ("silent", "OFFLINE")]
    skipped = [record for record in caplog.records if "skipped row" in record.getMessage()]
    assert len(skipped) == 1, skipped
    huge_id = next(w["id"] for w in workers if w["name"] == "huge")
    assert huge_id in skipped[0].getMessage()


async def test_bodies_are_json_or_a_415(client: httpx.AsyncClient) -> None:
    body = b'{"name": "typed"}'
    refused = await client.post("/flows/", content=body, headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415, refused.text
    assert "application/json" in refused.json()["detail"]
    form = await client.post("/flows/", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415, form.text
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        accepted = await client.post("/flows/", content=body, headers={"Content-Type": content_type})
        assert accepted.status_code in (200, 201), accepted.text
    # A body without a Content-Type is refused too; an optional body may still be left out.
    bare = await client.post("/flows/filter", content=b'{"limit": 1}')
    assert bare.status_code == 415, bare.text
    assert (await client.post("/flows/count")).status_code == 200


async def test_numbers_in_strings_are_not_page_sizes(client: httpx.AsyncClient) -> None:
    _names_field(await client.post("/flows/filter", json={"limit": "5"}), "limit")
    _names_field(await client.post("/flows/paginate", json={"page": "2"}), "page")


async def test_openapi_document_states_formats_maxima_and_statuses(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    flow = document["paths"]["/api/flows/{flow_id}"]["get"]
    assert flow["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    create = document["paths"]["/api/flows"]["post"]["responses"]
    assert {"200", "201", "400", "415", "422"} <= set(create)
    limit = document["components"]["schemas"]["FlowFilterRequest"]["properties"]["limit"]["anyOf"][0]
    assert limit == {"type": "integer", "minimum": 0, "maximum": 200}
    page = document["components"]["schemas"]["FlowPaginateRequest"]["properties"]["page"]
    assert page["maximum"] == 10**9


async def test_a_method_not_allowed_names_the_allowed_ones(client: httpx.AsyncClient) -> None:
    for method in ("TRACE", "PUT"):
        response = await client.request(method, "/flows/")
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "POST", response.headers
        assert response.json()["detail"]


async def test_a_required_body_must_be_there_and_the_document_says_which_are_optional(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.post("/flows/")
    assert missing.status_code == 422, missing.text
    document = (await client.get("/openapi.json")).json()["paths"]
    assert document["/api/flows"]["post"]["requestBody"]["required"] is True
    assert document["/api/flows/filter"]["post"]["requestBody"]["required"] is False
