"""Request counts and latencies, recorded once per request when Tornado logs it.

Labels are bounded whatever the callers send: the handler class (never the raw path, whose ids would make a series
per object), the method (an unknown one counts as OTHER) and the status code.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from tornado.web import RequestHandler

from baton.server.body_limit import BodyLimitApplication

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "baton_http_requests",
    "HTTP requests answered, by handler, method and status code.",
    ["handler", "method", "status"],
    registry=None,
)
HTTP_REQUEST_DURATION = Histogram(
    "baton_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by handler and method.",
    ["handler", "method"],
    registry=None,
)
REQUEST_COLLECTORS = (HTTP_REQUESTS, HTTP_REQUEST_DURATION)


def record_request(handler: RequestHandler) -> None:
    """Count one finished request of `handler` and observe its duration."""
    name = type(handler).__name__
    method = handler.request.method or "GET"
    if method not in KNOWN_METHODS:
        method = "OTHER"
    HTTP_REQUESTS.labels(name, method, str(handler.get_status())).inc()
    HTTP_REQUEST_DURATION.labels(name, method).observe(handler.request.request_time())


class MeasuredApplication(BodyLimitApplication):
    """The server's application: it logs each request as Tornado does, then records it in the request metrics."""

    def log_request(self, handler: RequestHandler) -> None:
        super().log_request(handler)
        record_request(handler)
