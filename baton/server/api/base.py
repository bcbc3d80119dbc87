"""`ApiHandler`: JSON in, JSON out, and the one place where Baton's errors become HTTP status codes."""

from __future__ import annotations

import logging
import uuid
from typing import Any, TypeVar

import orjson
import pydantic
import tornado.web

from baton.errors import (
    BatonError,
    ConcurrencyLimitReached,
    Forbidden,
    InvalidTransition,
    LeaseExpired,
    ObjectAlreadyExists,
    ObjectNotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from baton.server.context import ServerContext
from baton.server.database.errors import is_data_error, is_integrity_error
from baton.server.schemas.requests import effective_limit

logger = logging.getLogger("baton.api")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

# Exception class -> HTTP status; the only translation table in Baton.
STATUS_FOR_ERROR: dict[type[BatonError], int] = {
    Forbidden: 403,
    ObjectNotFound: 404,
    ObjectAlreadyExists: 409,
    InvalidTransition: 409,
    ValidationFailed: 422,
    LeaseExpired: 410,
    ConcurrencyLimitReached: 423,
    ServiceUnavailable: 503,
}


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


# An input echoed back in a 422 is cut to this many characters (a rejected value may be megabytes).
ECHOED_INPUT_CHARS = 200


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

    def initialize(self, context: ServerContext) -> None:
        self.context = context

    @property
    def database(self) -> Any:
        return self.context.database

    def effective_limit(self, requested: int | None) -> int:
        """The page size of a filter request: the server default when unset, a 422 above it."""
        return effective_limit(requested, self.context.settings.server_api_default_limit)

    def prepare(self) -> None:
        self.context.request_started()
        self._counted = True
        if "%00" in self.request.uri:
            raise ValidationFailed("The URL may not contain NUL (%00) characters.")

    def on_finish(self) -> None:
        if getattr(self, "_counted", False):
            self.context.request_finished()
            self._counted = False

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")

    def check_xsrf_cookie(self) -> None:
        """Baton's API uses no cookies, so there is nothing for a cross-site request to ride on."""

    # --- input -------------------------------------------------------------------------------------------------

    def json_body(self) -> Any:
        """The request body as JSON (an empty body is null); malformed JSON is a 400 with the parser's reason."""
        body = self.request.body
        if not body or not body.strip():
            return None
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

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, BatonError):
            self._write_baton_error(e)
            return
        if is_data_error(e):
            # A value the database cannot store (on PostgreSQL, text containing NUL characters, say).
            reason = str(getattr(e, "orig", e)).splitlines()[0]
            self._write_error_body(422, {"detail": f"The database refused a value in the request: {reason}"})
            return
        if is_integrity_error(e):
            self._write_error_body(
                409, {"detail": "The object conflicts with an existing one (a unique key is taken)."}
            )
            return
        if isinstance(e, tornado.web.HTTPError) and e.status_code < 500:
            message = e.log_message or e.reason or "Bad request."
            self._write_error_body(e.status_code, {"detail": message % e.args if e.args else message})
            return
        super()._handle_request_exception(e)

    def _write_baton_error(self, error: BatonError) -> None:
        status = next((code for cls, code in STATUS_FOR_ERROR.items() if isinstance(error, cls)), 500)
        headers: dict[str, str] = {}
        if isinstance(error, ValidationFailed):
            body: dict[str, Any] = {"exception_message": error.message, "exception_detail": error.detail}
            if error.detail and error.message == "Invalid request received.":
                body["detail"] = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in error.detail)
            else:
                body["detail"] = error.message
        elif isinstance(error, ServiceUnavailable):
            headers["Retry-After"] = str(error.retry_after_seconds)
            body = {"exception_message": "Service Unavailable", "detail": error.message}
        elif isinstance(error, ConcurrencyLimitReached):
            # The Prefect client sleeps for exactly this many seconds (a float) before it asks again; without the
            # header its tag-limit (v1) service gives up, which is what a limit of zero calls for.
            if error.retry_after_seconds is not None:
                headers["Retry-After"] = f"{error.retry_after_seconds:.2f}"
            body = {"detail": error.message}
        else:
            body = {"detail": error.message}
        if status >= 500:
            logger.warning("%s %s answered %d: %s", self.request.method, self.request.path, status, error.message)
        self._write_error_body(status, body, headers)

    def _write_error_body(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        if self._finished:
            return
        self.clear()
        self.set_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.set_header(name, value)
        self.set_status(status)
        self.finish(orjson.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json")
        if status_code >= 500:
            self.finish(orjson.dumps({"exception_message": "Internal Server Error"}))
        else:
            self.finish(orjson.dumps({"detail": self._reason}))


class NotFoundApiHandler(ApiHandler):
    """Any path under /api that no route matches."""

    def prepare(self) -> None:
        super().prepare()
        raise ObjectNotFound(f"No API endpoint at {self.request.method} {self.request.path}.")
