"""Events in: the websocket `/events/in` (how the Prefect 3 client reports task runs) and `POST /events` for batches.

Both validate and queue; neither touches the database. On the websocket a bad event is dropped with a warning in the
server log and the socket stays open: the Prefect client reads nothing from this socket after the handshake, so a
reply it never reads would fill its receive buffer and stall it. `POST /events` answers 422 with the reasons instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable
from typing import Any

import orjson
import pydantic
import tornado.websocket
from tornado.websocket import WebSocketProtocol13

from baton.errors import BatonError, ValidationFailed, http_answer
from baton.queue.messages import QueuedEvent
from baton.server.api.base import ApiHandler, request_cookies, validation_detail
from baton.server.api.openapi import endpoint
from baton.server.api.workspace_access import bind_socket_to_workspace
from baton.server.auth.access import SESSION_COOKIE
from baton.server.auth.principal import ANONYMOUS, Principal
from baton.server.buffered_websocket import buffered_protocol
from baton.server.context import ServerContext
from baton.server.database.types import utcnow
from baton.server.schemas.events import (
    MAX_EVENT_BYTES,
    MAX_EVENT_NAME_LENGTH,
    MAX_LABELS_PER_RESOURCE,
    MAX_RELATED_RESOURCES,
    RESOURCE_ID,
    RESOURCE_ROLE,
    Event,
)

logger = logging.getLogger("baton.events")

SUBPROTOCOL = "prefect"
# Frames beyond this are refused by Tornado itself (close code 1009); smaller ones over MAX_EVENT_BYTES are dropped.
MAX_FRAME_BYTES = 2 * MAX_EVENT_BYTES
# Close codes: 1008 policy violation (a bad handshake), as Prefect uses them.
CLOSE_POLICY_VIOLATION = 1008

_EVENTS = pydantic.TypeAdapter(list[Event])


def received_event(data: dict[str, Any], event: Event, received: str) -> dict[str, Any]:
    """The queued form of `data`, the JSON that validated as `event`: its id and times in canonical form (a number
    validates as a time but the recorder reads ISO-8601), stamped with when the server received it. Reusing the
    parsed JSON instead of dumping the model makes each event cheaper on the socket."""
    data["id"] = str(event.id)
    data["occurred"] = event.occurred.isoformat()
    data["follows"] = str(event.follows) if event.follows else None
    data["related"] = event.related
    data["payload"] = event.payload
    data["received"] = received
    return data


# An ISO-8601 time with a zone, as clients write `occurred`: `fromisoformat` and pydantic read it the same way. Other
# spellings pydantic accepts (numbers, no zone, odd separators) take the pydantic path.
_ZONED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
_UTC_ZONES = ("Z", "+00:00")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The same in any case. Not `uuid.UUID`: it also takes what the schema refuses (a leading space, misplaced hyphens).
_HYPHENATED_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UUID_LENGTH = 36


def _plain_uuid(value: Any) -> str | None:
    """`value` in canonical form if it is a UUID in the 36-character form (building a `uuid.UUID` is the slow way)."""
    if type(value) is not str or len(value) != _UUID_LENGTH:
        return None
    if _CANONICAL_UUID.fullmatch(value):
        return value
    return value.lower() if _HYPHENATED_UUID.fullmatch(value) else None


def _plain_time(value: Any) -> str | None:
    """`value` as `datetime.isoformat` writes it in UTC, if it is an ISO-8601 time with a zone."""
    if type(value) is not str:
        return None
    match = _ZONED_TIME.fullmatch(value)
    if match is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    fraction, zone = match.groups()
    if zone in _UTC_ZONES and (fraction is None or (len(fraction) == 7 and fraction != ".000000")):
        return f"{value[:19]}{fraction or ''}+00:00"  # what isoformat would write, without formatting it
    return moment.astimezone(dt.UTC).isoformat()


def _plain_labels(labels: Any, *, role: bool) -> bool:
    if type(labels) is not dict or len(labels) > MAX_LABELS_PER_RESOURCE or not labels.get(RESOURCE_ID):
        return False
    if role and not labels.get(RESOURCE_ROLE):
        return False
    for value in labels.values():
        if type(value) is not str:
            return False
    return True


def plainly_valid_event(data: Any, received: str) -> dict[str, Any] | None:
    """The queued form of `data` (as `received_event` makes it) when `data` is an event in the plain shape every
    Prefect client sends; None when it is anything else, valid or not, so that `Event` decides and names the reason.

    It accepts only what `Event` accepts, and costs much less than validating the model and stamping the result, on
    the frame of every task-run event the Prefect client sends."""
    if type(data) is not dict:
        return None
    event_id = _plain_uuid(data.get("id"))
    occurred = _plain_time(data.get("occurred"))
    name = data.get("event")
    if (
        event_id is None
        or occurred is None
        or type(name) is not str
        or not 0 < len(name) <= MAX_EVENT_NAME_LENGTH
        or data.get("received") is not None
        or not _plain_labels(data.get("resource"), role=False)
    ):
        return None
    related = data.get("related", [])
    if type(related) is not list or len(related) > MAX_RELATED_RESOURCES:
        return None
    for labels in related:
        if not _plain_labels(labels, role=True):
            return None
    payload = data.get("payload", {})
    if type(payload) is not dict:
        return None
    follows = data.get("follows")
    if follows is not None:
        follows = _plain_uuid(follows)
        if follows is None or follows == event_id:
            return None
    data["id"] = event_id
    data["occurred"] = occurred
    data["follows"] = follows
    data["related"] = related
    data["payload"] = payload
    data["received"] = received
    return data


# The fields `plainly_valid_event` sets; those it changes or adds are written again at the end of the frame's text.
_QUEUED_FIELDS = ("id", "occurred", "follows", "related", "payload")
_MISSING = object()
_JSON_WHITESPACE = " \t\n\r"


def plainly_valid_event_text(text: str, data: Any, received: str) -> orjson.Fragment | None:
    """The queued form of a plain event (what `plainly_valid_event` makes of `data`) as JSON text, `text` being the
    frame `data` was parsed from; None when `data` is not plain.

    The frame's text is kept and the fields `plainly_valid_event` changes or adds (`received` always) are appended to
    it. In a JSON object with a repeated key the last one counts, for orjson, Python's json and PostgreSQL's jsonb
    alike, so the text decodes to the same dict. Encoding the events again, batch by batch, was a noticeable share of
    the API process's CPU under load."""
    if type(data) is not dict:
        return None
    before = {name: data.get(name, _MISSING) for name in _QUEUED_FIELDS}
    queued = plainly_valid_event(data, received)
    if queued is None:
        return None
    appended = {name: queued[name] for name, value in before.items() if value is _MISSING or value != queued[name]}
    appended["received"] = received
    # A JSON object ends with "}" and has at least one member here (an `id`), so the fields go in before the brace.
    head = text.rstrip(_JSON_WHITESPACE)[:-1]
    return orjson.Fragment(f"{head},{orjson.dumps(appended).decode()[1:]}")


