"""With authentication on, every change made through the API lands in the audit log with who made it, what it was
and how it ended; a refused change too; run telemetry (logs) does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from baton.server.auth.audit_log import request_action
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.settings import Settings
from tests.server.api.secret_blocks import SECRET_VALUE, create_secret_block
from tests.server.identities import ServiceAccountKey, service_account_key


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, auth_enabled=True)


async def _key(server_context: ServerContext, role: str) -> ServiceAccountKey:
    async with server_context.database.write() as connection:
        return await service_account_key(connection, role)


async def _entries(server_context: ServerContext, actor_name: str) -> list[dict[str, Any]]:
    await server_context.audit_log.flush()
    query = sa.select(t.audit_entry).where(t.audit_entry.c.actor_name == actor_name).order_by(t.audit_entry.c.occurred)
    async with server_context.database.read() as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_a_developers_changes_are_recorded_with_the_actor_and_the_action(
    server_context: ServerContext, client: httpx.AsyncClient
) -> None:
    developer = await _key(server_context, "developer")
    headers = developer.headers
    await _created(await client.post("/variables/", json={"name": "region", "value": "eu"}, headers=headers))
    assert (await client.patch("/variables/name/region", json={"value": "us"}, headers=headers)).status_code == 204
    assert (await client.delete("/variables/name/region", headers=headers)).status_code == 204
    flow = await _created(await client.post("/flows/", json={"name": "audited"}, headers=headers))
    deployment = await _created(
        await client.post("/deployments/", json={"name": "nightly", "flow_id": flow["id"]}, headers=headers)
    )
    run = await _created(
        await client.post(f"/deployments/{deployment['id']}/create_flow_run", json={}, headers=headers)
    )
    state = {"state": {"type": "CANCELLED", "name": "Cancelled"}}
    assert (await client.post(f"/flow_runs/{run['id']}/set_state", json=state, headers=headers)).status_code in (
        200,
        201,
    )
    await create_secret_block(client, headers)
    # Reads are not changes.
    assert (await client.post("/variables/filter", json={}, headers=headers)).status_code == 200

    entries = await _entries(server_context, developer.name)
    assert [(entry["action"], entry["outcome"], entry["status_code"]) for entry in entries] == [
        ("variable.create", "success", 201),
        ("variable.update", "success", 204),
        ("variable.delete", "success", 204),
        ("flow.create", "success", 201),
        ("deployment.create", "success", 201),
        ("deployment.create_flow_run", "success", 201),
        ("flow_run.set_state", "success", 201),
        ("block.install_system_block_types", "success", 200),
        ("block.create", "success", 201),
    ]
    assert {entry["actor_kind"] for entry in entries} == {"service_account"}
    assert {entry["actor_id"] for entry in entries} == {developer.account_id}
    assert {entry["address"] for entry in entries} == {"127.0.0.1"}
    by_action = {entry["action"]: entry for entry in entries}
    assert by_action["variable.update"]["resource_name"] == "region"
    assert by_action["variable.update"]["resource_kind"] == "variable"
    assert by_action["deployment.create_flow_run"]["resource_id"] == deployment["id"]
    assert by_action["flow_run.set_state"]["resource_id"] == run["id"]
    assert SECRET_VALUE not in repr(entries)


async def test_a_refused_change_is_recorded_as_denied_with_who_was_refused(
    server_context: ServerContext, client: httpx.AsyncClient
) -> None:
    viewer = await _key(server_context, "viewer")
    response = await client.post("/variables/", json={"name": "region", "value": "eu"}, headers=viewer.headers)
    assert response.status_code == 403
    entries = await _entries(server_context, viewer.name)
    assert [(entry["action"], entry["outcome"], entry["status_code"], entry["actor_id"]) for entry in entries] == [
        ("variable.create", "denied", 403, viewer.account_id)
    ]


async def test_run_telemetry_is_not_recorded(server_context: ServerContext, client: httpx.AsyncClient) -> None:
    worker = await _key(server_context, "worker")
    log = {"name": "prefect.flow_runs", "level": 20, "message": "hello", "timestamp": "2026-12-07T06:00:00Z"}
    assert (await client.post("/logs/", json=[log], headers=worker.headers)).status_code in (200, 201, 204)
    assert await _entries(server_context, worker.name) == []


@pytest.mark.parametrize(
    ("resource", "method", "path", "path_kwargs", "action"),
    [
        ("variable", "POST", "/api/variables/", {}, "variable.create"),
        ("variable", "PATCH", "/api/variables/name/region", {"name": "region"}, "variable.update"),
        ("variable", "DELETE", "/api/variables/7f0c", {"variable_id": "7f0c"}, "variable.delete"),
        ("block", "POST", "/api/block_documents/", {}, "block.create"),
        (
            "deployment",
            "POST",
            "/api/deployments/7f0c/create_flow_run",
            {"deployment_id": "7f0c"},
            "deployment.create_flow_run",
        ),
        (
            "deployment",
            "POST",
            "/api/deployments/7f0c/create_flow_run/bulk",
            {"deployment_id": "7f0c"},
            "deployment.create_flow_run_bulk",
        ),
        ("flow_run", "POST", "/api/flow_runs/7f0c/set_state", {"flow_run_id": "7f0c"}, "flow_run.set_state"),
        ("flow_run", "POST", "/api/flow_runs/bulk_set_state", {}, "flow_run.bulk_set_state"),
        ("flow", "POST", "/api/flows/bulk_delete", {}, "flow.bulk_delete"),
        (
            "deployment",
            "POST",
            "/api/deployments/7f0c/schedules",
            {"deployment_id": "7f0c"},
            "deployment.create_schedule",
        ),
        (
            "deployment",
            "DELETE",
            "/api/deployments/7f0c/schedules/9a1d",
            {"deployment_id": "7f0c", "schedule_id": "9a1d"},
            "deployment.delete_schedule",
        ),
        (
            "work_pool",
            "DELETE",
            "/api/work_pools/name/queues/q",
            {"name": "name", "queue_name": "q"},
            "work_pool.delete_queue",
        ),
        ("concurrency_limit", "POST", "/api/v2/concurrency_limits/", {}, "concurrency_limit.create"),
        (
            "concurrency_limit",
            "POST",
            "/api/concurrency_limits/tag/a%20b/reset",
            {"tag": "a b"},
            "concurrency_limit.reset",
        ),
        ("saved_search", "PUT", "/api/saved_searches/", {}, "saved_search.create"),
        ("server", "PUT", "/api/admin/storage", {}, "server.update_storage"),
    ],
)
def test_action_names(resource: str, method: str, path: str, path_kwargs: dict[str, str], action: str) -> None:
    assert request_action(resource, method, path, path_kwargs) == action
