"""`make_app`: the Tornado application with the API under /api and the web UI under / (both under
BATON_SERVER_BASE_PATH when it is set: see baton.server.base_path)."""

from __future__ import annotations

import functools
from typing import Any

import tornado.web

from baton.server.api.base import NotFoundApiHandler
from baton.server.browser_guard import BrowserGuard
from baton.server.context import ServerContext
from baton.server.lazy_routes import ModuleRoutes, bind_lazy_routes, lazy_rule
from baton.server.metrics.requests import MeasuredApplication
from baton.server.workspaces import route_to_workspace, route_to_workspace_page

API_PREFIX = "/api"
# Each module under baton.server.api ends with a `routes` list of (pattern, handler) pairs; here, in routing order, each
# module with the first path segments (after /api) of its patterns: a module is imported on the first request under
# one of them (baton.server.lazy_routes). tests/server/test_lazy_routes.py checks the segments against the patterns.
API_MODULES: dict[str, tuple[str, ...]] = {
    "root": ("health", "ready", "version", "hello", "admin", "csrf-token"),
    "docs": ("openapi.json",),
    "flows": ("flows",),
    "flow_run_inputs": ("flow_runs",),
    "flow_runs": ("flow_runs", "flow_run_states"),
    "deployments": ("deployments",),
    "deployment_schedules": ("ui", "deployments"),
    "task_run_subscriptions": ("task_runs",),
    "task_runs": ("task_runs", "task_run_states"),
    "task_workers": ("task_workers",),
    "logs": ("logs",),
    "logs_out": ("logs",),
    "variables": ("variables",),
    "saved_searches": ("saved_searches",),
    "flow_run_graph": ("flow_runs",),
    "flow_run_blockers": ("flow_runs",),
    "tag_limits": ("concurrency_limits",),
    "concurrency_limits": ("v2",),
    "artifacts": ("artifacts",),
    "block_types": ("block_types",),
    "block_schemas": ("block_schemas",),
    "block_documents": ("block_documents",),
    "block_capabilities": ("block_capabilities",),
    "notification_policies": ("flow_run_notification_policies", "notification_deliveries"),
    "events_in": ("events",),
    "events_query": ("events",),
    "events_out": ("events",),
    "work_pools": ("work_pools",),
    # Before `workers`, whose `/workers/{worker_name}` would take `connect` for a worker's name.
    "worker_channel": ("work_pools",),
    "workers": ("work_pools",),
    "work_queues": ("work_queues",),
    "collections": ("collections",),
    "automations": ("automations", "templates"),
    "me": ("me",),
    "users": ("users",),
    "service_accounts": ("service_accounts",),
    "roles": ("roles",),
    "audit": ("audit",),
    "workspaces": ("workspaces",),
}
# The modules of global objects: served at /api only, never under a workspace's URL (they are no workspace's).
GLOBAL_API_MODULES = frozenset({"me", "users", "service_accounts", "roles", "audit", "workspaces"})

RouteTable = list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]


def _api_options(context: ServerContext, name: str) -> dict[str, Any]:
    """What each handler of API module `name` is given: the server context (and, for a global module's, that it is
    not served under a workspace's URL)."""
    if name in GLOBAL_API_MODULES:
        return {"context": context, "workspace_scoped": False}
    return {"context": context}


def api_routes(context: ServerContext) -> RouteTable:
    """Every API route, prefixed with /api, each handler given its options; imports every API module (the OpenAPI
    document and the tests need them all, a server does not)."""
    routes: RouteTable = []
    for name in API_MODULES:
        routes.extend(ModuleRoutes(f"baton.server.api.{name}", API_PREFIX, _api_options(context, name)).load())
    routes.append((rf"{API_PREFIX}/.*", NotFoundApiHandler, {"context": context}))
    return routes


def lazy_api_routes(context: ServerContext) -> list[Any]:
    """The API's rules for the application, each module's imported on the first request that could reach it."""
    rules: list[Any] = [
        lazy_rule(segments, ModuleRoutes(f"baton.server.api.{name}", API_PREFIX, _api_options(context, name)))
        for name, segments in API_MODULES.items()
    ]
    rules.append((rf"{API_PREFIX}/.*", NotFoundApiHandler, {"context": context}))
    return rules


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

    routes: list[Any] = [
        *lazy_api_routes(context),
        lazy_rule(("docs",), ModuleRoutes("baton.server.api.docs", "", {}, attribute="page_routes")),
        *[(f"{pattern}$", handler, {"context": context}) for pattern, handler in metrics.routes],
    ]
    if ui:
        from baton.webui.routes import lazy_ui_routes

        routes.extend(lazy_ui_routes(context))
    application = BatonApplication(
        routes,
        compress_response=True,
        # The OpenAPI document is built from every API route, on its first request.
        api_routes=functools.partial(api_routes, context),
        max_body_bytes=context.settings.server_api_max_body_bytes,
        guard=BrowserGuard.from_settings(context.settings, bound_host or context.settings.server_api_host),
        base_path=context.settings.server_base_path,
    )
    bind_lazy_routes(application, routes)
    return application
