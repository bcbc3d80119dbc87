"""Every route of Prefect 3.9.1's server API is served by Baton, or named below with the reason it is not.

The Prefect routes come from Prefect's own routers (`prefect.server.api.server.API_ROUTERS`), Baton's from its route
table (`baton.server.app.api_routes`); a route counts as served when a Baton handler matching its path defines its
method (a websocket route: when that handler is a websocket handler)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, cast

import pytest
import tornado.web
import tornado.websocket

from baton.server.app import api_routes
from baton.server.context import ServerContext

PREFECT_UI = "a read model private to Prefect's own UI, which Baton does not ship (Baton serves its own UI)"

# Routes Baton leaves out on purpose. The README's "Left out" table shows the same list with the same reasons.
LEFT_OUT: dict[str, str] = {
    "GET /observed-states": "the state names seen in runs, for Prefect's UI's filters; Baton's UI knows its states",
    "POST /ui/flows/count-deployments": PREFECT_UI,
    "POST /ui/flows/next-runs": PREFECT_UI,
    "POST /ui/flow_runs/history": PREFECT_UI,
    "POST /ui/flow_runs/count-task-runs": PREFECT_UI,
    "POST /ui/schemas/validate": PREFECT_UI,
    "POST /ui/task_runs/dashboard/counts": PREFECT_UI,
    "POST /ui/task_runs/count": PREFECT_UI,
    "GET /ui/task_runs/{id}": PREFECT_UI,
}

README = Path(__file__).parents[3] / "README.md"


def _api_routers() -> list[Any]:
    """The routers of Prefect's `API_ROUTERS` (`api.flows.router`, ...), named by reading server.py, so that the test
    imports `prefect.server.api` (its route modules) and not the server app, which costs seconds more."""
    import prefect.server.api as api

    tree = ast.parse(Path(api.__file__).with_name("server.py").read_text())
    names = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "API_ROUTERS" for target in node.targets)
    )
    routers = []
    for element in cast(ast.Tuple, names).elts:
        value: Any = api
        for part in ast.unparse(element).split(".")[1:]:
            value = getattr(value, part)
        routers.append(value)
    return routers


def _prefect_routes() -> set[str]:
    """Every route of Prefect's server API as "METHOD /path", path parameters without their converters."""
    found = set()
    for router in _api_routers():
        for route in router.routes:
            path = re.sub(r"\{(\w+):\w+\}", r"{\1}", cast(Any, route).path)
            for method in getattr(route, "methods", None) or {"WEBSOCKET"}:
                if method != "HEAD":
                    found.add(f"{method} {path}")
    return found


def _is_served(route: str, table: list[tuple[str, type[tornado.web.RequestHandler], Any]]) -> bool:
    method, path = route.split(" ", 1)
    concrete = "/api" + re.sub(r"\{\w+\}", "0e3c4d4a-5b9f-4c39-9d0e-0d8d3f2a9c11", path)
    for pattern, handler, _ in table:
        if re.match(pattern, concrete):
            if method == "WEBSOCKET":
                return issubclass(handler, tornado.websocket.WebSocketHandler)
            own = getattr(handler, method.lower(), None)
            return own is not None and own is not getattr(tornado.web.RequestHandler, method.lower())
    return False


@pytest.fixture(scope="module")
def coverage() -> tuple[set[str], set[str]]:
    """(Prefect's routes, those Baton serves)."""
    table = api_routes(cast(ServerContext, None))
    prefect = _prefect_routes()
    return prefect, {route for route in prefect if _is_served(route, table)}


def test_every_prefect_route_is_served_or_left_out_with_a_reason(coverage: tuple[set[str], set[str]]) -> None:
    prefect, served = coverage
    assert len(prefect) > 150  # the enumeration found Prefect's routes, not an empty router list
    missing = sorted(prefect - served - set(LEFT_OUT))
    assert missing == [], "Prefect routes Baton neither serves nor lists in LEFT_OUT"


def test_left_out_names_only_real_unserved_routes(coverage: tuple[set[str], set[str]]) -> None:
    prefect, served = coverage
    assert sorted(set(LEFT_OUT) - prefect) == [], "LEFT_OUT names routes Prefect 3.9.1 does not have"
    assert sorted(set(LEFT_OUT) & served) == [], "LEFT_OUT names routes Baton now serves: remove them"
    assert all(reason.strip() for reason in LEFT_OUT.values())


def test_the_readme_shows_each_left_out_route() -> None:
    text = README.read_text()
    absent = [route for route in LEFT_OUT if f"`{route}`" not in text]
    assert absent == [], "README.md's list of routes left out misses these"
