"""Read model of the UI's artifact page: an artifact with its key's history and the name of its flow run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.models import artifacts
from baton.server.models.runs import flow_runs
from baton.server.schemas.artifacts import ArtifactFilter, ArtifactFilterKey, ArtifactFilterRequest, ArtifactSort


@dataclass
class ArtifactPage:
    """An artifact, the newest versions of its key (none without a key), how many there are, and its run's name."""

    artifact: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    versions: int = 0
    flow_run_name: str | None = None


async def read_artifact_page(connection: AsyncConnection, artifact: dict[str, Any], history_size: int) -> ArtifactPage:
    """The page of `artifact`: up to `history_size` versions of its key, newest first, and the count of all."""
    page = ArtifactPage(artifact)
    if artifact["key"] is not None:
        request = ArtifactFilterRequest(
            artifacts=ArtifactFilter(key=ArtifactFilterKey(any_=[artifact["key"]])),
            sort=ArtifactSort.CREATED_DESC,
            limit=None,
            offset=0,
        )
        page.history = await artifacts.filter_artifacts(connection, request, history_size, 0)
        page.versions = await artifacts.count_artifacts_matching(connection, request)
    if artifact["flow_run_id"] is not None:
        run = await flow_runs.read_flow_run(connection, artifact["flow_run_id"])
        page.flow_run_name = run["name"] if run else None
    return page
