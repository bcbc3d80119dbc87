"""Flow runs: list, read, cancel, and their logs."""

from __future__ import annotations

from typing import Any

from baton.client.base import BaseClient, JsonObject


class FlowRunsClient(BaseClient):
    def read_flow_runs(
        self,
        *,
        state_types: list[str] | None = None,
        flow_name: str | None = None,
        deployment_id: str | None = None,
        limit: int | None = None,
    ) -> list[JsonObject]:
        """Flow runs, the most recently expected first, optionally only those in `state_types`, of one flow or of
        one deployment."""
        body: JsonObject = {"sort": "EXPECTED_START_TIME_DESC", "limit": limit}
        runs: JsonObject = {}
        if state_types:
            runs["state"] = {"type": {"any_": [state.upper() for state in state_types]}}
        if runs:
            body["flow_runs"] = runs
        if flow_name is not None:
            body["flows"] = {"name": {"any_": [flow_name]}}
        if deployment_id is not None:
            body["deployments"] = {"id": {"any_": [deployment_id]}}
        return self.request("POST", "/flow_runs/filter", json=body)

    def read_flow_run(self, flow_run_id: str) -> JsonObject:
        """The run with its current state; ObjectNotFound (or ValidationFailed for a malformed id) otherwise."""
        return self.request("GET", f"/flow_runs/{flow_run_id}")

    def read_flow_names(self, flow_ids: list[str]) -> dict[str, str]:
        """{flow id: flow name} of the given flows."""
        if not flow_ids:
            return {}
        flows = self.request("POST", "/flows/filter", json={"flows": {"id": {"any_": sorted(set(flow_ids))}}})
        return {flow["id"]: flow["name"] for flow in flows}

    def cancel_flow_run(self, flow_run_id: str) -> JsonObject:
        """Propose Cancelling (a run that has no process yet goes straight to Cancelled); the orchestration
        result {status, state, details}."""
        body = {"state": {"type": "CANCELLING", "message": "Cancelled with `baton flow-run cancel`."}}
        return self.request("POST", f"/flow_runs/{flow_run_id}/set_state", json=body)

    def read_flow_run_logs(self, flow_run_id: str, *, after: str | None = None, limit: int = 200) -> list[JsonObject]:
        """The run's log lines, oldest first; with `after` only those logged after that timestamp."""
        logs: dict[str, Any] = {"flow_run_id": {"any_": [flow_run_id]}}
        if after is not None:
            logs["timestamp"] = {"after_": after}
        body = {"logs": logs, "sort": "TIMESTAMP_ASC", "limit": limit}
        return self.request("POST", "/logs/filter", json=body)
