"""The notification HTTP client (httpx requests carried by aiohttp): what goes on the wire and what comes back."""

from __future__ import annotations

import gzip

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from tests.notifications.conftest import FakeService


async def test_the_request_carries_httpx_headers_once_and_the_exact_body(
    service: FakeService, http: httpx.AsyncClient
) -> None:
    body = '{"text":"Flow run ümlaut failed"}'.encode()
    response = await http.post(
        f"{service.url}/hook?x=1",
        content=body,
        headers={"Content-Type": "application/json", "User-Agent": "Baton Notifications"},
    )

    assert response.status_code == 200 and response.text == "ok" and response.reason_phrase == "OK"
    [request] = service.requests
    assert (request.method, request.path, request.query, request.body) == ("POST", "/hook", "x=1", body)
    assert request.headers.get_list("User-Agent") == ["Baton Notifications"]
    assert request.headers.get_list("Content-Length") == [str(len(body))]
    assert request.headers.get_list("Content-Type") == ["application/json"]
    assert request.headers["Host"] == service.url.removeprefix("http://")
    assert "Cookie" not in request.headers


class _GzipHandler(tornado.web.RequestHandler):
    def post(self) -> None:
        self.set_status(202, "Queued")
        self.set_header("Content-Encoding", "gzip")
        self.set_cookie("session", "abc")
        self.finish(gzip.compress(b"accepted for delivery"))


async def test_an_encoded_answer_is_decoded_once_and_cookies_are_not_kept(http: httpx.AsyncClient) -> None:
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/", _GzipHandler)]))
    server.add_sockets(sockets)
    url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/"
    try:
        first = await http.post(url, content=b"{}")
        second = await http.post(url, content=b"{}")
    finally:
        server.stop()
        await server.close_all_connections()

    assert (first.status_code, first.reason_phrase, first.text) == (202, "Queued", "accepted for delivery")
    assert "content-encoding" not in first.headers
    assert second.request.headers.get("Cookie") is None and not http.cookies
