"""Flow runs, their states and orchestration over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import httpx


async def _flow(client: httpx.AsyncClient, name: str = "pipeline") -> str:
    return (await client.post("/flows/", json={"name": name})).json()["id"]


async def _run(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    if "flow_id" not in body:
        body["flow_id"] = await _flow(client)
    response = await client.post("/flow_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def _propose(
    client: httpx.AsyncClient, run_id: str, state: dict[str, Any], force: bool = False
) -> httpx.Response:
    return await client.post(f"/flow_runs/{run_id}/set_state", json={"state": state, "force": force})


async def _history(client: httpx.AsyncClient, run_id: str) -> list[str]:
    states = (await client.get("/flow_run_states/", params={"flow_run_id": run_id})).json()
    return [state["name"] for state in states]


async def test_create_names_the_run_and_starts_pending(client: httpx.AsyncClient) -> None:
    run = await _run(client, parameters={"x": 1}, tags=["t"])
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+", run["name"])
    assert run["state"]["type"] == "PENDING"
    assert run["state"]["name"] == "Pending"
    assert run["parameters"] == {"x": 1}
    assert run["labels"]["prefect.flow.id"] == run["flow_id"]
    assert await _history(client, run["id"]) == ["Pending"]
    read = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert read["state"]["id"] == run["state"]["id"]
    assert read["estimated_run_time"] == 0


async def test_idempotency_key_returns_the_existing_run(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client)
    first = await client.post("/flow_runs/", json={"flow_id": flow_id, "idempotency_key": "k1"})
    second = await client.post("/flow_runs/", json={"flow_id": flow_id, "idempotency_key": "k1", "name": "other"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["name"] == first.json()["name"]
    assert (await client.post("/flow_runs/count", json={})).json() == 1


async def test_full_lifecycle_sets_times_counts_and_history(client: httpx.AsyncClient) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat()
    run = await _run(client, state={"type": "SCHEDULED", "state_details": {"scheduled_time": past}})
    assert run["next_scheduled_start_time"] is not None
    for state_type in ("PENDING", "RUNNING", "COMPLETED"):
        response = await _propose(client, run["id"], {"type": state_type})
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "ACCEPT"
        assert response.json()["details"] == {"type": "accept_details"}
        assert response.json()["state"]["type"] == state_type
    final = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert final["state_type"] == "COMPLETED"
    assert final["run_count"] == 1
    assert final["start_time"] is not None and final["end_time"] is not None
    assert final["end_time"] >= final["start_time"]
    assert final["total_run_time"] >= 0
    assert final["expected_start_time"] is not None
    assert final["next_scheduled_start_time"] is None
    assert await _history(client, run["id"]) == ["Scheduled", "Pending", "Running", "Completed"]
    timestamps = [
        s["timestamp"] for s in (await client.get("/flow_run_states/", params={"flow_run_id": run["id"]})).json()
    ]
    assert timestamps == sorted(timestamps) and len(set(timestamps)) == 4
    pending = (await client.get("/flow_run_states/", params={"flow_run_id": run["id"]})).json()[1]
    assert pending["state_details"]["scheduled_time"] is not None
    one = await client.get(f"/flow_run_states/{pending['id']}")
    assert one.json()["name"] == "Pending"


async def test_failed_run_with_retries_left_is_rescheduled(client: httpx.AsyncClient) -> None:
    run = await _run(client, empirical_policy={"retries": 1, "retry_delay": 0})
    await _propose(client, run["id"], {"type": "RUNNING"})
    failed = await _propose(client, run["id"], {"type": "FAILED", "message": "boom"})
    assert failed.status_code == 201
    assert failed.json()["status"] == "REJECT"
    assert failed.json()["state"]["name"] == "AwaitingRetry"
    assert failed.json()["state"]["type"] == "SCHEDULED"
    assert failed.json()["state"]["message"] == "boom"
    retrying = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert retrying["empirical_policy"]["retry_type"] == "in_process"
    assert (await _propose(client, run["id"], {"type": "RUNNING"})).json()["status"] == "ACCEPT"
    second_failure = await _propose(client, run["id"], {"type": "FAILED", "message": "boom again"})
    assert second_failure.json()["status"] == "ACCEPT"
    final = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert final["run_count"] == 2
    # Out of retries: the retry type is cleared so that a later retry from the UI starts afresh.
    assert final["empirical_policy"]["retry_type"] is None
    assert await _history(client, run["id"]) == ["Pending", "Running", "AwaitingRetry", "Running", "Failed"]


async def test_duplicate_transition_is_rejected_without_writing(client: httpx.AsyncClient) -> None:
    run = await _run(client)
    transition = str(uuid.uuid4())
    proposal = {"type": "RUNNING", "state_details": {"transition_id": transition}}
    assert (await _propose(client, run["id"], proposal)).status_code == 201
    duplicate = await _propose(client, run["id"], proposal)
    assert duplicate.status_code == 200
    assert duplicate.json()["status"] == "REJECT"
    assert duplicate.json()["state"]["type"] == "RUNNING"
    assert await _history(client, run["id"]) == ["Pending", "Running"]


async def test_future_scheduled_time_makes_the_client_wait(client: httpx.AsyncClient) -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).isoformat()
    run = await _run(client, state={"type": "SCHEDULED", "state_details": {"scheduled_time": later}})
    wait = await _propose(client, run["id"], {"type": "RUNNING"})
    assert wait.status_code == 200
    assert wait.json()["status"] == "WAIT"
    assert 25 <= wait.json()["details"]["delay_seconds"] <= 30
    assert await _history(client, run["id"]) == ["Scheduled"]


async def test_terminal_runs_abort_cancelling_and_force_overrides(client: httpx.AsyncClient) -> None:
    run = await _run(client)
    await _propose(client, run["id"], {"type": "RUNNING"})
    await _propose(client, run["id"], {"type": "COMPLETED"})
    abort = await _propose(client, run["id"], {"type": "CANCELLING"})
    assert abort.status_code == 200
    assert abort.json()["status"] == "ABORT"
    assert "terminal" in abort.json()["details"]["reason"]
    forced = await _propose(client, run["id"], {"type": "CRASHED"}, force=True)
    assert forced.json()["status"] == "ACCEPT"
    assert (await client.get(f"/flow_runs/{run['id']}")).json()["state_type"] == "CRASHED"


async def test_pause_and_resume(client: httpx.AsyncClient) -> None:
    run = await _run(client)
    await _propose(client, run["id"], {"type": "RUNNING"})
    timeout = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    paused = await _propose(
        client, run["id"], {"type": "PAUSED", "state_details": {"pause_key": "1", "pause_timeout": timeout}}
    )
    assert paused.json()["status"] == "ACCEPT", paused.text
    resumed = await client.post(f"/flow_runs/{run['id']}/resume", json={})
    assert resumed.status_code == 201, resumed.text
    assert resumed.json()["state"]["type"] == "RUNNING"
    not_paused = await client.post(f"/flow_runs/{run['id']}/resume", json={})
    assert not_paused.json()["status"] == "ABORT"
    assert "not paused" in not_paused.json()["details"]["reason"]


async def test_resume_validates_run_input_against_the_registered_schema(client: httpx.AsyncClient) -> None:
    run = await _run(client)
    await _propose(client, run["id"], {"type": "RUNNING"})
    stale = await client.post(f"/flow_runs/{run['id']}/input", json={"key": "r", "value": '{"approved": true}'})
    assert stale.status_code == 201
    keyset = {"schema": "s", "response": "r", "description": "d"}
    await _propose(
        client, run["id"], {"type": "PAUSED", "state_details": {"pause_key": "1", "run_input_keyset": keyset}}
    )
    # Like the Prefect client: the pause is accepted first (dropping inputs a previous attempt left under the
    # keyset), then the schema is saved.
    assert (await client.get(f"/flow_runs/{run['id']}/input/r")).status_code == 404
    schema = '{"type": "object", "properties": {"approved": {"type": "boolean"}}, "required": ["approved"]}'
    created = await client.post(f"/flow_runs/{run['id']}/input", json={"key": "s", "value": schema})
    assert created.status_code == 201
    rejected = await client.post(f"/flow_runs/{run['id']}/resume", json={"run_input": {"approved": "yes"}})
    assert rejected.json()["status"] == "REJECT"
    assert "not of type 'boolean'" in rejected.json()["details"]["reason"]
    accepted = await client.post(f"/flow_runs/{run['id']}/resume", json={"run_input": {"approved": True}})
    assert accepted.json()["status"] == "ACCEPT"
    assert (await client.get(f"/flow_runs/{run['id']}/input/r")).text == '{"approved":true}'
    found = await client.post(f"/flow_runs/{run['id']}/input/filter", json={"prefix": "", "limit": 10})
    assert sorted(row["key"] for row in found.json()) == ["r", "s"]
    assert (await client.delete(f"/flow_runs/{run['id']}/input/r")).status_code == 204
    assert (await client.get(f"/flow_runs/{run['id']}/input/r")).status_code == 404


async def test_update_labels_and_delete_cascade(client: httpx.AsyncClient) -> None:
    run = await _run(client)
    assert (await client.patch(f"/flow_runs/{run['id']}", json={"name": "renamed"})).status_code == 204
    assert (await client.patch(f"/flow_runs/{run['id']}/labels", json={"team": "data"})).status_code == 204
    read = (await client.get(f"/flow_runs/{run['id']}")).json()
    assert read["name"] == "renamed"
    assert read["labels"]["team"] == "data" and "prefect.flow.id" in read["labels"]
    now = dt.datetime.now(dt.UTC).isoformat()
    await client.post(
        "/logs/", json=[{"name": "x", "level": 20, "message": "m", "timestamp": now, "flow_run_id": run["id"]}]
    )
    assert (await client.delete(f"/flow_runs/{run['id']}")).status_code == 204
    assert (await client.get(f"/flow_runs/{run['id']}")).status_code == 404
    assert (await client.get("/flow_run_states/", params={"flow_run_id": run["id"]})).json() == []
    logs = await client.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run["id"]]}}})
    assert logs.json() == []
    assert (await client.delete(f"/flow_runs/{run['id']}")).status_code == 404


async def test_filter_by_state_sort_and_paginate(client: httpx.AsyncClient) -> None:
    flow_id = await _flow(client)
    ids = []
    for name in ("a-run", "b-run", "c-run"):
        ids.append((await _run(client, flow_id=flow_id, name=name))["id"])
    await _propose(client, ids[1], {"type": "RUNNING"})
    running = await client.post("/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["RUNNING"]}}}})
    assert [r["name"] for r in running.json()] == ["b-run"]
    by_name = await client.post("/flow_runs/filter", json={"sort": "NAME_DESC", "limit": 2})
    assert [r["name"] for r in by_name.json()] == ["c-run", "b-run"]
    by_flow = await client.post("/flow_runs/count", json={"flows": {"name": {"any_": ["pipeline"]}}})
    assert by_flow.json() == 3
    page = (await client.post("/flow_runs/paginate", json={"page": 1, "limit": 2})).json()
    assert (page["count"], page["pages"], len(page["results"])) == (3, 2, 2)


async def test_history_counts_runs_per_state_per_bucket(client: httpx.AsyncClient) -> None:
    run = await _run(client)
    await _propose(client, run["id"], {"type": "RUNNING"})
    await _run(client)
    now = dt.datetime.now(dt.UTC)
    body = {
        "history_start": (now - dt.timedelta(minutes=10)).isoformat(),
        "history_end": (now + dt.timedelta(minutes=10)).isoformat(),
        "history_interval_seconds": 300,
    }
    response = await client.post("/flow_runs/history", json=body)
    assert response.status_code == 200, response.text
    buckets = response.json()
    assert len(buckets) == 4
    counts = {s["state_type"]: s["count_runs"] for bucket in buckets for s in bucket["states"]}
    assert counts == {"RUNNING": 1, "PENDING": 1}


async def test_logs_download_is_csv(client: httpx.AsyncClient) -> None:
    run = await _run(client, name="csv-run")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lines = [
        {
            "name": "l",
            "level": 20,
            "message": f"line, {i}",
            "timestamp": (start + dt.timedelta(seconds=i)).isoformat(),
            "flow_run_id": run["id"],
        }
        for i in range(3)
    ]
    assert (await client.post("/logs/", json=lines)).status_code == 201
    download = await client.get(f"/flow_runs/{run['id']}/logs/download")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = download.text.strip().split("\r\n")
    assert rows[0] == "timestamp,level,flow_run_id,task_run_id,message"
    assert rows[1].endswith(",20," + run["id"] + ',,"line, 0"')
    assert len(rows) == 4


async def test_run_errors(client: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    assert (await _propose(client, missing, {"type": "RUNNING"})).status_code == 404
    assert (await client.post("/flow_runs/", json={"flow_id": missing})).status_code == 404
    bad_state = await client.post("/flow_runs/", json={"flow_id": missing, "state": {"type": "DONE"}})
    assert bad_state.status_code == 422
    assert "state.type" in bad_state.json()["detail"]
    assert (await client.get("/flow_run_states/")).status_code == 422
    huge = await client.post("/flow_runs/", json={"flow_id": missing, "parameters": {"x": "y" * 600_000}})
    assert huge.status_code == 422
    assert "limit" in huge.text


async def test_create_answers_the_run_exactly_as_a_read_returns_it(client: httpx.AsyncClient) -> None:
    """The create response is built without reading the run back; it must not differ from a read."""
    created = await _run(
        client,
        name="built",
        parameters={"x": 1},
        tags=["t"],
        state={"type": "SCHEDULED", "state_details": {"scheduled_time": "2030-01-01T00:00:00Z"}},
    )
    read = (await client.get(f"/flow_runs/{created['id']}")).json()
    for body in (created, read):
        body.pop("estimated_start_time_delta")
    assert created == read
