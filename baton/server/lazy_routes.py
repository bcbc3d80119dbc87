"""Routes whose handler module is imported on the first request that could reach them, so that a server process holds
only the handler modules it has been asked for (idle memory and start-up time, issue 26).

A module's routes are announced by the first path segments they start with (`/api/flow_runs/...` -> `flow_runs`);
the module's own `routes` list stays the one place of its patterns. Routing is the same as with every module
imported: the segments match every path one of the module's patterns matches, and when none of its patterns match,
routing goes on to the next rule, as it would have past each of the module's routes.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import tornado.routing
import tornado.web
from tornado import httputil

#: A rule as the application takes it: (pattern, handler class, handler keyword arguments).
RouteSpec = tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]


class FirstSegmentMatches(tornado.routing.Matcher):
    """Matches a path `prefix/segment` or `prefix/segment/...` for one of `segments` (`""` for `prefix/` itself)."""

    def __init__(self, prefix: str, segments: Iterable[str]) -> None:
        alternatives = "|".join(re.escape(segment) for segment in sorted(segments))
        # `(?:/|$)` and not `(?:/.*)?$`: `$` also matches before a final newline, as in the routes' own patterns.
        self.regex = re.compile(f"{re.escape(prefix)}/(?:{alternatives})(?:/|$)")

    def match(self, request: httputil.HTTPServerRequest) -> dict[str, Any] | None:
        return {} if self.regex.match(request.path or "") else None


class HandlerRouter(tornado.routing.RuleRouter):
    """Rules whose targets are request handler classes of `application` (what Tornado's own application router does
    for the routes given to the application)."""

    def __init__(self, application: tornado.web.Application, rules: list[RouteSpec]) -> None:
        self.application = application
        super().__init__(rules)  # type: ignore[arg-type]

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> httputil.HTTPMessageDelegate | None:
        if isinstance(target, type) and issubclass(target, tornado.web.RequestHandler):
            return self.application.get_handler_delegate(request, target, **target_params)
        return super().get_target_delegate(target, request, **target_params)


@dataclass(frozen=True)
class ModuleRoutes:
    """The `attribute` list of `module` ((pattern, handler[, options]) tuples) as the application's rules: each pattern
    prefixed with `prefix` and anchored, each handler given `options` and its route's own options."""

    module: str
    prefix: str
    options: dict[str, Any]
    attribute: str = "routes"

    @property
    def name(self) -> str:
        return f"{self.module}.{self.attribute}"

    def load(self) -> list[RouteSpec]:
        """The rules, importing the module."""
        routes = getattr(importlib.import_module(self.module), self.attribute)
        return [
            (f"{self.prefix}{pattern}$", handler, {**self.options, **(extra[0] if extra else {})})
            for pattern, handler, *extra in routes
        ]


class LazyRoutes(tornado.routing.Router):
    """A module's routes, loaded on the first request routed here; `bind` gives them their application first."""

    def __init__(self, routes: ModuleRoutes) -> None:
        self.name = routes.name
        self._routes = routes
        self._application: tornado.web.Application | None = None
        self._router: HandlerRouter | None = None

    def bind(self, application: tornado.web.Application) -> None:
        self._application = application

    @property
    def loaded(self) -> bool:
        return self._router is not None

    def router(self) -> HandlerRouter:
        """The routes, loaded now if they were not (importing their module)."""
        if self._router is None:
            if self._application is None:
                raise RuntimeError(f"The routes of {self.name} are not bound to an application")
            self._router = HandlerRouter(self._application, self._routes.load())
        return self._router

    def find_handler(self, request: httputil.HTTPServerRequest, **kwargs: Any) -> httputil.HTTPMessageDelegate | None:
        return self.router().find_handler(request)


def lazy_rule(segments: Iterable[str], routes: ModuleRoutes) -> tornado.routing.Rule:
    """A rule routing the paths under `routes.prefix` whose first segment is one of `segments` to `routes`."""
    return tornado.routing.Rule(FirstSegmentMatches(routes.prefix, segments), LazyRoutes(routes))


def bind_lazy_routes(application: tornado.web.Application, rules: Iterable[Any]) -> None:
    """Give each lazy rule among `rules` the application its handlers belong to."""
    for rule in rules:
        if isinstance(rule, tornado.routing.Rule) and isinstance(rule.target, LazyRoutes):
            rule.target.bind(application)
