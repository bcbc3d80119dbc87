"""Deployments, their schedules and runs created from them, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx

from baton.server.context import ServerContext
from baton.server.models.deployments.scheduling import SchedulerLimits, schedule_deployments

HOURLY = {"interval": 3600, "anchor_date": "2026-01-01T00:00:00Z", "timezone": "UTC"}
PARAMETER_SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer"}, "name": {"type": "string"}},
    "required": ["n"],
}


async def _flow(client: httpx.AsyncClient, name: str = "etl") -> str:
    return (await client.post("/flows/", json={"name": name})).json()["id"]


async def _deployment(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    if "flow_id" not in body:
        body["flow_id"] = await _flow(client)
    body.setdefault("name", "nightly")
    response = await client.post("/deployments/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def _runs(client: httpx.AsyncClient, deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"}
    return (await client.post("/flow_runs/filter", json=body)).json()


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client)
    created = await _deployment(
        client, flow_id=flow_id, tags=["a"], parameters={"n": 1}, description="d", schedules=[{"schedule": HOURLY}]
    )
    assert created["name"] == "nightly"
    assert created["paused"] is False
    assert created["schedules"][0]["schedule"]["interval"] == 3600.0
    assert created["schedules"][0]["active"] is True
    assert created["work_pool_name"] is None
    deployment_id = created["id"]

    by_id = (await client.get(f"/deployments/{deployment_id}")).json()
    by_name = (await client.get("/deployments/name/etl/nightly")).json()
    assert by_id == by_name
    assert by_id["parameters"] == {"n": 1}

    patch = await client.patch(f"/deployments/{deployment_id}", json={"description": "new", "tags": ["b"]})
    assert patch.status_code == 204
    read = (await client.get(f"/deployments/{deployment_id}")).json()
    assert (read["description"], read["tags"], read["parameters"]) == ("new", ["b"], {"n": 1})

    assert (await client.post(f"/deployments/{deployment_id}/pause_deployment")).status_code == 204
    assert (await client.get(f"/deployments/{deployment_id}")).json()["paused"] is True
    assert (await client.post(f"/deployments/{deployment_id}/resume_deployment")).status_code == 204
    assert (await client.get(f"/deployments/{deployment_id}")).json()["paused"] is False

    assert (await client.delete(f"/deployments/{deployment_id}")).status_code == 204
    assert (await client.get(f"/deployments/{deployment_id}")).status_code == 404
    assert (await client.get("/deployments/name/etl/nightly")).status_code == 404


async def test_update_checks_new_parameters_against_the_schema(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client, parameter_openapi_schema=PARAMETER_SCHEMA, parameters={"n": 1})
    path = f"/deployments/{deployment['id']}"
    bad = await client.patch(path, json={"parameters": {"n": "one"}})
    assert bad.status_code == 409  # Prefect's server answers a deployment update's bad parameters with 409
    assert bad.json()["detail"].startswith("Error updating deployment:")
    assert bad.json()["exception_detail"][0]["loc"] == ["body", "parameters", "n"]
    assert (await client.get(path)).json()["parameters"] == {"n": 1}
    # A deployment may leave a required parameter to each run; a new schema is the one checked.
    assert (await client.patch(path, json={"parameters": {"name": "x"}})).status_code == 204
    loose = {"type": "object", "properties": {"n": {"type": "string"}}}
    assert (
        await client.patch(path, json={"parameters": {"n": "one"}, "parameter_openapi_schema": loose})
    ).status_code == 204
    unenforced = await client.patch(path, json={"parameters": {"n": 2}, "enforce_parameter_schema": False})
    assert unenforced.status_code == 204
    assert (await client.get(path)).json()["parameters"] == {"n": 2}
    assert (await client.patch(f"/deployments/{uuid.uuid4()}", json={"parameters": {}})).status_code == 404


async def test_filter_count_and_paginate(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client)
    for name in ("alpha", "beta", "gamma"):
        await _deployment(client, flow_id=flow_id, name=name, paused=name == "beta")
    names = [d["name"] for d in (await client.post("/deployments/filter", json={"sort": "NAME_DESC"})).json()]
    assert names == ["gamma", "beta", "alpha"]
    paused = await client.post("/deployments/filter", json={"deployments": {"paused": {"eq_": True}}})
    assert [d["name"] for d in paused.json()] == ["beta"]
    assert (await client.post("/deployments/count", json={"deployments": {"name": {"like_": "amm"}}})).json() == 1
    page = (await client.post("/deployments/paginate", json={"page": 2, "limit": 2})).json()
    assert (page["count"], page["pages"], [d["name"] for d in page["results"]]) == (3, 2, ["gamma"])


async def test_upsert_replaces_the_old_versions_auto_scheduled_runs(
    client: httpx.AsyncClient, server_context: ServerContext
) -> None:
    deployment = await _deployment(client, schedules=[{"schedule": HOURLY}], parameters={"n": 1}, version="1")
    assert await schedule_deployments(server_context.database, SchedulerLimits()) > 0
    old_runs = await _runs(client, deployment["id"])
    assert old_runs and all(run["auto_scheduled"] and run["parameters"] == {"n": 1} for run in old_runs)
    manual = await client.post(f"/deployments/{deployment['id']}/create_flow_run", json={})
    assert manual.status_code == 201

    again = await client.post(
        "/deployments/",
        json={
            "flow_id": deployment["flow_id"],
            "name": "nightly",
            "parameters": {"n": 2},
            "version": "2",
            "schedules": [{"schedule": HOURLY}],
        },
    )
    assert again.status_code == 200
    assert again.json()["id"] == deployment["id"]
    # Only the run created by hand is left: the old version's auto-scheduled runs are gone.
    assert [run["id"] for run in await _runs(client, deployment["id"])] == [manual.json()["id"]]
    await schedule_deployments(server_context.database, SchedulerLimits())
    new_runs = [run for run in await _runs(client, deployment["id"]) if run["auto_scheduled"]]
    assert new_runs and all(run["parameters"] == {"n": 2} and run["deployment_version"] == "2" for run in new_runs)


async def test_create_flow_run_merges_parameters_and_validates_them(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(
        client, parameters={"n": 1, "name": "x"}, parameter_openapi_schema=PARAMETER_SCHEMA, tags=["d"]
    )
    url = f"/deployments/{deployment['id']}/create_flow_run"
    response = await client.post(url, json={"parameters": {"name": "y"}, "tags": ["r"]})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["parameters"] == {"n": 1, "name": "y"}
    assert run["state"]["type"] == "SCHEDULED"
    assert run["deployment_id"] == deployment["id"]
    assert set(run["tags"]) == {"d", "r"}

    bad = await client.post(url, json={"parameters": {"n": "not a number"}})
    assert bad.status_code == 422
    assert "'n'" in bad.json()["detail"]
    assert bad.json()["exception_detail"][0]["loc"] == ["body", "parameters", "n"]
    # Without enforcement the same parameters are taken as they are.
    loose = await client.post(url, json={"parameters": {"n": "not a number"}, "enforce_parameter_schema": False})
    assert loose.status_code == 201


async def test_create_flow_run_honours_idempotency_keys_and_states(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client)
    url = f"/deployments/{deployment['id']}/create_flow_run"
    first = await client.post(url, json={"idempotency_key": "k"})
    second = await client.post(url, json={"idempotency_key": "k"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    scheduled = await client.post(
        url, json={"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": later}}}
    )
    assert scheduled.json()["next_scheduled_start_time"][:16] == later[:16]
    polled = await client.post("/deployments/get_scheduled_flow_runs", json={"deployment_ids": [deployment["id"]]})
    assert [run["id"] for run in polled.json()] == [first.json()["id"], scheduled.json()["id"]]


async def test_work_pool_and_queue_names(client: httpx.AsyncClient) -> None:
    missing = await client.post(
        "/deployments/", json={"flow_id": await _flow(client), "name": "x", "work_pool_name": "nope"}
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Work pool 'nope' does not exist."

    queued = await _deployment(client, name="queued", work_queue_name="reports")
    assert (queued["work_pool_name"], queued["work_queue_name"]) == ("default-agent-pool", "reports")
    run = (await client.post(f"/deployments/{queued['id']}/create_flow_run", json={})).json()
    assert (run["work_queue_id"], run["work_pool_name"]) == (queued["work_queue_id"], "default-agent-pool")
    default_pool = await _deployment(client, name="pooled", work_pool_name="default-agent-pool")
    assert default_pool["work_queue_name"] == "default"


async def test_schedule_crud_and_bad_schedules(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client)
    url = f"/deployments/{deployment['id']}/schedules"
    created = await client.post(url, json=[{"schedule": {"cron": "0 9 * * *", "timezone": "Europe/Paris"}}])
    assert created.status_code == 201, created.text
    schedule_id = created.json()[0]["id"]
    assert (await client.get(url)).json()[0]["schedule"] == {
        "cron": "0 9 * * *",
        "timezone": "Europe/Paris",
        "day_or": True,
    }

    assert (await client.patch(f"{url}/{schedule_id}", json={"active": False})).status_code == 204
    assert (await client.get(url)).json()[0]["active"] is False
    assert (await client.patch(f"{url}/{uuid.uuid4()}", json={"active": False})).status_code == 404
    assert (await client.delete(f"{url}/{schedule_id}")).status_code == 204
    assert (await client.get(url)).json() == []

    for schedule, words in (
        ({"cron": "61 * * * *"}, "Invalid cron string"),
        ({"interval": 0}, "positive"),
        ({"interval": -60}, "positive"),
        ({"rrule": "FREQ=SOMETIMES"}, "Invalid RRule string"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "Invalid timezone"),
        ({"every": 5}, "one of the keys"),
    ):
        response = await client.post(url, json=[{"schedule": schedule}])
        assert response.status_code == 422, schedule
        assert words in response.json()["detail"], response.text
        on_create = await client.post(
            "/deployments/", json={"flow_id": deployment["flow_id"], "name": "y", "schedules": [{"schedule": schedule}]}
        )
        assert on_create.status_code == 422


async def test_unknown_ids_and_bad_bodies_are_4xx(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    assert (await client.get(f"/deployments/{missing}")).status_code == 404
    assert (await client.patch(f"/deployments/{missing}", json={})).status_code == 404
    assert (await client.delete(f"/deployments/{missing}")).status_code == 404
    assert (await client.post(f"/deployments/{missing}/create_flow_run", json={})).status_code == 404
    assert (await client.post(f"/deployments/{missing}/pause_deployment")).status_code == 404
    unknown_flow = await client.post("/deployments/", json={"flow_id": missing, "name": "x"})
    assert unknown_flow.status_code == 404
    extra = await client.post("/deployments/", json={"flow_id": await _flow(client), "name": "x", "colour": 1})
    assert extra.status_code == 422
    assert "colour" in extra.text


async def test_schedule_endpoint_inserts_the_upcoming_runs_now(client: httpx.AsyncClient) -> None:
    deployment = await _deployment(client, schedules=[{"schedule": HOURLY}])
    assert await _runs(client, deployment["id"]) == []
    response = await client.post(f"/deployments/{deployment['id']}/schedule", json={"min_runs": 5})
    assert response.status_code == 204
    runs = await _runs(client, deployment["id"])
    assert len(runs) == 5
    assert all(run["auto_scheduled"] and "auto-scheduled" in run["tags"] for run in runs)
    assert (await client.post(f"/deployments/{uuid.uuid4()}/schedule", json={})).status_code == 404


async def test_fields_read_back_as_sent_with_prefects_defaults(client: httpx.AsyncClient) -> None:
    # What Prefect 3.9.1 answers for the same bodies: nothing filled in that was sent empty, its table's defaults
    # ({} and []) for what was not sent.
    schedules = [
        {"schedule": {"cron": "0 9 * * *"}},
        {"schedule": {"rrule": "FREQ=DAILY", "timezone": None}},
        {"schedule": {"interval": 60, "anchor_date": "2026-01-01T00:00:00Z"}},
    ]
    flow_id = await _flow(client)
    bare = await _deployment(client, flow_id=flow_id, schedules=schedules)
    read = (await client.get(f"/deployments/{bare['id']}")).json()
    assert (read["parameter_openapi_schema"], read["pull_steps"]) == ({}, [])
    zones = {next(iter(s["schedule"])): s["schedule"]["timezone"] for s in read["schedules"]}
    assert zones == {"cron": None, "rrule": None, "interval": "UTC"}
    listed = (await client.get(f"/deployments/{bare['id']}/schedules")).json()
    assert sorted(str(s["schedule"]) for s in listed) == sorted(str(s["schedule"]) for s in read["schedules"])

    nulls = await _deployment(client, flow_id=flow_id, name="nulls", parameter_openapi_schema=None, pull_steps=None)
    assert (nulls["parameter_openapi_schema"], nulls["pull_steps"]) == (None, None)


async def test_system_labels_and_version_info_as_prefect_keeps_them(client: httpx.AsyncClient) -> None:
    """A deployment is labelled with its flow (its own labels win); a run created with a deployment id through
    POST /flow_runs/ is labelled with both and inherits the deployment's labels; version_info is not kept."""
    flow_id = await _flow(client, "labelled")
    deployment = await _deployment(
        client, flow_id=flow_id, labels={"team": "data"}, version="v1", version_info={"type": "prefect:simple"}
    )
    assert deployment["labels"] == {"team": "data", "prefect.flow.id": flow_id}
    read = (await client.get(f"/deployments/{deployment['id']}")).json()
    assert (read["labels"], read["version"], read["version_info"]) == (deployment["labels"], "v1", None)
    body = {"flow_id": flow_id, "deployment_id": deployment["id"], "labels": {"mine": "1"}}
    run = (await client.post("/flow_runs/", json=body)).json()
    system = {"prefect.flow.id": flow_id, "prefect.deployment.id": deployment["id"]}
    assert run["labels"] == {"team": "data", **system, "mine": "1"}
    plain = (await client.post("/flow_runs/", json={"flow_id": flow_id})).json()
    assert plain["labels"] == {"prefect.flow.id": flow_id}


async def test_no_automation_relates_to_a_deployment(client: httpx.AsyncClient) -> None:
    """`prefect deployment inspect` reads the deployment's related automations; Baton keeps none."""
    deployment = await _deployment(client)
    response = await client.get(f"/automations/related-to/prefect.deployment.{deployment['id']}")
    assert (response.status_code, response.json()) == (200, [])
