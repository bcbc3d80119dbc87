"""`/collections/views/{view}`: the collection-registry views the Prefect client reads.

Prefect's server fetches these from the internet (with a bundled fallback); Baton serves the one the client needs,
`aggregate-worker-metadata` (the worker types it knows and their default base job templates), from its own data.
"""

from __future__ import annotations

from typing import Any

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.worker.job_templates import worker_metadata

WORKER_METADATA_VIEW = "aggregate-worker-metadata"


class CollectionViewHandler(ApiHandler):
    permission = "work_pool:read"

    @endpoint(
        "A collection-registry view; Baton serves `aggregate-worker-metadata`: collection -> worker type -> "
        "metadata with its default base job template",
        response=dict[str, Any],
    )
    async def get(self, view: str) -> None:
        if view != WORKER_METADATA_VIEW:
            raise ObjectNotFound(f"View {view} not found in registry")
        self.write_json(worker_metadata())


routes = [
    (r"/collections/views/(?P<view>[^/]+)/?", CollectionViewHandler),
]
