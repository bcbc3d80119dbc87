"""`/block_capabilities`: every capability that some block schema declares."""

from __future__ import annotations

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.blocks import block_schemas


class BlockCapabilitiesHandler(ApiHandler):
    permission = "block:read"

    @endpoint("Every capability some block schema declares, sorted", response=list[str])
    async def get(self) -> None:
        async with self.database.read() as connection:
            capabilities = await block_schemas.read_block_capabilities(connection)
        self.write_json(capabilities)


routes = [
    (r"/block_capabilities/?", BlockCapabilitiesHandler),
]
