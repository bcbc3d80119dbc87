"""The HTTP client notifications go out with: httpx's interface over an aiohttp connection pool.

The channels build their requests with httpx (headers, JSON and form bodies, timeouts, error types), and their tests
assert those requests byte for byte. httpx's own pool, though, spends many times more CPU per request once a dozen
requests are in flight (most of it in httpcore's connection bookkeeping) than aiohttp's keep-alive pool and C parser
spend sending the same request. So httpx builds and reads the messages, and this transport carries them over aiohttp.
"""

from __future__ import annotations

import http.cookiejar
import urllib.request
from typing import Any

import aiohttp
import httpx

# Connections kept open per process, over all hosts.
MAX_CONNECTIONS = 100
# Headers that aiohttp computes itself from the body it sends or the body it decoded.
_REQUEST_HEADERS_SET_BY_AIOHTTP = frozenset({"content-length", "transfer-encoding"})
_RESPONSE_HEADERS_OF_ENCODED_BODY = frozenset({"content-length", "content-encoding", "transfer-encoding"})


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through one aiohttp session (created on first use, on the loop that uses it), mapping
    aiohttp's failures onto httpx's exception types so that callers handle a single family of errors."""

    def __init__(self, *, max_connections: int = MAX_CONNECTIONS) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                # HTTP(S)_PROXY and NO_PROXY, as httpx honours them; aiohttp reads the environment (and ~/.netrc, in a
                # thread) on every request when asked to, so it is asked only when a proxy is configured.
                trust_env=bool(urllib.request.getproxies_environment()),
                cookie_jar=aiohttp.DummyCookieJar(),  # a delivery never carries another delivery's cookies
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() not in _REQUEST_HEADERS_SET_BY_AIOHTTP
        ]
        try:
            async with self._session_for_loop().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=_timeout(request.extensions.get("timeout")),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            ) as response:
                content = await response.read()
                headers_out = [
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in response.raw_headers
                    if name.decode("latin-1").lower() not in _RESPONSE_HEADERS_OF_ENCODED_BODY
                ]
                return httpx.Response(
                    response.status,
                    headers=headers_out,
                    content=content,
                    request=request,
                    extensions={"reason_phrase": (response.reason or "").encode("latin-1", "replace")},
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout("The server did not answer in time", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(f"Could not connect: {exc.os_error or exc}", request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.InvalidURL(f"Invalid URL: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise httpx.NetworkError(str(exc) or type(exc).__name__, request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _timeout(timeouts: dict[str, Any] | None) -> aiohttp.ClientTimeout:
    """httpx's per-request timeouts (connect, read, write, pool) as aiohttp's."""
    timeouts = timeouts or {}
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeouts.get("pool"),
        sock_connect=timeouts.get("connect"),
        sock_read=timeouts.get("read"),
    )


def make_http_client(timeout: float) -> httpx.AsyncClient:
    """The client notification channels send with (one per process; see module docstring). It keeps no cookies:
    one delivery's answer must not change what the next delivery sends."""
    no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(timeout=timeout, transport=AiohttpTransport(), cookies=no_cookies)
