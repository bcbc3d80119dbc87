"""`make_app`: the Tornado application with the API under /api and the web UI under / (both under
BATON_SERVER_BASE_PATH when it is set: see baton.server.base_path)."""

from __future__ import annotations

import importlib
from typing import Any

import tornado.web

from baton.server.api.base import NotFoundApiHandler
from baton.server.browser_guard import BrowserGuard
from baton.server.context import ServerContext
from baton.server.metrics.requests import MeasuredApplication
from baton.server.workspaces import route_to_workspace, route_to_workspace_page

API_PREFIX = "/api"
# Each module under baton.server.api ends with a `routes` list of (pattern, handler) pairs.
API_MODULES = (
    "root",
    "docs",
    "flows",
    "flow_run_inputs",
    "flow_runs",
    "deployments",
    "deployment_schedules",
    "task_run_subscriptions",
    "task_runs",
    "task_workers",
    "logs",
    "logs_out",
    "variables",
    "saved_searches",
    "flow_run_graph",
    "flow_run_blockers",
    "tag_limits",
    "concurrency_limits",
    "artifacts",
    "block_types",
    "block_schemas",
    "block_documents",
    "block_capabilities",
    "notification_policies",
    "events_in",
    "events_query",
    "events_out",
    "work_pools",
    # Before `workers`, whose `/workers/{worker_name}` would take `connect` for a worker's name.
    "worker_channel",
    "workers",
    "work_queues",
    "collections",
    "automations",
    "me",
    "users",
    "service_accounts",
    "roles",
    "audit",
    "workspaces",
)
# The modules of global objects: served at /api only, never under a workspace's URL (they are no workspace's).
GLOBAL_API_MODULES = frozenset({"me", "users", "service_accounts", "roles", "audit", "workspaces"})


def api_routes(context: ServerContext) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    """Every API route, prefixed with /api, each handler given the server context (and, for a global module's,
    that it is not served under a workspace's URL)."""
    routes = []
    for name in API_MODULES:
        module = importlib.import_module(f"baton.server.api.{name}")
        options: dict[str, Any] = {"context": context}
        if name in GLOBAL_API_MODULES:
            options["workspace_scoped"] = False
        for pattern, handler in module.routes:
            routes.append((f"{API_PREFIX}{pattern}$", handler, options))
    routes.append((rf"{API_PREFIX}/.*", NotFoundApiHandler, {"context": context}))
    return routes


class BatonApplication(MeasuredApplication):
    """The server's application: a request under a workspace's URL is routed as its `/api/...` twin, and a workspace's
    page (`/workspaces/{id}/runs`) as the page's own path, the workspace kept on the request for the handler to bind
    its context to (see baton.server.workspaces)."""

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        route_to_workspace(request)
        route_to_workspace_page(request)
        return super().find_handler(request, **kwargs)


def make_app(context: ServerContext, *, ui: bool = True, bound_host: str | None = None) -> tornado.web.Application:
    """The application serving the API (and the UI unless `ui` is False); it answers the host names allowed for a
    server listening on `bound_host` (default: the `server_api_host` setting)."""
    from baton.server.api import metrics
    from baton.server.api.docs import DocsPageHandler

    table = api_routes(context)
    routes: list[Any] = [
        *table,
        (r"/docs/?", DocsPageHandler),
        *[(f"{pattern}$", handler, {"context": context}) for pattern, handler in metrics.routes],
    ]
    if ui:
        from baton.webui.routes import ui_routes

        routes.extend(ui_routes(context))
    return BatonApplication(
        routes,
        compress_response=True,
        api_route_table=table,
        max_body_bytes=context.settings.server_api_max_body_bytes,
        guard=BrowserGuard.from_settings(context.settings, bound_host or context.settings.server_api_host),
        base_path=context.settings.server_base_path,
    )
