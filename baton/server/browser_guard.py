"""What protects a Baton server from the web pages its users visit, in every mode (authentication on or off).

- The Host allow-list (`server_allowed_hosts`): a page on an attacker's domain whose name is made to resolve to
  127.0.0.1 (DNS rebinding) is same-origin with the server in the eyes of the browser, but its requests carry the
  attacker's host name; they are answered 400.
- CORS (`server_cors_allowed_origins`): off unless origins are listed; then only those get the Access-Control headers.
- Security headers for HTML: a Content-Security-Policy without inline script, no framing, no referrer to others.

The JSON-only rule for API writes lives in `ApiHandler.prepare` (a text/plain or form POST is what a cross-site page
can send without a preflight); the application answers refused hosts and CORS preflights before any handler runs
(`baton.server.body_limit.BodyLimitApplication`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson

from baton.settings import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Addresses that mean "every interface": they name no host a browser would use.
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::", "*"})
ANY = "*"

CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
# How long a browser may reuse a preflight's answer, in seconds.
CORS_MAX_AGE_SECONDS = 600

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def page_headers(content_security_policy: str = CONTENT_SECURITY_POLICY) -> dict[str, str]:
    """The headers of every HTML page (error pages too)."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    }


def host_name(host: str) -> str:
    """The host part of a Host header or address, lower case, without port, brackets or a trailing dot."""
    value = host.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:  # a name or IPv4 address with a port; a bare IPv6 address has several colons
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def default_allowed_hosts(settings: Settings, bound_host: str) -> list[str]:
    """The names always allowed: the loopback names (a rebinding page cannot send them as its Host), the bound
    address (unless it is a wildcard) and the hosts of ui_url and api_url (which other clients are told to use)."""
    hosts = list(LOOPBACK_NAMES)
    if host_name(bound_host) not in WILDCARD_ADDRESSES:
        hosts.append(host_name(bound_host))
    for url in (settings.ui_url, settings.api_url):
        if url:
            try:
                name = urlsplit(url).hostname
            except ValueError:
                name = None
            if name:
                hosts.append(host_name(name))
    return hosts


class HostAllowList:
    """Host names a request may be addressed to; an entry ".example.com" covers example.com and its subdomains."""

    def __init__(self, hosts: Iterable[str]) -> None:
        entries = [entry.strip() for entry in hosts if entry.strip()]
        self.any = ANY in entries
        self.names = frozenset(host_name(entry) for entry in entries if not entry.startswith(".") and entry != ANY)
        self.suffixes = tuple(entry.lower().rstrip(".") for entry in entries if entry.startswith("."))

    @classmethod
    def from_settings(cls, settings: Settings, bound_host: str) -> HostAllowList:
        return cls([*default_allowed_hosts(settings, bound_host), *settings.server_allowed_hosts])

    def allows(self, host_header: str | None) -> bool:
        """Whether a request with this Host header is answered; one without a Host header (HTTP/1.0) is."""
        if self.any or not host_header:
            return True
        name = host_name(host_header)
        return name in self.names or any(name == suffix[1:] or name.endswith(suffix) for suffix in self.suffixes)

    def refusal(self, host_header: str) -> str:
        return (
            f"This server does not answer to the host {host_name(host_header)!r}. If that is its address, add it "
            "to BATON_SERVER_ALLOWED_HOSTS (comma-separated host names; * allows any)."
        )


class CorsPolicy:
    """Which web origins may read the API's answers: none unless configured; "*" any, without credentials."""

    def __init__(self, origins: Iterable[str]) -> None:
        entries = [entry.strip() for entry in origins if entry.strip()]
        self.any = ANY in entries
        self.origins = frozenset(entry.rstrip("/").lower() for entry in entries if entry != ANY)

    @property
    def enabled(self) -> bool:
        return self.any or bool(self.origins)

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """The Access-Control headers of an answer to a request from `origin`; none for an origin not allowed."""
        if not self.enabled:
            return {}
        headers = {"Vary": "Origin"}
        if origin and origin.rstrip("/").lower() in self.origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
        elif origin and self.any:
            headers["Access-Control-Allow-Origin"] = ANY
        return headers

    def preflight_headers(self, origin: str | None, requested_headers: str | None) -> dict[str, str] | None:
        """The headers of a 204 answering a preflight from `origin`; None when it is not allowed (the preflight
        then reaches the route like any OPTIONS request, and gets no CORS headers)."""
        headers = self.response_headers(origin)
        if "Access-Control-Allow-Origin" not in headers:
            return None
        headers["Access-Control-Allow-Methods"] = CORS_METHODS
        if requested_headers:
            headers["Access-Control-Allow-Headers"] = requested_headers
        headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE_SECONDS)
        return headers


@dataclass(frozen=True)
class EarlyAnswer:
    """An answer the application gives before any handler runs."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes = b""


class BrowserGuard:
    """The Host allow-list and the CORS policy of one application."""

    def __init__(self, hosts: HostAllowList, cors: CorsPolicy, api_prefix: str = "/api/") -> None:
        self.hosts = hosts
        self.cors = cors
        self.api_prefix = api_prefix

    @classmethod
    def from_settings(cls, settings: Settings, bound_host: str) -> BrowserGuard:
        return cls(HostAllowList.from_settings(settings, bound_host), CorsPolicy(settings.server_cors_allowed_origins))

    def early_answer(self, method: str, path: str, headers: Mapping[str, str]) -> EarlyAnswer | None:
        """A 400 for a host not allowed, a 204 for an allowed CORS preflight under the API; None otherwise."""
        host = headers.get("Host")
        if host and not self.hosts.allows(host):
            message = self.hosts.refusal(host)
            if path.startswith(self.api_prefix):
                return EarlyAnswer(400, "Bad Request", {"Content-Type": "application/json"}, _json(message))
            return EarlyAnswer(
                400, "Bad Request", {"Content-Type": "text/plain; charset=utf-8", **page_headers()}, message.encode()
            )
        if (
            method == "OPTIONS"
            and self.cors.enabled
            and path.startswith(self.api_prefix)
            and "Access-Control-Request-Method" in headers
        ):
            allowed = self.cors.preflight_headers(headers.get("Origin"), headers.get("Access-Control-Request-Headers"))
            if allowed is not None:
                return EarlyAnswer(204, "No Content", allowed)
        return None


def _json(message: str) -> bytes:
    return orjson.dumps({"detail": message})
