"""The web UI's routes: every module under baton.webui.pages ends with a `routes` list of (pattern, handler) or
(pattern, handler, options) tuples."""

from __future__ import annotations

from typing import Any

import tornado.web

from baton.server.context import ServerContext
from baton.server.lazy_routes import ModuleRoutes, lazy_rule
from baton.server.permissions import PUBLIC
from baton.webui.base import NotFoundPageHandler
from baton.webui.navigation import STATIC_PATH, STATIC_PREFIX

# In routing order, each module with the first path segments of its patterns ("" for `/`): a module is imported on
# the first request under one of them (baton.server.lazy_routes).
PAGE_MODULES: dict[str, tuple[str, ...]] = {
    "settings": ("settings",),
    "runs": ("runs", "task-runs"),
    "flows": ("flows",),
    "dashboard": ("",),
    "concurrency": ("concurrency",),
    "notifications": ("notifications",),
    "automations": ("automations",),
    "blocks": ("blocks",),
    "variables": ("variables",),
    "artifacts": ("artifacts",),
    "flow_run": ("runs",),
    "flow_run_stream": ("runs", "task-runs"),
    "task_run": ("task-runs",),
    "deployments": ("deployments",),
    "work_pools": ("work-pools",),
    "events": ("events",),
    "sign_in": ("login", "logout"),
    "sso": ("login",),
    "account": ("account",),
    "users": ("users",),
    "service_accounts": ("service-accounts",),
    "roles": ("roles",),
    "audit": ("audit",),
    "workspaces": ("workspaces", "workspace-settings"),
    "search": ("search",),
}


class StaticHandler(tornado.web.StaticFileHandler):
    """Static files are addressed by content hash (see `static_url`), so they can be cached for a long time."""

    permission = PUBLIC

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return self.CACHE_MAX_AGE if "v" in self.request.arguments else 0


def _static_route() -> tuple[Any, ...]:
    return (rf"{STATIC_PREFIX}(.*)", StaticHandler, {"path": str(STATIC_PATH)})


def ui_routes(context: ServerContext) -> list[tuple[Any, ...]]:
    """Every page route; imports every page module (the tests need them all, a server does not)."""
    routes: list[tuple[Any, ...]] = [_static_route()]
    for name in PAGE_MODULES:
        routes.extend(ModuleRoutes(f"baton.webui.pages.{name}", "", {"context": context}).load())
    routes.append((r"/.*", NotFoundPageHandler, {"context": context}))
    return routes


def lazy_ui_routes(context: ServerContext) -> list[Any]:
    """The UI's rules for the application, each page module's imported on the first request that could reach it."""
    rules: list[Any] = [_static_route()]
    for name, segments in PAGE_MODULES.items():
        rules.append(lazy_rule(segments, ModuleRoutes(f"baton.webui.pages.{name}", "", {"context": context})))
    rules.append((r"/.*", NotFoundPageHandler, {"context": context}))
    return rules
