"""`/automations`: the one read the Prefect CLI makes of them. Baton keeps no automations, so none relates to any
resource; `prefect deployment inspect` lists a deployment's related automations and needs this to answer."""

from __future__ import annotations

from typing import Any

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint


class RelatedAutomationsHandler(ApiHandler):
    permission = "automation:read"

    @endpoint("The automations related to a resource (none: Baton keeps no automations)", response=list[dict[str, Any]])
    async def get(self, resource_id: str) -> None:
        self.write_json([])


routes = [
    (r"/automations/related-to/(?P<resource_id>[^/]+)/?", RelatedAutomationsHandler),
]
