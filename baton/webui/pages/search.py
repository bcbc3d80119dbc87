"""The search box's page: flows, deployments, flow runs and blocks whose names contain the query, each kind shown
only to a principal that may read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from baton.server.auth.principal import Principal
from baton.server.models.views import name_search
from baton.server.permissions import SIGNED_IN
from baton.webui.base import PageHandler

# Matches shown per kind: the page points somewhere, the kind's own list page does the browsing.
MATCHES_PER_KIND = 10
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchKind:
    key: str
    label: str
    permission: str
    read: Callable[[Any, str, int], Awaitable[list[dict[str, Any]]]]
    #: The kind's page for one match, formatted with the match's id.
    link: str


SEARCH_KINDS = (
    SearchKind("flows", "Flows", "flow:read", name_search.read_flows_named, "/flows/{}"),
    SearchKind("deployments", "Deployments", "deployment:read", name_search.read_deployments_named, "/deployments/{}"),
    SearchKind("flow_runs", "Flow runs", "flow_run:read", name_search.read_flow_runs_named, "/runs/flow-run/{}"),
    SearchKind("blocks", "Blocks", "block:read", name_search.read_blocks_named, "/blocks/{}"),
)


def searchable_kinds(principal: Principal) -> list[SearchKind]:
    """The kinds `principal` may read, in the page's order."""
    return [kind for kind in SEARCH_KINDS if principal.may(kind.permission)]


class SearchPageHandler(PageHandler):
    permission = SIGNED_IN

    async def get(self) -> None:
        text = self.get_query_argument("q", "").strip()[:MAX_QUERY_LENGTH]
        results: list[tuple[SearchKind, list[dict[str, Any]]]] = []
        kinds = searchable_kinds(self.principal)
        if text:
            async with self.database.read() as connection:
                for kind in kinds:
                    results.append((kind, await kind.read(connection, text, MATCHES_PER_KIND)))
        self.render_page(
            "search.html",
            title="Search",
            search_text=text,
            results=results,
            kinds=kinds,
            matches_per_kind=MATCHES_PER_KIND,
        )


routes = [(r"/search/?", SearchPageHandler)]
