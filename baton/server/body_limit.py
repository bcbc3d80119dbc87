"""A request body over the size limit is answered with a 413 and a JSON reason.

Tornado enforces `max_body_size` by answering a bare `400 Bad Request` with no body and dropping the connection.
`BodyLimitApplication` checks the declared Content-Length as soon as the headers arrive instead: it reads the
over-long body and throws it away (so the client, still sending, does read the answer), then answers 413 with a
`detail` that says the size and the limit. A body declared beyond `DISCARD_CAP_FACTOR` times the limit is not worth
reading: Tornado's own 400 handles it.
"""

from __future__ import annotations

from typing import Any

import orjson
import tornado.web
from tornado import httputil

# Bodies declared up to this many times the limit are read and dropped so that the client sees the 413.
DISCARD_CAP_FACTOR = 4


class _BodyLimitDelegate(httputil.HTTPMessageDelegate):
    def __init__(self, delegate: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection, limit: int) -> None:
        self.delegate = delegate
        self.connection = connection
        self.limit = limit
        self.refused_size: int | None = None

    def headers_received(
        self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ) -> Any:
        declared = headers.get("Content-Length", "")
        if declared.isdigit() and self.limit < int(declared) <= self.limit * DISCARD_CAP_FACTOR:
            self.refused_size = int(declared)
            self.connection.set_max_body_size(self.refused_size)  # type: ignore[attr-defined]
            return None
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        if self.refused_size is None:
            return self.delegate.data_received(chunk)
        return None

    def finish(self) -> None:
        if self.refused_size is None:
            self.delegate.finish()
            return
        body = orjson.dumps(
            {
                "detail": f"The request body is {self.refused_size} bytes; this server accepts at most {self.limit} "
                "(BATON_SERVER_API_MAX_BODY_BYTES)."
            }
        )
        headers = httputil.HTTPHeaders(
            {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close"}
        )
        self.connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", 413, "Content Too Large"), headers, body)
        self.connection.finish()

    def on_connection_close(self) -> None:
        if self.refused_size is None:
            self.delegate.on_connection_close()


class BodyLimitApplication(tornado.web.Application):
    """A Tornado application that answers over-long request bodies with 413 (see the module docstring)."""

    def __init__(self, *args: Any, max_body_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_body_bytes = max_body_bytes

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _BodyLimitDelegate(super().start_request(server_conn, request_conn), request_conn, self.max_body_bytes)
