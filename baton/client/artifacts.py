"""Artifacts: results flows publish (markdown, tables, links), versioned by key."""

from __future__ import annotations

from baton.client.base import BaseClient, JsonObject, path_part
from baton.errors import ObjectNotFound


class ArtifactsClient(BaseClient):
    def read_artifacts(self, *, key: str | None = None, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Every version of every artifact (or of one key), newest first; at most `limit` of them."""
        body: JsonObject = {"sort": "CREATED_DESC", "limit": limit, "offset": offset}
        if key is not None:
            body["artifacts"] = {"key": {"any_": [key]}}
        return self.request("POST", "/artifacts/filter", json=body)

    def read_latest_artifacts(self, *, limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """The latest version of each key, sorted by key; `latest_id` is that version's artifact id."""
        body: JsonObject = {"sort": "KEY_ASC", "limit": limit, "offset": offset}
        return self.request("POST", "/artifacts/latest/filter", json=body)

    def read_artifact(self, artifact_id: str) -> JsonObject:
        """The artifact with that id; ObjectNotFound if there is none."""
        return self.request("GET", f"/artifacts/{path_part(artifact_id)}")

    def delete_artifact(self, artifact_id: str) -> None:
        """Delete one artifact version; the key's latest falls back to the previous version. ObjectNotFound if gone."""
        self.request("DELETE", f"/artifacts/{path_part(artifact_id)}")

    def count_artifacts(self, *, key: str | None = None) -> int:
        """How many artifact versions there are, of every key or of one."""
        body: JsonObject = {"artifacts": {"key": {"any_": [key]}}} if key is not None else {}
        return int(self.request("POST", "/artifacts/count", json=body))

    def delete_artifacts_by_key(self, key: str) -> int:
        """Delete every version of the artifacts with `key`; returns how many were deleted (0 if there were none)."""
        deleted = 0
        while batch := self.read_artifacts(key=key):
            before = deleted
            for artifact in batch:
                try:
                    self.delete_artifact(artifact["id"])
                except ObjectNotFound:
                    continue  # Deleted by someone else meanwhile: the outcome is the same.
                deleted += 1
            if deleted == before:
                break  # Only versions someone else deleted were left; stop rather than loop on a stale page.
        return deleted
