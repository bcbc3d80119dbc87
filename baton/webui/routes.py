"""The web UI's routes; pages are added by the UI issue."""

from __future__ import annotations

from typing import Any

import tornado.web

from baton.server.context import ServerContext


class HomePageHandler(tornado.web.RequestHandler):
    def initialize(self, context: ServerContext) -> None:
        self.context = context

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Baton</title></head><body>"
            "<h1>Baton</h1><p>The server is running. The API lives under <a href=/api/health>/api</a>; "
            "its reference is at <a href=/docs>/docs</a>. The dashboard pages are not built yet.</p></body></html>"
        )


def ui_routes(context: ServerContext) -> list[tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]]:
    return [(r"/", HomePageHandler, {"context": context})]
