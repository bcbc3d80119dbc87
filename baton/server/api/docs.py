"""`/api/openapi.json` and the browsable `/docs` page, both generated from the routes."""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

import orjson
import tornado.web

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import build_openapi
from baton.server.base_path import with_base_path
from baton.server.browser_guard import CONTENT_SECURITY_POLICY, page_headers
from baton.server.permissions import PUBLIC
from baton.server.schemas.base import PAGE_SIZE_MARK


def openapi_document(application: tornado.web.Application) -> dict[str, Any]:
    """The OpenAPI document for `application`'s API routes, built once and cached on the application; each page
    size (`limit`) carries the server's maximum, a setting."""
    cached = application.settings.get("_openapi_cache")
    if cached is None:
        table = application.settings["api_routes"]()
        cached = build_openapi(table)
        context = next((route[2]["context"] for route in table if len(route) > 2 and "context" in route[2]), None)
        if context is not None:
            _set_page_size_maximum(cached, context.settings.server_api_default_limit)
            if context.settings.server_base_path:
                # Paths are application paths (/api/...); the server's sub-path is where they are reached.
                cached["servers"] = [{"url": context.settings.server_base_path}]
        application.settings["_openapi_cache"] = cached
    return cached


def _set_page_size_maximum(node: Any, maximum: int) -> None:
    """Replace each page-size mark in the schemas under `node` with `maximum`."""
    if isinstance(node, dict):
        if node.pop(PAGE_SIZE_MARK, None):
            node["maximum"] = maximum
        for value in node.values():
            _set_page_size_maximum(value, maximum)
    elif isinstance(node, list):
        for value in node:
            _set_page_size_maximum(value, maximum)


class OpenApiHandler(ApiHandler):
    permission = PUBLIC

    async def get(self) -> None:
        self.write_json(openapi_document(self.application))


DOCS_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "section{border-bottom:1px solid #ddd;padding:.5rem 0}.method{color:#0a6;font-weight:700}"
    "code{word-break:break-all}"
)
# The page's one inline <style> is allowed by its hash (the page works without the UI's static files).
_DOCS_STYLE_HASH = base64.b64encode(hashlib.sha256(DOCS_STYLE.encode()).digest()).decode()
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", f"style-src 'self' 'sha256-{_DOCS_STYLE_HASH}'"
)


class DocsPageHandler(tornado.web.RequestHandler):
    """A plain HTML reference of every endpoint; no JavaScript or external assets (works offline)."""

    permission = PUBLIC

    def get(self) -> None:
        document = openapi_document(self.application)
        document_url = with_base_path(getattr(self.application, "base_path", ""), "/api/openapi.json")
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
        for name, value in page_headers(DOCS_CONTENT_SECURITY_POLICY).items():
            self.set_header(name, value)
        self.finish(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Baton API reference</title>"
            f"<style>{DOCS_STYLE}</style></head><body><h1>Baton API reference</h1>"
            f"<p>The machine-readable document is at <a href={document_url}>{document_url}</a>; schemas are "
            "listed under <code>components.schemas</code> there.</p>"
            f"{''.join(sections)}</body></html>"
        )


routes = [(r"/openapi.json", OpenApiHandler)]
# Outside /api (see baton.server.app.make_app).
page_routes = [(r"/docs/?", DocsPageHandler)]
