"""The websocket conversations Prefect's server holds with its clients: the opening handshake every `prefect` socket
shares, and the subscription sockets (`/events/out`, `/logs/out`) built on it.

1. With the subprotocol `prefect`, the client first sends `{"type": "auth", "token": ...}` and the server answers
   `{"type": "auth_success"}`. With authentication on the token must be an API key or 'name:password' (unless
   the upgrade request carried a credential); with it off any token, null included, is accepted. Without the
   subprotocol (legacy clients) there is no auth step, unless the socket requires the subprotocol (the worker
   channel), which closes it with 1008 as Prefect does.
2. A subscription socket then waits for `{"type": "filter", "filter": {...}, ...}` and streams what matches until the
   client leaves.

A wrong or unreadable first message closes the socket with 1008 (policy violation), a wrong or invalid filter message
with 1002 (protocol error), as Prefect does; a subscriber that falls too far behind is closed with 1013 (try again
later), after which the official clients reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, ClassVar

import orjson
import pydantic
import tornado.websocket

from baton.errors import BatonError, ServiceUnavailable, http_answer
from baton.server.api.base import dumps, request_cookies
from baton.server.api.workspace_access import bind_socket_to_workspace
from baton.server.auth.access import SESSION_COOKIE
from baton.server.auth.principal import ANONYMOUS, Principal
from baton.server.context import ServerContext
from baton.server.live_stream import SubscriberTooSlow
from baton.server.permissions import PermissionSpec, route_permission

logger = logging.getLogger("baton.api.sockets")

SUBPROTOCOL = "prefect"
# A close frame's reason may hold at most 123 bytes.
MAX_CLOSE_REASON_BYTES = 123

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013


class PrefectSocket(tornado.websocket.WebSocketHandler):
    """A websocket that opens with Prefect's auth handshake; subclasses handle the messages after it."""

    context: ServerContext
    #: Refuse clients that do not offer the `prefect` subprotocol (Prefect's `require_prefect_subprotocol`).
    requires_subprotocol: ClassVar[bool] = False
    #: The close reason for a failed handshake, when the protocol names one (the worker channel's).
    handshake_failed_reason: ClassVar[str | None] = None

    #: The permission the socket needs (see baton.server.permissions).
    permission: ClassVar[PermissionSpec | None] = None

    def initialize(self, context: ServerContext) -> None:
        self.context = context
        self.authenticated = False
        #: Who is connected: from the upgrade request's credential, else from the auth message's token.
        self.principal: Principal | None = None if context.access.enabled else ANONYMOUS

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Before the upgrade: a credential on the request itself (an Authorization header, the UI's session cookie)
        is checked here, so a bad one is a plain 401 or 403; without one the auth message must carry it. Under a
        workspace's URL the credential must be on the upgrade request, and the socket serves that workspace."""
        if not await bind_socket_to_workspace(self, route_permission(type(self), "GET")):
            return
        access = self.context.access
        if access.enabled and self.context.workspace_id is None:
            try:
                self.principal = await access.identify(
                    self.request.headers, request_cookies(self.request), required=False
                )
                if self.principal is not None:
                    access.authorize(self.principal, route_permission(type(self), "GET"))
            except BatonError as error:
                answer = http_answer(error)
                self.set_status(answer.status)
                self.finish(orjson.dumps({"detail": answer.message}))
                return
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        """A page from another origin may connect with an API credential of its own, never with the UI's cookie."""
        if "Cookie" in self.request.headers and SESSION_COOKIE in request_cookies(self.request):
            return super().check_origin(origin)
        return True

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        if self.selected_subprotocol == SUBPROTOCOL:
            return
        if self.requires_subprotocol:
            reason = self.handshake_failed_reason or "The 'prefect' subprotocol is required."
            self.refuse(CLOSE_POLICY_VIOLATION, reason)
            return
        if self.principal is None:
            # A legacy client (no subprotocol, so no auth message) must authenticate on the upgrade request.
            self.refuse(CLOSE_POLICY_VIOLATION, "Authentication required: send an API key in the Authorization header.")
            return
        self.on_authenticated()

    def on_message(self, message: str | bytes) -> Any:
        if not self.authenticated:
            return self._on_auth(message)
        return self.on_client_message(message)

    async def _on_auth(self, message: str | bytes) -> None:
        data = json_object(message)
        if data is None or data.get("type") != "auth":
            self.refuse(
                CLOSE_POLICY_VIOLATION,
                self.handshake_failed_reason or 'Expected an auth message first: {"type": "auth", "token": ...}.',
            )
            return
        if self.principal is None:
            access = self.context.access
            try:
                self.principal = await access.token_principal(data.get("token"))
                access.authorize(self.principal, route_permission(type(self), "GET"))
            except BatonError as error:
                self.write_message(orjson.dumps({"type": "auth_failure", "reason": error.message}).decode())
                self.refuse(CLOSE_POLICY_VIOLATION, self.handshake_failed_reason or error.message)
                return
        self.write_message(orjson.dumps({"type": "auth_success"}).decode())
        self.on_authenticated()

    def on_authenticated(self) -> None:
        """The handshake is done (or there was none): from now on messages go to `on_client_message`."""
        self.authenticated = True

    def on_client_message(self, message: str | bytes) -> Any:
        """A message after the handshake; ignored unless a subclass says otherwise."""
        return None

    def refuse(self, code: int, reason: str) -> None:
        """Close with `code` and `reason`, cut to what a close frame may carry."""
        encoded = reason.encode()
        if len(encoded) > MAX_CLOSE_REASON_BYTES:
            reason = encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."
        self.close(code, reason)


class SubscriptionSocket(PrefectSocket):
    """After the handshake, one filter message, then a stream of what matches it until the client leaves."""

    #: The object each streamed message carries: `{"type": kind, kind: ...}`.
    kind: ClassVar[str]

    def initialize(self, context: ServerContext) -> None:
        super().initialize(context)
        self._pump: asyncio.Task[None] | None = None

    def parse_filter(self, data: dict[str, Any]) -> Any:
        """The filter of a filter message; raises pydantic.ValidationError when it is invalid."""
        raise NotImplementedError

    def stream(self, spec: Any, data: dict[str, Any]) -> Coroutine[Any, Any, None]:
        """Send what matches `spec` (the parsed filter of the message `data`) until the client leaves."""
        raise NotImplementedError

    def on_client_message(self, message: str | bytes) -> None:
        if self._pump is not None:
            return  # anything a client sends once it is streaming is ignored, as Prefect does
        data = json_object(message)
        if data is None or data.get("type") != "filter":
            self.refuse(CLOSE_PROTOCOL_ERROR, 'Expected a filter message: {"type": "filter", "filter": {...}}.')
            return
        try:
            spec = self.parse_filter(data)
        except pydantic.ValidationError as exc:
            self.refuse(CLOSE_PROTOCOL_ERROR, f"Invalid filter: {first_error(exc)}")
            return
        self._pump = asyncio.create_task(self._run(spec, data))

    def on_close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()

    async def _run(self, spec: Any, data: dict[str, Any]) -> None:
        try:
            await self.stream(spec, data)
        except tornado.websocket.WebSocketClosedError:
            pass
        except SubscriberTooSlow:
            self.refuse(CLOSE_TRY_AGAIN_LATER, f"Too slow to keep up with the {self.kind} stream; reconnect.")
        except ServiceUnavailable:
            self.refuse(CLOSE_TRY_AGAIN_LATER, "The database is busy or unreachable; reconnect shortly.")
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("Streaming %ss to a websocket subscriber failed.", self.kind)
            self.refuse(CLOSE_INTERNAL_ERROR, "Internal server error.")

    async def send(self, item: Any) -> None:
        """Send one item; awaiting the write makes a slow client slow its subscription down, until it overflows."""
        await self.write_message(dumps({"type": self.kind, self.kind: item}).decode())


def json_object(message: str | bytes) -> dict[str, Any] | None:
    """`message` as a JSON object; None when it is not one."""
    try:
        data = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def first_error(exc: pydantic.ValidationError) -> str:
    """The first of a validation error's complaints, with where it is."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
