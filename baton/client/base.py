"""The HTTP core of the SDK client: where the API is, one request helper, and the status-to-exception table."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from baton.client.workspace_scope import workspace_prefix
from baton.errors import (
    BatonError,
    ConcurrencyLimitReached,
    Forbidden,
    LeaseExpired,
    NotAuthenticated,
    ObjectAlreadyExists,
    ObjectNotFound,
    ServiceUnavailable,
    SettingsError,
    ValidationFailed,
)
from baton.settings import Settings, load_settings

# Long enough for a filter over a large table on a busy server, short enough that a stuck one is reported.
DEFAULT_TIMEOUT_SECONDS = 30.0

JsonObject = dict[str, Any]


def default_api_url(settings: Settings | None = None) -> str:
    """BATON_API_URL when set, else the URL of a server started with this profile's host and port."""
    settings = settings or load_settings()
    if settings.api_url:
        return settings.api_url
    return f"http://{settings.server_api_host}:{settings.server_api_port}/api"


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The headers that present `api_key` to the server (none without a key)."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def configured_api_key(settings: Settings | None = None) -> str | None:
    """BATON_API_KEY (from the environment or the active profile, where `baton login` stores it), or None."""
    settings = settings or load_settings()
    return settings.api_key.get_secret_value() if settings.api_key is not None else None


def path_part(text: str) -> str:
    """`text` escaped to be one segment of a URL path, so a name with '/' or '?' cannot reach another endpoint."""
    return quote(text, safe="")


def _detail(response: httpx.Response) -> tuple[str, list[dict[str, Any]]] | None:
    """The message and field errors of a Baton error answer; None when the body is not Baton's JSON."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "detail" not in body:
        return None
    items = body.get("exception_detail")
    return str(body["detail"]), items if isinstance(items, list) else []


def raise_for_status(response: httpx.Response) -> None:
    """Nothing for a 2xx answer; otherwise the BatonError that matches the status, carrying the server's detail."""
    if response.is_success:
        return
    status = response.status_code
    detail = _detail(response)
    if status == 503:
        retry_after = response.headers.get("Retry-After", "1")
        message = detail[0] if detail else f"The server at {response.url} is unavailable (503)."
        raise ServiceUnavailable(message, int(retry_after) if retry_after.isdigit() else 1)
    if detail is None:
        raise BatonError(
            f"{response.url} answered {status} {response.reason_phrase} without a Baton error body; is "
            "BATON_API_URL the URL of the Baton API (it ends in /api)?"
        )
    message, items = detail
    if status == 401:
        raise NotAuthenticated(
            f"{message} (the server at {response.url.scheme}://{response.url.netloc.decode()} needs an API key: "
            "run `baton login`, or set BATON_API_KEY)"
        )
    if status == 404:
        raise ObjectNotFound(message)
    if status == 409:
        raise ObjectAlreadyExists(message)
    if status in (400, 422):
        raise ValidationFailed(message, items)
    if status == 403:
        raise Forbidden(message)
    if status == 410:
        raise LeaseExpired(message)
    if status == 423:
        retry_after = response.headers.get("Retry-After")
        raise ConcurrencyLimitReached(message, float(retry_after) if retry_after else None)
    raise BatonError(f"The server answered {status} {response.reason_phrase}: {message}")


class BaseClient:
    """A synchronous connection to one Baton API; use it as a context manager, or call `close()`."""

    def __init__(
        self,
        api_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        *,
        api_key: str | None = None,
        workspace: str | None = None,
    ) -> None:
        """`api_url`, `api_key` and `workspace` (a name or id) default to BATON_API_URL, BATON_API_KEY and
        BATON_WORKSPACE; `workspace=""` is the default workspace."""
        settings = load_settings() if api_url is None or api_key is None or workspace is None else None
        if workspace is None:
            workspace = settings.workspace if settings is not None else None
        #: The workspace every workspace-scoped request goes to, as given; None for the default one (at /api).
        self.workspace = (workspace or "").strip() or None
        self._workspace_prefix: str | None = None
        self.api_url = (api_url or default_api_url(settings)).rstrip("/")
        try:
            url = httpx.URL(self.api_url)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise SettingsError(
                f"The API URL {self.api_url!r} is not an http:// or https:// URL; set BATON_API_URL to one such as "
                "http://127.0.0.1:4200/api."
            )
        headers = auth_headers(api_key or configured_api_key(settings))
        self._http = httpx.Client(base_url=self.api_url + "/", timeout=timeout, headers=headers)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        global_route: bool = False,
    ) -> Any:
        """The decoded JSON answer (None for 204); a BatonError for an error status or an unreachable server.

        `path` is relative to /api. It is sent under the client's workspace (`/api/accounts/{account}/workspaces/
        {id}/...`) unless `global_route`: users, roles, the audit log and the workspaces are served at /api only."""
        target = path.lstrip("/")
        if not global_route and self.workspace is not None:
            target = self.workspace_prefix() + target
        try:
            response = self._http.request(method, target, json=json, params=params)
        except httpx.ConnectError:
            raise ServiceUnavailable(
                f"Cannot reach the Baton API at {self.api_url}. Start a server with `baton server start`, "
                "or set BATON_API_URL to the URL of a running one."
            ) from None
        except httpx.TimeoutException:
            raise ServiceUnavailable(f"The Baton API at {self.api_url} did not answer in time.") from None
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"Lost the connection to the Baton API at {self.api_url}: {exc}.") from None
        raise_for_status(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BatonError(
                f"{self.api_url} answered with something other than JSON; is BATON_API_URL the Baton API "
                "(it ends in /api)?"
            ) from None

    def workspace_prefix(self) -> str:
        """`accounts/{account}/workspaces/{id}/` of the client's workspace, looked up on the first request that needs
        it; ObjectNotFound for a workspace that does not exist."""
        if self._workspace_prefix is None:
            assert self.workspace is not None
            self._workspace_prefix = workspace_prefix(self.request, self.workspace)
        return self._workspace_prefix
