"""A request body over the size limit is answered with a 413 and a JSON reason; a request to a host name the server
does not answer to with a 400, and an allowed CORS preflight with a 204 (see baton.server.browser_guard).

Tornado enforces `max_body_size` by answering a bare `400 Bad Request` with no body and dropping the connection.
`BodyLimitApplication` checks the declared Content-Length as soon as the headers arrive instead: it reads the
over-long body and throws it away (so the client, still sending, does read the answer), then answers 413 with a
`detail` that says the size and the limit. A body declared beyond `DISCARD_CAP_FACTOR` times the limit is not worth
reading: Tornado's own 400 handles it.

Under a sub-path (BATON_SERVER_BASE_PATH) the delegate also takes the prefix off each request's path before anything
else sees it, and answers a path outside the prefix with a 404 (see baton.server.base_path).
"""

from __future__ import annotations

from typing import Any

import orjson
import tornado.web
from tornado import httputil

from baton.server.base_path import strip_base_path
from baton.server.browser_guard import BrowserGuard, EarlyAnswer

# Bodies declared up to this many times the limit are read and dropped so that the client sees the 413.
DISCARD_CAP_FACTOR = 4


class _GuardDelegate(httputil.HTTPMessageDelegate):
    """Answers on its own (after reading and dropping the body) what the guard or the size limit refuses; passes
    everything else to the application's delegate."""

    def __init__(
        self,
        delegate: httputil.HTTPMessageDelegate,
        connection: httputil.HTTPConnection,
        limit: int,
        guard: BrowserGuard | None,
        base_path: str = "",
    ) -> None:
        self.delegate = delegate
        self.connection = connection
        self.limit = limit
        self.guard = guard
        self.base_path = base_path
        self.answer: EarlyAnswer | None = None

    def headers_received(
        self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ) -> Any:
        if self.base_path and isinstance(start_line, httputil.RequestStartLine):
            path = strip_base_path(self.base_path, start_line.path)
            if path is None:
                detail = f"This server answers under {self.base_path}/ (BATON_SERVER_BASE_PATH)."
                self.answer = EarlyAnswer(
                    404, "Not Found", {"Content-Type": "application/json"}, orjson.dumps({"detail": detail})
                )
                return None
            start_line = httputil.RequestStartLine(start_line.method, path, start_line.version)
        if self.guard is not None and isinstance(start_line, httputil.RequestStartLine):
            self.answer = self.guard.early_answer(start_line.method, start_line.path, headers)
            if self.answer is not None:
                return None
        declared = headers.get("Content-Length", "")
        if declared.isdigit() and self.limit < int(declared) <= self.limit * DISCARD_CAP_FACTOR:
            self.connection.set_max_body_size(int(declared))  # type: ignore[attr-defined]
            detail = (
                f"The request body is {declared} bytes; this server accepts at most {self.limit} "
                "(BATON_SERVER_API_MAX_BODY_BYTES)."
            )
            self.answer = EarlyAnswer(
                413, "Content Too Large", {"Content-Type": "application/json"}, orjson.dumps({"detail": detail})
            )
            return None
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        if self.answer is None:
            return self.delegate.data_received(chunk)
        return None

    def finish(self) -> None:
        if self.answer is None:
            self.delegate.finish()
            return
        headers = httputil.HTTPHeaders(
            {**self.answer.headers, "Content-Length": str(len(self.answer.body)), "Connection": "close"}
        )
        start_line = httputil.ResponseStartLine("HTTP/1.1", self.answer.status, self.answer.reason)
        self.connection.write_headers(start_line, headers, self.answer.body)
        self.connection.finish()

    def on_connection_close(self) -> None:
        if self.answer is None:
            self.delegate.on_connection_close()


class BodyLimitApplication(tornado.web.Application):
    """A Tornado application that answers over-long request bodies with 413 (see the module docstring), and with a
    `guard`, refused hosts and CORS preflights before routing."""

    def __init__(
        self,
        *args: Any,
        max_body_bytes: int,
        guard: BrowserGuard | None = None,
        base_path: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_body_bytes = max_body_bytes
        self.browser_guard = guard
        self.base_path = base_path

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _GuardDelegate(
            super().start_request(server_conn, request_conn),
            request_conn,
            self.max_body_bytes,
            self.browser_guard,
            self.base_path,
        )
