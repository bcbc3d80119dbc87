"""The Artifacts pages: the latest artifact of each key, and one artifact rendered by its type with its key's history.

Artifact data is user data: markdown goes through the safe subset renderer, table cells and link texts are escaped by
the template, and only http(s) URLs become links or images.
"""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.models import artifacts
from baton.server.models.views import artifact_pages
from baton.server.schemas.artifacts import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterRequest,
    ArtifactFilterKey,
    ArtifactFilterType,
    ArtifactSort,
)
from baton.webui import artifact_views
from baton.webui.base import PageHandler
from baton.webui.markdown import render_markdown
from baton.webui.pagination import Pager

PAGE_SIZE = 50
# A key's history shows this many versions, newest first.
HISTORY_SIZE = 50
# The types the Prefect client writes, offered in the type filter.
ARTIFACT_TYPES = ("markdown", "table", "link", "progress", "image", "result")


class ArtifactsPageHandler(PageHandler):
    permission = "artifact:read"

    async def get(self) -> None:
        search = self.get_query_argument("q", "").strip()
        kind = self.get_query_argument("type", "").strip()
        number = self.query_int("page", 1, minimum=1)
        spec = ArtifactCollectionFilter(
            key=ArtifactFilterKey(like_=search) if search else None,
            type=ArtifactFilterType(any_=[kind]) if kind else None,
        )
        request = ArtifactCollectionFilterRequest(artifacts=spec, sort=ArtifactSort.UPDATED_DESC, limit=None, offset=0)
        async with self.database.read() as connection:
            total = await artifacts.count_latest_artifacts_matching(connection, request)
            pager = Pager(number, PAGE_SIZE, total, "/artifacts", (("q", search), ("type", kind)))
            rows = await artifacts.filter_latest_artifacts(connection, request, PAGE_SIZE, pager.offset)
        self.render_page(
            "artifacts.html",
            title="Artifacts",
            collections=rows,
            pager=pager,
            search=search,
            kind=kind,
            artifact_types=ARTIFACT_TYPES,
            preview=artifact_views.preview,
        )


class ArtifactPageHandler(PageHandler):
    permission = "artifact:read"

    async def get(self, artifact_id: str) -> None:
        target = self.path_uuid(artifact_id, "artifact")
        async with self.database.read() as connection:
            artifact = await artifacts.read_artifact(connection, target)
            if artifact is None:
                raise ObjectNotFound(f"There is no artifact with the id {artifact_id}.")
            page = await artifact_pages.read_artifact_page(connection, artifact, HISTORY_SIZE)
        self.render_artifact(page)

    def render_artifact(self, page: artifact_pages.ArtifactPage) -> None:
        artifact = page.artifact
        title = artifact["key"] or f"Artifact {str(artifact['id'])[:8]}"
        self.render_page(
            "artifact.html",
            title=title,
            artifact=artifact,
            history=page.history,
            versions=page.versions,
            flow_run_name=page.flow_run_name,
            views=artifact_views,
            render_markdown=render_markdown,
        )


class ArtifactKeyPageHandler(ArtifactPageHandler):
    permission = "artifact:read"

    async def get(self, key: str) -> None:  # type: ignore[override]
        async with self.database.read() as connection:
            latest = await artifacts.read_latest_artifact(connection, key)
            artifact = await artifacts.read_artifact(connection, latest["latest_id"]) if latest else None
            if artifact is None:
                raise ObjectNotFound(f"No artifact has the key {key!r}.")
            page = await artifact_pages.read_artifact_page(connection, artifact, HISTORY_SIZE)
        self.render_artifact(page)


routes = [
    (r"/artifacts/?", ArtifactsPageHandler),
    (r"/artifacts/key/(?P<key>[^/]+)/?", ArtifactKeyPageHandler),
    (r"/artifacts/(?P<artifact_id>[^/]+)/?", ArtifactPageHandler),
]
