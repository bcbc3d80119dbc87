"""`ApiHandler`: JSON in, JSON out, errors included (their status codes from `baton.errors.http_answer`)."""

from __future__ import annotations

import logging
import urllib.parse
import uuid
from collections.abc import Mapping
from http.client import responses
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import orjson
import pydantic
import tornado.httputil
import tornado.web

from baton.errors import (
    BatonError,
    ObjectNotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
    http_answer,
)
from baton.server.api.workspace_access import admit_to_workspace
from baton.server.auth.audit_log import UNAUDITED_PERMISSIONS, request_action
from baton.server.auth.principal import ANONYMOUS, Principal
from baton.server.context import ServerContext
from baton.server.database.errors import is_data_error, is_integrity_error
from baton.server.permissions import PUBLIC, SIGNED_IN, PermissionSpec, route_permission
from baton.server.schemas.requests import effective_limit
from baton.server.workspaces import WorkspaceReference, workspace_of

logger = logging.getLogger("baton.api")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


def dumps(value: Any) -> bytes:
    """Encode a response body: pydantic models in JSON mode, datetimes ISO-8601, UUIDs as strings."""
    if isinstance(value, pydantic.BaseModel):
        return value.__pydantic_serializer__.to_json(value, by_alias=True)
    if isinstance(value, list) and value and isinstance(value[0], pydantic.BaseModel):
        return b"[" + b",".join(item.__pydantic_serializer__.to_json(item, by_alias=True) for item in value) + b"]"
    # Row mappings key their columns by SQLAlchemy's `quoted_name`, a str subclass that orjson only takes with
    # OPT_NON_STR_KEYS.
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID subclass, which orjson does not recognise
        return str(value)
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"Cannot encode {type(value).__name__} as JSON")


