"""Deployments: list, read, run, pause, resume and delete them (the Prefect-shaped `/deployments` API)."""

from __future__ import annotations

import uuid
from typing import Any

from baton.client.base import BaseClient, JsonObject, path_part
from baton.errors import ValidationFailed


class DeploymentsClient(BaseClient):
    def read_deployments(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Deployments sorted by name; at most `limit` of them."""
        return self.request("POST", "/deployments/filter", json={"sort": "NAME_ASC", "limit": limit, "offset": offset})

    def read_deployment(self, name_or_id: str) -> JsonObject:
        """The deployment with that id, or named `FLOW/DEPLOYMENT`; ObjectNotFound if there is none."""
        try:
            return self.request("GET", f"/deployments/{uuid.UUID(name_or_id)}")
        except ValueError:
            pass
        flow_name, slash, deployment_name = name_or_id.partition("/")
        if not slash or not flow_name or not deployment_name:
            raise ValidationFailed(
                f"{name_or_id!r} is neither a deployment id nor a name of the form FLOW_NAME/DEPLOYMENT_NAME."
            )
        return self.request("GET", f"/deployments/name/{path_part(flow_name)}/{path_part(deployment_name)}")

    def create_flow_run_from_deployment(
        self, deployment_id: str, *, parameters: dict[str, Any] | None = None, **fields: Any
    ) -> JsonObject:
        """A new Scheduled run of the deployment (its parameters merged over the deployment's)."""
        body: JsonObject = {**fields}
        if parameters:
            body["parameters"] = parameters
        return self.request("POST", f"/deployments/{deployment_id}/create_flow_run", json=body)

    def pause_deployment(self, deployment_id: str) -> None:
        self.request("POST", f"/deployments/{deployment_id}/pause_deployment")

    def resume_deployment(self, deployment_id: str) -> None:
        self.request("POST", f"/deployments/{deployment_id}/resume_deployment")

    def delete_deployment(self, deployment_id: str) -> None:
        self.request("DELETE", f"/deployments/{deployment_id}")