def _reason(exc: pydantic.ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "event"
    return f"{where}: {first['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")


class EventsInSocket(tornado.websocket.WebSocketHandler):
    """One client's stream of events."""

    permission = "event:write"

    def initialize(self, context: ServerContext) -> None:
        self.context = context
        self.awaiting_auth = False
        #: Who is sending: from the upgrade request's credential, else from the auth message's token.
        self.principal: Principal | None = None if context.access.enabled else ANONYMOUS
        self.accepted = 0
        self.rejected = 0

    @property
    def max_message_size(self) -> int:
        return MAX_FRAME_BYTES

    def get_websocket_protocol(self) -> WebSocketProtocol13 | None:
        return buffered_protocol(self, before_pong=self.context.confirm_events)

    async def get(self, *args: Any, **kwargs: Any) -> None:
        offered = [name.strip() for name in self.request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        offered = [name for name in offered if name]
        if offered and SUBPROTOCOL not in offered:
            self.set_status(400)
            self.set_header("Content-Type", "application/json")
            self.finish(
                orjson.dumps(
                    {
                        "detail": f"Unsupported websocket subprotocol {', '.join(offered)}: this socket speaks "
                        f"'{SUBPROTOCOL}' (or no subprotocol, the legacy mode)."
                    }
                )
            )
            return
        if not await bind_socket_to_workspace(self, self.permission):
            return
        access = self.context.access
        if access.enabled and self.context.workspace_id is None:
            try:
                self.principal = await access.identify(
                    self.request.headers, request_cookies(self.request), required=False
                )
                if self.principal is not None:
                    access.authorize(self.principal, self.permission)
            except BatonError as error:
                answer = http_answer(error)
                self.set_status(answer.status)
                self.set_header("Content-Type", "application/json")
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
        # With the `prefect` subprotocol the first message is the auth handshake; without it (legacy) events come
        # straight away. With authentication off every token is accepted.
        self.awaiting_auth = self.selected_subprotocol == SUBPROTOCOL
        self.set_nodelay(True)
        if not self.awaiting_auth and self.principal is None:
            self.close(CLOSE_POLICY_VIOLATION, "Authentication required: send an API key in the Authorization header.")

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Not a coroutine: Tornado would make a task of each frame. An awaitable is returned only when the publisher
        is full, and Tornado stops reading the socket until it is done (back-pressure)."""
        if self.awaiting_auth:
            return self._authenticate(message)
        if len(message) > MAX_EVENT_BYTES:
            self._reject(f"the event is {len(message)} bytes; at most {MAX_EVENT_BYTES} are accepted")
            return None
        try:
            data = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            self._reject(f"not JSON: {exc}")
            return None
        received = self.context.received_clock.now()
        queued: QueuedEvent | None
        if type(message) is str:
            queued = plainly_valid_event_text(message, data, received)
        else:
            queued = plainly_valid_event(data, received)
        if queued is None:
            try:
                event = Event.model_validate(data)
            except pydantic.ValidationError as exc:
                self._reject(_reason(exc))
                return None
            queued = received_event(data, event, received)
        self.accepted += 1
        return self.context.offer_events([queued])

    async def _authenticate(self, message: str | bytes) -> None:
        try:
            hello = orjson.loads(message)
        except orjson.JSONDecodeError:
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "auth" or "token" not in hello:
            self.close(CLOSE_POLICY_VIOLATION, 'Expected {"type": "auth", "token": ...} as the first message.')
            return
        if self.principal is None:
            access = self.context.access
            try:
                self.principal = await access.token_principal(hello.get("token"))
                access.authorize(self.principal, self.permission)
            except BatonError as error:
                self.write_message(orjson.dumps({"type": "auth_failure", "reason": error.message}).decode())
                self.close(CLOSE_POLICY_VIOLATION, error.message[:120])
                return
        self.awaiting_auth = False
        self.write_message(orjson.dumps({"type": "auth_success"}).decode())

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        logger.warning("Dropped an event from %s: %s", self.request.remote_ip, reason)

    def on_close(self) -> None:
        if self.rejected:
            logger.info(
                "Events socket from %s closed: %d events accepted, %d dropped",
                self.request.remote_ip,
                self.accepted,
                self.rejected,
            )


class EventsHandler(ApiHandler):
    permission = "event:write"

    @endpoint("Record a batch of events (204 once they are queued)", body=list[Event], status=204)
    async def post(self) -> None:
        body = self.json_body()
        try:
            events = _EVENTS.validate_python(body)
        except pydantic.ValidationError as exc:
            raise ValidationFailed(f"Invalid event at {_reason(exc)}", validation_detail(exc)) from exc
        received = utcnow().isoformat()
        for data, event in zip(body, events, strict=True):
            if len(orjson.dumps(data)) > MAX_EVENT_BYTES:
                raise ValidationFailed(f"Event {event.id} is larger than {MAX_EVENT_BYTES} bytes.")
        queued = [received_event(data, event, received) for data, event in zip(body, events, strict=True)]
        await self.context.publish_events(queued, wait=True)
        self.write_no_content()


routes = [
    (r"/events/in", EventsInSocket),
    (r"/events", EventsHandler),
]
