"""Work pools (where deployments send their runs) and the workers polling them."""

from __future__ import annotations

from typing import Any

from baton.client.base import BaseClient, JsonObject, path_part


class WorkPoolsClient(BaseClient):
    def create_work_pool(
        self, name: str, pool_type: str = "process", *, description: str | None = None, **fields: Any
    ) -> JsonObject:
        """The new pool (with its `default` queue); ObjectAlreadyExists if the name is taken."""
        body = {"name": name, "type": pool_type, "description": description, **fields}
        return self.request("POST", "/work_pools/", json=body)

    def read_work_pool(self, name: str) -> JsonObject:
        """The pool called `name`; ObjectNotFound if there is none."""
        return self.request("GET", f"/work_pools/{path_part(name)}")

    def read_work_pools(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Work pools sorted by name; at most `limit` of them."""
        return self.request("POST", "/work_pools/filter", json={"limit": limit, "offset": offset})

    def update_work_pool(self, name: str, **fields: Any) -> None:
        """Change the given fields (is_paused, concurrency_limit, description, base_job_template)."""
        self.request("PATCH", f"/work_pools/{path_part(name)}", json=fields)

    def delete_work_pool(self, name: str) -> None:
        self.request("DELETE", f"/work_pools/{path_part(name)}")

    def read_work_queues(self, pool: str) -> list[JsonObject]:
        """The pool's queues, highest priority first."""
        return self.request("POST", f"/work_pools/{path_part(pool)}/queues/filter", json={})

    def read_workers(self, pool: str) -> list[JsonObject]:
        """The pool's workers, the most recent heartbeat first."""
        return self.request("POST", f"/work_pools/{path_part(pool)}/workers/filter", json={})
