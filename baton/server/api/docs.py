"""`/api/openapi.json` and the browsable `/docs` page, both generated from the routes."""

from __future__ import annotations

import html
from typing import Any

import orjson
import tornado.web

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import build_openapi


def openapi_document(application: tornado.web.Application) -> dict[str, Any]:
    """The OpenAPI document for `application`'s API routes, built once and cached on the application."""
    cached = application.settings.get("_openapi_cache")
    if cached is None:
        cached = build_openapi(application.settings["api_route_table"])
        application.settings["_openapi_cache"] = cached
    return cached


class OpenApiHandler(ApiHandler):
    async def get(self) -> None:
        self.write_json(openapi_document(self.application))


class DocsPageHandler(tornado.web.RequestHandler):
    """A plain HTML reference of every endpoint; no JavaScript or external assets (works offline)."""

    def get(self) -> None:
        document = openapi_document(self.application)
        sections = []
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                schemas = []
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                if body:
                    schemas.append(f"<p>Body: <code>{html.escape(orjson.dumps(body).decode())}</code></p>")
                for status, response in operation["responses"].items():
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    if schema and not status.startswith(("4", "5")):
                        schemas.append(f"<p>{status}: <code>{html.escape(orjson.dumps(schema).decode())}</code></p>")
                sections.append(
                    f"<section><h3><span class=method>{method.upper()}</span> <code>{html.escape(path)}</code></h3>"
                    f"<p>{html.escape(operation['summary'])}</p>{''.join(schemas)}</section>"
                )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Baton API reference</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
            "section{border-bottom:1px solid #ddd;padding:.5rem 0}.method{color:#0a6;font-weight:700}"
            "code{word-break:break-all}</style></head><body><h1>Baton API reference</h1>"
            "<p>The machine-readable document is at <a href=/api/openapi.json>/api/openapi.json</a>; schemas are "
            "listed under <code>components.schemas</code> there.</p>"
            f"{''.join(sections)}</body></html>"
        )


routes = [(r"/openapi.json", OpenApiHandler)]
