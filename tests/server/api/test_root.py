"""Health, versions, settings, CSRF probe and the OpenAPI document."""

from __future__ import annotations

import httpx

from baton import API_SCHEMA_VERSION, PREFECT_COMPATIBLE_VERSION


async def test_root_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() is True
    assert (await client.get("/ready")).json() == {"message": "OK"}
    assert (await client.get("/version")).json() == API_SCHEMA_VERSION
    assert (await client.get("/admin/version")).json() == PREFECT_COMPATIBLE_VERSION
    assert PREFECT_COMPATIBLE_VERSION.startswith("3.")
    csrf = await client.get("/csrf-token", params={"client": "abc"})
    assert csrf.status_code == 422
    assert "CSRF protection is disabled." in csrf.text
    settings = (await client.get("/admin/settings")).json()
    assert settings["BATON_SERVER_API_PORT"] == 4200
    assert (await client.get("/admin/storage")).json() == {"default_result_storage_block_id": None}


async def test_openapi_describes_every_route(client: httpx.AsyncClient, base_url: str) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/flows",
        "/api/flow_runs/{flow_run_id}/set_state",
        "/api/task_runs/filter",
        "/api/logs",
        "/api/flow_run_states",
    ):
        assert path in paths, sorted(paths)
    set_state = paths["/api/flow_runs/{flow_run_id}/set_state"]["post"]
    assert set_state["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SetStateRequest"
    }
    assert "OrchestrationResult" in document["components"]["schemas"]
    async with httpx.AsyncClient() as http:
        docs = await http.get(f"{base_url}/docs")
    assert docs.status_code == 200
    assert "/api/flow_runs/{flow_run_id}/set_state" in docs.text
