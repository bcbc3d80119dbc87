"""The web UI's routes: every module under baton.webui.pages ends with a `routes` list."""

from __future__ import annotations

import importlib
from typing import Any

import tornado.web

from baton.server.context import ServerContext
from baton.server.permissions import PUBLIC
from baton.webui.base import NotFoundPageHandler
from baton.webui.navigation import STATIC_PATH, STATIC_PREFIX

PAGE_MODULES = (
    "settings",
    "runs",
    "flows",
    "dashboard",
    "concurrency",
    "notifications",
    "automations",
    "blocks",
    "variables",
    "artifacts",
    "flow_run",
    "flow_run_stream",
    "task_run",
    "deployments",
    "work_pools",
    "events",
    "sign_in",
    "sso",
    "account",
    "users",
    "service_accounts",
    "roles",
    "audit",
    "workspaces",
    "search",
)


class StaticHandler(tornado.web.StaticFileHandler):
    """Static files are addressed by content hash (see `static_url`), so they can be cached for a long time."""

    permission = PUBLIC

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return self.CACHE_MAX_AGE if "v" in self.request.arguments else 0


def ui_routes(context: ServerContext) -> list[tuple[Any, ...]]:
    routes: list[tuple[Any, ...]] = [(rf"{STATIC_PREFIX}(.*)", StaticHandler, {"path": str(STATIC_PATH)})]
    for name in PAGE_MODULES:
        module = importlib.import_module(f"baton.webui.pages.{name}")
        for pattern, handler, *extra in module.routes:
            routes.append((pattern + "$", handler, {"context": context, **(extra[0] if extra else {})}))
    routes.append((r"/.*", NotFoundPageHandler, {"context": context}))
    return routes