def validation_detail(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors without the parts that are noise for an API user (URLs, the whole input)."""
    detail = []
    for error in exc.errors(include_url=False):
        item = {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
        if "input" in error and not isinstance(error["input"], dict | list):
            item["input"] = _shortened(error["input"])
        detail.append(item)
    return detail


# The longest URL the API reads (path and query); a longer one is a 414. Tornado's header limit (server/serve.py)
# sits well above it, so that such a URL gets this answer instead of a closed connection.
MAX_URL_CHARS = 32 * 1024

# An input echoed back in a 422 is cut to this many characters (a rejected value may be megabytes).
ECHOED_INPUT_CHARS = 200


# RFC 5987 attr-char beyond letters and digits: what may stand unencoded in `filename*=UTF-8''...`.
_ATTR_CHARS = "!#$&+-.^_`|~"


def attachment_disposition(filename: str) -> str:
    """A Content-Disposition header for a download named `filename`, whatever characters it holds (RFC 6266):
    an ASCII `filename` with the unsafe characters replaced by `_`, and the exact name as `filename*` (RFC 5987)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    encoded = urllib.parse.quote(filename, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def request_cookies(request: tornado.httputil.HTTPServerRequest) -> dict[str, str]:
    """The request's cookies by name (empty without a Cookie header, the usual case for API clients)."""
    if "Cookie" not in request.headers:
        return {}
    return {name: morsel.value for name, morsel in request.cookies.items()}


def _is_json_media_type(content_type: str) -> bool:
    """Whether a Content-Type header names JSON: application/json or application/<anything>+json."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def require_json_body(request: tornado.httputil.HTTPServerRequest) -> None:
    """A 415 for a request whose non-empty body is not declared as JSON, whatever its route does with it.

    A web page may send text/plain, form and multipart bodies to any site without a CORS preflight; refusing them
    (and bodies with no Content-Type) leaves such a page no way to make a change through the API.
    """
    body = request.body
    if not body or not body.strip():
        return
    content_type = request.headers.get("Content-Type")
    if content_type is None:
        raise tornado.web.HTTPError(
            415, log_message="The request body must be JSON: send it with Content-Type: application/json."
        )
    if not _is_json_media_type(content_type):
        raise tornado.web.HTTPError(
            415,
            log_message="The request body must be JSON (Content-Type: application/json), not "
            f"{content_type.split(';')[0].strip()[:100]}.",
        )


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _shortened(value: Any) -> Any:
    if isinstance(value, str) and len(value) > ECHOED_INPUT_CHARS:
        return value[:ECHOED_INPUT_CHARS] + "..."
    return value


class ApiHandler(tornado.web.RequestHandler):
    """Base of every API handler: parses JSON bodies into schemas and writes JSON, errors included."""

    context: ServerContext

    def initialize(self, context: ServerContext, workspace_scoped: bool = True) -> None:
        self.context = context
        #: Whether the route is also served under a workspace's URL (see baton.server.app.GLOBAL_API_MODULES).
        self.workspace_scoped = workspace_scoped

    @property
    def database(self) -> Any:
        return self.context.database

    def effective_limit(self, requested: int | None) -> int:
        """The page size of a filter request: the server default when unset, a 422 above it."""
        return effective_limit(requested, self.context.settings.server_api_default_limit)

    #: The permission each HTTP method of the route needs (see baton.server.permissions); every handler declares it.
    permission: ClassVar[PermissionSpec | None] = None
    #: Who is calling (set by `prepare`; anonymous with authentication off).
    principal: Principal = ANONYMOUS
    #: What a handler may tell the audit log about the change it made (the defaults come from the route).
    audit_action: str | None = None
    #: The resource kind of a SIGNED_IN route's audit entry (other routes take it from their permission).
    audit_resource_kind: str | None = None
    audit_resource_id: str | None = None
    audit_resource_name: str | None = None
    audit_detail: dict[str, Any] | None = None

    async def prepare(self) -> None:
        self.context.request_started()
        self._counted = True
        if len(self.request.uri or "") > MAX_URL_CHARS:
            raise tornado.web.HTTPError(414, log_message=f"The URL is longer than {MAX_URL_CHARS} characters.")
        if "%00" in self.request.uri:
            raise ValidationFailed("The URL may not contain NUL (%00) characters.")
        reference = workspace_of(self.request)
        try:
            if reference is None:
                self.principal = await self._admit(self.route_permission)
            else:
                await self._admit_to_workspace(reference)
        except PermissionDenied as denied:
            if isinstance(denied.principal, Principal):
                self.principal = denied.principal
            raise
        # After admission: a workspace that does not exist is a 404 whatever the body, and a caller who may not call
        # the route learns nothing about what it would accept.
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            require_json_body(self.request)

    async def _admit(self, permission: str | None) -> Principal:
        return await self.context.access.admit(
            self.request.method or "GET",
            permission,
            self.request.headers,
            request_cookies(self.request),
            host=self.request.host,
        )

    async def _admit_to_workspace(self, reference: WorkspaceReference) -> None:
        """Admit a request made under a workspace's URL and bind the handler's context to that workspace. A global
        route there is a 404 too, told only to a caller with a role in the workspace."""
        permission = self.route_permission if self.workspace_scoped else SIGNED_IN
        self.context, self.principal = await admit_to_workspace(self.context, reference, permission, self._admit)
        if not self.workspace_scoped:
            raise ObjectNotFound(
                f"No API endpoint at {self.request.method} {self.request.path} in a workspace: it is served at /api."
            )

    @property
    def route_permission(self) -> str | None:
        return route_permission(type(self), self.request.method or "GET")

    def on_finish(self) -> None:
        if getattr(self, "_counted", False):
            self.context.request_finished()
            self._counted = False
        self._audit_request()

    def audit_also(
        self, action: str, *, resource_kind: str, resource_id: str | None, resource_name: str | None
    ) -> None:
        """One more audit entry for a request that made several changes (a PATCH that sets a role and disables)."""
        self.context.audit_log.record(
            self.principal,
            action,
            outcome="success",
            status_code=200,
            resource_kind=resource_kind,
            resource_id=resource_id,
            resource_name=resource_name,
            address=self.request.remote_ip,
            workspace_id=self.context.workspace_id,
        )

    def _audit_request(self) -> None:
        """Record a change in the audit log (see baton.server.auth.audit_log for what counts as one)."""
        method = self.request.method or "GET"
        permission = self.route_permission
        if method in ("GET", "HEAD", "OPTIONS") or permission is None:
            return
        if ":" in permission:
            resource, verb = permission.split(":", 1)
            if verb == "read" or permission in UNAUDITED_PERMISSIONS:
                return
        elif self.audit_action is not None and self.audit_resource_kind is not None:
            # A route open to every signed-in caller (change my password, my keys) audits what it names itself.
            resource = self.audit_resource_kind
        else:
            return
        status = self.get_status()
        if status in (401, 404, 405, 414, 415):
            return
        kwargs = {key: value for key, value in (self.path_kwargs or {}).items() if isinstance(value, str)}
        id_key = next((key for key in kwargs if key.endswith("id")), None)
        name_key = next((key for key in kwargs if not key.endswith("id")), None)
        resource_id = kwargs.get(id_key) if id_key else None
        resource_name = kwargs.get(name_key) if name_key else None
        # The other path parameters say which part was changed (the queue of `work_pool.delete_queue`).
        detail = {key: value for key, value in kwargs.items() if key not in (id_key, name_key)}
        self.context.audit_log.record(
            self.principal,
            self.audit_action or request_action(resource, method, self.request.path, kwargs),
            outcome="success" if status < 400 else ("denied" if status == 403 else "failure"),
            status_code=status,
            resource_kind=resource,
            resource_id=self.audit_resource_id or resource_id,
            resource_name=self.audit_resource_name or resource_name,
            address=self.request.remote_ip,
            detail=self.audit_detail if self.audit_detail is not None else detail,
            workspace_id=self.context.workspace_id,
        )

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("X-Content-Type-Options", "nosniff")
        guard = getattr(self.application, "browser_guard", None)
        if guard is not None:
            for name, value in guard.cors.response_headers(self.request.headers.get("Origin")).items():
                self.set_header(name, value)

    def check_xsrf_cookie(self) -> None:
        """Tornado's own XSRF check is off: a write that rides on the UI's session cookie must carry the session's CSRF
        token or a same-origin Origin, which `AccessControl.admit` checks for every method but GET/HEAD/OPTIONS."""

    # --- input -------------------------------------------------------------------------------------------------

    def json_body(self) -> Any:
        """The request body as JSON (an empty body is null); malformed JSON is a 400 with the parser's reason, a body
        not declared as JSON a 415."""
        body = self.request.body
        if not body or not body.strip():
            return None
        require_json_body(self.request)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise tornado.web.HTTPError(
                400, reason="Malformed JSON", log_message=f"Malformed JSON body: {exc}"
            ) from exc
        if b"\\u0000" in body and _contains_nul(data):
            # PostgreSQL cannot store NUL in text; refuse it on every database so that both behave alike.
            raise ValidationFailed("Text in the request may not contain NUL (\\u0000) characters.")
        return data

    def parse_body(self, model: type[ModelT], *, default_empty: bool = False) -> ModelT:
        """The body validated against `model`; a mismatch is a 422 listing each bad field and why."""
        data = self.json_body()
        if data is None and default_empty:
            data = {}
        return self.validate(model, data)

    def validate(self, model: type[ModelT], data: Any, context: dict[str, Any] | None = None) -> ModelT:
        try:
            return model.model_validate(data, context=context)
        except pydantic.ValidationError as exc:
            raise ValidationFailed("Invalid request received.", validation_detail(exc)) from exc

    def path_uuid(self, value: str, name: str = "id") -> uuid.UUID:
        """A UUID taken from the path (or query); anything else is a 422 naming the parameter."""
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise ValidationFailed(
                "Invalid request received.",
                [
                    {
                        "loc": ["path", name],
                        "msg": f"Input should be a valid UUID, got '{value}'",
                        "type": "uuid_parsing",
                    }
                ],
            ) from exc

    def query_uuid(self, name: str) -> uuid.UUID:
        """A required UUID query parameter; missing or malformed is a 422 naming it."""
        raw = self.get_query_argument(name, None)
        if raw is None:
            raise ValidationFailed(
                "Invalid request received.",
                [{"loc": ["query", name], "msg": "Field required", "type": "missing"}],
            )
        return self.path_uuid(raw, name)

    def query_bool(self, name: str, default: bool = False) -> bool:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise ValidationFailed(
            "Invalid request received.",
            [{"loc": ["query", name], "msg": f"Input should be a valid boolean, got '{raw}'", "type": "bool_parsing"}],
        )

    # --- output ------------------------------------------------------------------------------------------------

    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dumps(value))

    def write_no_content(self, status: int = 204) -> None:
        self.set_status(status)
        self.clear_header("Content-Type")
        self.finish()

    # --- errors ------------------------------------------------------------------------------------------------

    def allowed_methods(self) -> list[str]:
        """The HTTP methods this handler answers (for the Allow header of a 405): those it defines itself."""
        return [
            method
            for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
            if getattr(type(self), method.lower()) is not getattr(tornado.web.RequestHandler, method.lower())
        ]

    def log_exception(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Errors answered on purpose are not logged as crashes; a 5xx answer to one is a warning."""
        if isinstance(value, BatonError):
            answer = http_answer(value)
            if answer.status >= 500:
                logger.warning(
                    "%s %s answered %d: %s", self.request.method, self.request.path, answer.status, answer.message
                )
            return
        if _error_body(value) is not None:
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A JSON body for every error: the answer `_error_body` gives the exception, or a generic one."""
        exc_info = kwargs.get("exc_info")
        answer = _error_body(exc_info[1] if exc_info else None)
        self.set_header("Content-Type", "application/json")
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        if answer is not None:
            status, body, headers = answer
            self.set_status(status)
            for name, value in headers.items():
                self.set_header(name, value)
            self.finish(orjson.dumps(body))
        elif status_code >= 500:
            self.finish(orjson.dumps({"exception_message": "Internal Server Error"}))
        else:
            self.finish(orjson.dumps({"detail": kwargs.get("reason") or responses.get(status_code, "Unknown")}))


def _error_body(error: BaseException | None) -> tuple[int, dict[str, Any], Mapping[str, str]] | None:
    """The status, JSON body and headers `error` is answered with; None for an error the server did not expect."""
    if error is None:
        return None
    if isinstance(error, BatonError):
        return _baton_error_body(error)
    if is_data_error(error):
        # A value the database cannot store (on PostgreSQL, text containing NUL characters, say).
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        return 422, {"detail": f"The database refused a value in the request: {reason}"}, {}
    if is_integrity_error(error):
        return 409, {"detail": "The object conflicts with an existing one (a unique key is taken)."}, {}
    if isinstance(error, tornado.web.HTTPError) and error.status_code < 500:
        message = error.log_message or error.reason or "Bad request."
        return error.status_code, {"detail": message % error.args if error.args else message}, {}
    return None


def _baton_error_body(error: BatonError) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    answer = http_answer(error)
    body: dict[str, Any]
    if isinstance(error, ValidationFailed):
        body = {"exception_message": error.message, "exception_detail": error.detail}
        if error.detail and error.message == "Invalid request received.":
            body["detail"] = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in error.detail)
        else:
            body["detail"] = error.message
    elif isinstance(error, ServiceUnavailable):
        body = {"exception_message": "Service Unavailable", "detail": error.message}
    else:
        body = {"detail": error.message}
    return answer.status, body, answer.headers


class NotFoundApiHandler(ApiHandler):
    """Any path under /api that no route matches."""

    permission = PUBLIC

    async def prepare(self) -> None:
        await super().prepare()
        raise ObjectNotFound(f"No API endpoint at {self.request.method} {self.request.path}.")
