"""`/artifacts`: create, read, update and delete artifacts; the latest artifact of each key; filter and count."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models import artifacts
from baton.server.schemas.artifacts import (
    Artifact,
    ArtifactCollection,
    ArtifactCollectionFilterRequest,
    ArtifactCreate,
    ArtifactFilterRequest,
    ArtifactUpdate,
)


class ArtifactsHandler(ApiHandler):
    permission = "artifact:write"

    @endpoint(
        "Create an artifact; one with a key becomes the latest of that key",
        body=ArtifactCreate,
        response=Artifact,
        status=201,
    )
    async def post(self) -> None:
        artifact = self.parse_body(ArtifactCreate)
        async with self.database.write() as connection:
            row = await artifacts.create_artifact(connection, artifact)
        self.write_json(row, status=201)


class ArtifactHandler(ApiHandler):
    permission = {"GET": "artifact:read", "PATCH": "artifact:write", "DELETE": "artifact:write"}

    @endpoint("Read an artifact", response=Artifact)
    async def get(self, artifact_id: str) -> None:
        async with self.database.read() as connection:
            row = await artifacts.read_artifact(connection, self.path_uuid(artifact_id))
        if row is None:
            raise ObjectNotFound(f"Artifact {artifact_id} does not exist.")
        self.write_json(row)

    @endpoint("Update an artifact's data, description or metadata", body=ArtifactUpdate, status=204)
    async def patch(self, artifact_id: str) -> None:
        target = self.path_uuid(artifact_id)
        update = self.parse_body(ArtifactUpdate)
        async with self.database.write() as connection:
            found = await artifacts.update_artifact(connection, target, update)
        if not found:
            raise ObjectNotFound(f"Artifact {artifact_id} does not exist.")
        self.write_no_content()

    @endpoint("Delete an artifact; its key's latest falls back to the previous version", status=204)
    async def delete(self, artifact_id: str) -> None:
        target = self.path_uuid(artifact_id)
        async with self.database.write() as connection:
            found = await artifacts.delete_artifact(connection, target)
        if not found:
            raise ObjectNotFound(f"Artifact {artifact_id} does not exist.")
        self.write_no_content()


class LatestArtifactHandler(ApiHandler):
    permission = "artifact:read"

    @endpoint(
        "The latest artifact of a key (with the id of the key's collection, as Prefect answers)", response=Artifact
    )
    async def get(self, key: str) -> None:
        async with self.database.read() as connection:
            row = await artifacts.read_latest_artifact(connection, key)
        if row is None:
            raise ObjectNotFound(f"No artifact has the key {key!r}.")
        # Prefect answers with the artifact shape: the collection's own id, without `latest_id`.
        del row["latest_id"]
        self.write_json(row)


class ArtifactFilterHandler(ApiHandler):
    permission = "artifact:read"

    @endpoint("Artifacts matching a filter", body=ArtifactFilterRequest, response=list[Artifact], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(ArtifactFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await artifacts.filter_artifacts(connection, request, limit, request.offset)
        self.write_json(rows)


class ArtifactCountHandler(ApiHandler):
    permission = "artifact:read"

    @endpoint("How many artifacts match a filter", body=ArtifactFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(ArtifactFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await artifacts.count_artifacts_matching(connection, request)
        self.write_json(count)


class LatestArtifactFilterHandler(ApiHandler):
    permission = "artifact:read"

    @endpoint(
        "The latest artifact of each key, filtered",
        body=ArtifactCollectionFilterRequest,
        response=list[ArtifactCollection],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(ArtifactCollectionFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await artifacts.filter_latest_artifacts(connection, request, limit, request.offset)
        self.write_json(rows)


class LatestArtifactCountHandler(ApiHandler):
    permission = "artifact:read"

    @endpoint(
        "How many keys' latest artifacts match a filter",
        body=ArtifactCollectionFilterRequest,
        response=int,
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(ArtifactCollectionFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await artifacts.count_latest_artifacts_matching(connection, request)
        self.write_json(count)


routes = [
    (r"/artifacts/?", ArtifactsHandler),
    (r"/artifacts/filter/?", ArtifactFilterHandler),
    (r"/artifacts/count/?", ArtifactCountHandler),
    (r"/artifacts/latest/filter/?", LatestArtifactFilterHandler),
    (r"/artifacts/latest/count/?", LatestArtifactCountHandler),
    (r"/artifacts/(?P<key>[^/]+)/latest/?", LatestArtifactHandler),
    (r"/artifacts/(?P<artifact_id>[^/]+)/?", ArtifactHandler),
]
