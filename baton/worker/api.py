"""The calls a worker makes to the Prefect-shaped API, over one async HTTP connection pool."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from baton.client.base import DEFAULT_TIMEOUT_SECONDS, auth_headers, path_part, raise_for_status
from baton.errors import ServiceUnavailable

JsonObject = dict[str, Any]


class WorkerApi:
    """An async client for the endpoints a worker uses; errors are the `baton.errors` of the answer's status."""

    def __init__(self, api_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS, *, api_key: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.api_url + "/", timeout=timeout, headers=auth_headers(api_key))

    async def close(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, *, json: Any = None) -> Any:
        """The decoded JSON answer (None for 204); a BatonError for an error status or an unreachable server."""
        try:
            response = await self._http.request(method, path.lstrip("/"), json=json)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"Cannot reach the Baton API at {self.api_url}: {exc!r}.") from None
        raise_for_status(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def read_work_pool(self, name: str) -> JsonObject:
        return await self.request("GET", f"/work_pools/{path_part(name)}")

    async def create_work_pool(
        self, name: str, pool_type: str, base_job_template: JsonObject | None = None
    ) -> JsonObject:
        body: JsonObject = {"name": name, "type": pool_type}
        if base_job_template is not None:
            body["base_job_template"] = base_job_template
        return await self.request("POST", "/work_pools/", json=body)

    async def heartbeat(self, pool: str, worker: str, interval_seconds: float) -> None:
        body = {"name": worker, "heartbeat_interval_seconds": round(interval_seconds)}
        await self.request("POST", f"/work_pools/{path_part(pool)}/workers/heartbeat", json=body)

    async def scheduled_runs(self, pool: str, queues: list[str], scheduled_before: dt.datetime) -> list[JsonObject]:
        body: JsonObject = {"scheduled_before": scheduled_before.isoformat()}
        if queues:
            body["work_queue_names"] = queues
        return await self.request("POST", f"/work_pools/{path_part(pool)}/get_scheduled_flow_runs", json=body)

    async def read_deployment(self, deployment_id: str) -> JsonObject:
        return await self.request("GET", f"/deployments/{deployment_id}")

    async def read_flow_run(self, flow_run_id: str) -> JsonObject:
        return await self.request("GET", f"/flow_runs/{flow_run_id}")

    async def cancelling_runs(self, flow_run_ids: list[str]) -> list[JsonObject]:
        """Those of the runs that are Cancelling (or already Cancelled by someone else)."""
        body = {
            "flow_runs": {"id": {"any_": flow_run_ids}, "state": {"type": {"any_": ["CANCELLING", "CANCELLED"]}}},
            "limit": len(flow_run_ids),
        }
        return await self.request("POST", "/flow_runs/filter", json=body)

    async def set_state(self, flow_run_id: str, state: JsonObject, *, force: bool = False) -> JsonObject:
        """The orchestration result {status, state, details} of proposing `state`."""
        body = {"state": state, "force": force}
        return await self.request("POST", f"/flow_runs/{flow_run_id}/set_state", json=body)

    async def update_flow_run(self, flow_run_id: str, **fields: Any) -> None:
        await self.request("PATCH", f"/flow_runs/{flow_run_id}", json=fields)

    async def update_labels(self, flow_run_id: str, labels: dict[str, str]) -> None:
        await self.request("PATCH", f"/flow_runs/{flow_run_id}/labels", json=labels)

    async def create_logs(self, logs: list[JsonObject]) -> None:
        """Store log lines ({name, level, message, timestamp, flow_run_id}) in one batch."""
        await self.request("POST", "/logs/", json=logs)
