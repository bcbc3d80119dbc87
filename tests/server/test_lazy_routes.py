"""The server's route table imports each handler module on the first request that could reach it, and routes every
path exactly as the table with every module imported does: the same handler, the same arguments, the same 404s."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
import tornado.web
from tornado import httputil

from baton.server.api.docs import DocsPageHandler
from baton.server.api.metrics import routes as metrics_routes
from baton.server.app import API_MODULES, API_PREFIX, BatonApplication, api_routes, make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.server.lazy_routes import FirstSegmentMatches, LazyRoutes, ModuleRoutes
from baton.settings import Settings
from baton.webui.routes import PAGE_MODULES, ui_routes
from tests.server.api.route_table import Route

WORKSPACE = f"/api/accounts/{uuid.uuid4()}/workspaces/{uuid.uuid4()}"
# Paths no route's own URL covers: near misses of the segments, catch-alls, odd shapes.
ODD_PATHS = (
    "/",
    "//",
    "/api",
    "/api/",
    "/api//flows",
    "/api/flowsx",
    "/api/flows/a/b/c",
    "/api/flow_runs/x/input/key/more",
    "/api/events",
    "/api/eventsx",
    "/api/openapi.jsonx",
    "/api/v2",
    "/docs",
    "/docs/",
    "/docsx",
    "/metrics",
    "/runs/flow-run/x/logs.txt",
    "/runs/flow-run/x/logsxtxt",
    "/task-runs/x/stream",
    "/ui-static/",
    "/workspaces/x",
    f"/workspaces/{uuid.uuid4()}/runs",
    f"/workspaces/{uuid.uuid4()}",
    f"{WORKSPACE}",
    f"{WORKSPACE}/flows/",
    f"{WORKSPACE}/users/",
    f"{WORKSPACE}/nope",
)


@pytest.fixture
def context(tmp_path: Path) -> ServerContext:
    # The tables are built, never served: the context needs no open database.
    settings = Settings(home=tmp_path, api_database_connection_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    return ServerContext(settings=settings, database=cast(Database, None))


def eager_app(context: ServerContext) -> tornado.web.Application:
    """The application as it was built with every handler module imported at start."""
    routes: list[Any] = [
        *api_routes(context),
        (r"/docs/?", DocsPageHandler),
        *[(f"{pattern}$", handler, {"context": context}) for pattern, handler in metrics_routes],
        *ui_routes(context),
    ]
    return BatonApplication(routes, max_body_bytes=context.settings.server_api_max_body_bytes)


def request_for(path: str) -> httputil.HTTPServerRequest:
    start_line = httputil.RequestStartLine("GET", path, "HTTP/1.1")
    return httputil.HTTPServerRequest(start_line=start_line, headers=httputil.HTTPHeaders({"Host": "127.0.0.1"}))


def routed(app: tornado.web.Application, path: str) -> tuple[Any, ...]:
    """What `app` routes a GET of `path` to: the handler class, its arguments and the path's arguments."""
    request = request_for(path)
    delegate = app.find_handler(request)
    return delegate.handler_class, delegate.handler_kwargs, delegate.path_args, delegate.path_kwargs


def every_path(context: ServerContext) -> list[str]:
    """A URL of every route (API, UI, static files, docs), each API route's also under a workspace's URL, and the
    odd paths."""
    # Anchored as Tornado anchors a pattern.
    table = [
        Route(pattern.removesuffix("$") + "$", handler)
        for pattern, handler, *_ in api_routes(context) + ui_routes(context)
    ]
    urls = [route.url() for route in table]
    return [*urls, *(WORKSPACE + url.removeprefix(API_PREFIX) for url in urls if url.startswith("/api/")), *ODD_PATHS]


def test_every_path_is_routed_as_with_every_module_imported(context: ServerContext) -> None:
    eager, lazy = eager_app(context), make_app(context, ui=True)
    paths = every_path(context)
    assert len(paths) > 300
    differences = []
    for path in paths:
        expected, found = routed(eager, path), routed(lazy, path)
        if found != expected:
            differences.append(f"{path}: {found} instead of {expected}")
    assert differences == []


def test_a_module_is_loaded_by_the_first_request_under_its_segments_only(context: ServerContext) -> None:
    app = make_app(context, ui=True)
    lazy = {rule.target.name: rule.target for rule in app.wildcard_router.rules if isinstance(rule.target, LazyRoutes)}
    assert set(lazy) == {
        *(f"baton.server.api.{name}.routes" for name in API_MODULES),
        *(f"baton.webui.pages.{name}.routes" for name in PAGE_MODULES),
        "baton.server.api.docs.page_routes",
    }
    assert not any(routes.loaded for routes in lazy.values())
    handler_class = routed(app, "/api/variables/name/x")[0]
    assert handler_class.__module__ == "baton.server.api.variables"
    # Only the module under the path's first segment, not those before it in the table.
    assert sorted(name for name, routes in lazy.items() if routes.loaded) == ["baton.server.api.variables.routes"]
    assert routed(app, "/api/nope")[0].__name__ == "NotFoundApiHandler"
    assert sorted(name for name, routes in lazy.items() if routes.loaded) == ["baton.server.api.variables.routes"]


@pytest.mark.parametrize(
    ("modules", "package"), [(API_MODULES, "baton.server.api"), (PAGE_MODULES, "baton.webui.pages")]
)
def test_each_module_names_the_first_segments_of_its_patterns(
    modules: dict[str, tuple[str, ...]], package: str, context: ServerContext
) -> None:
    """The segments are a module's own: none too many (a request would import a module for nothing), none missing
    (the equivalence test above would fail too, naming the path)."""
    prefix = API_PREFIX if package == "baton.server.api" else ""
    for name, segments in modules.items():
        patterns = [pattern for pattern, *_ in ModuleRoutes(f"{package}.{name}", prefix, {}).load()]
        firsts = {re.sub(r"\\(.)", r"\1", re.split(r"[/?$]", pattern.removeprefix(prefix))[1]) for pattern in patterns}
        assert firsts == set(segments), name


def test_a_segment_matches_itself_and_what_is_under_it_only() -> None:
    matcher = FirstSegmentMatches("/api", ("flows", "openapi.json"))

    def matches(path: str) -> bool:
        request = request_for(path)
        return matcher.match(request) is not None

    assert [matches(path) for path in ("/api/flows", "/api/flows/", "/api/flows/x/y", "/api/openapi.json")] == [
        True
    ] * 4
    assert [matches(path) for path in ("/api/flowsx", "/api/openapixjson", "/flows", "/api", "/api/")] == [False] * 5


def test_the_server_imports_no_handler_module_at_start() -> None:
    """Building the application (as `baton server start` does) imports no API handler or UI page module."""
    check = (
        "import sys, tempfile, pathlib\n"
        "from baton.server.app import make_app\n"
        "from baton.server.context import ServerContext\n"
        "from baton.settings import Settings\n"
        "home = pathlib.Path(tempfile.mkdtemp())\n"
        "settings = Settings(home=home, api_database_connection_url=f'sqlite+aiosqlite:///{home}/x.db')\n"
        "make_app(ServerContext(settings=settings, database=None), ui=True)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('baton.server.api.', 'baton.webui.pages.')))))"
    )
    result = subprocess.run([sys.executable, "-c", "import json\n" + check], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "baton.server.api.base" in loaded  # the check sees what the process loaded
    assert [name for name in loaded if name.rsplit(".", 1)[1] in {*API_MODULES, "openapi"}] == []
    assert [name for name in loaded if name.startswith("baton.webui.pages.")] == []
