"""The whole route table of `make_app(context, ui=True)` (API, UI, docs, static files, every lazily imported module's
routes loaded), each route with its handler class, the HTTP methods that class answers and a concrete URL that
reaches it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import tornado.routing
import tornado.web
import tornado.websocket

from baton.server.api.base import ApiHandler
from baton.server.lazy_routes import LazyRoutes
from baton.webui.navigation import STATIC_PATH

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: A path parameter: named groups `(?P<name>[^/]+)`, and the static files' `(.*)`.
_PARAMETER = re.compile(r"\(\?P<(\w+)>\[\^/\]\+\)|\(\.\*\)")
#: What a route's regular expression may still hold once its parameters are filled in.
_LEFTOVER = re.compile(r"[\\()\[\]*+?^$|{}]")


@dataclass(frozen=True)
class Route:
    pattern: str
    handler: type[tornado.web.RequestHandler]

    @property
    def is_websocket(self) -> bool:
        return issubclass(self.handler, tornado.websocket.WebSocketHandler)

    @property
    def is_api(self) -> bool:
        """Answers as the API does (JSON errors, 401 rather than a sign-in redirect): the routes under /api and the
        API handlers outside it (/metrics)."""
        return self.pattern.startswith("/api/") or issubclass(self.handler, ApiHandler)

    @property
    def is_catch_all(self) -> bool:
        return self.pattern.endswith(".*$") and "(" not in self.pattern

    @property
    def methods(self) -> list[str]:
        """The methods the handler class answers (a websocket: its upgrade GET)."""
        if self.is_websocket:
            return ["GET"]
        return [
            method
            for method in METHODS
            if getattr(self.handler, method.lower()) is not getattr(tornado.web.RequestHandler, method.lower())
        ]

    def url(self) -> str:
        """A concrete path for the route: ids are random UUIDs, names made up, a static file one that exists."""
        if self.is_catch_all:
            return self.pattern.removesuffix(".*$") + "no-such-route"

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return next(path.name for path in sorted(STATIC_PATH.iterdir()) if path.is_file())
            return str(uuid.uuid4()) if name.endswith("id") else f"perm-{name.replace('_', '-')}"

        path = _PARAMETER.sub(fill, self.pattern).removesuffix("$").removesuffix("/?").replace(r"\.", ".")
        if _LEFTOVER.search(path):
            raise AssertionError(f"Cannot make a URL for the route {self.pattern}: {path}")
        return path

    def __str__(self) -> str:
        return f"{self.pattern} ({self.handler.__module__}.{self.handler.__qualname__})"


def route_table(app: tornado.web.Application) -> list[Route]:
    return [
        Route(cast(tornado.routing.PathMatches, rule.matcher).regex.pattern, rule.target)
        for rule in _rules(app.default_router)
    ]


def _rules(router: Any) -> Iterator[tornado.routing.Rule]:
    """Every rule whose target is a handler class, loading the lazily imported modules' routes (a server imports
    them on their first request)."""
    for rule in router.rules:
        if isinstance(rule.target, LazyRoutes):
            yield from _rules(rule.target.router())
        elif isinstance(rule.target, tornado.routing.RuleRouter):
            yield from _rules(rule.target)
        elif isinstance(rule.target, type):
            yield rule
