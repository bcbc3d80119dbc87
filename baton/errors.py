"""Baton's exception hierarchy, and its one table of HTTP answers.

Library code raises these. `http_answer` says how each is answered over HTTP (status, title, headers); the API's
and the UI's handler bases both use it, each writing the answer in its own format (JSON, an HTML page). Only the CLI
translates them to exit codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class BatonError(Exception):
    """Root of every error Baton raises on purpose. `message` is written for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(BatonError):
    """The request cannot be served as asked (too many objects at once, a graph too large to draw) (HTTP 400)."""


class ObjectNotFound(BatonError):
    """The object named by the request does not exist (HTTP 404)."""


class ObjectAlreadyExists(BatonError):
    """A unique name or key is already taken (HTTP 409)."""


class Forbidden(BatonError):
    """The object is protected against this change (a built-in block type, say) (HTTP 403)."""


class NotAuthenticated(BatonError):
    """The request carries no credential, or one that is unknown, expired, disabled or revoked (HTTP 401)."""


class PermissionDenied(Forbidden):
    """The caller's role does not grant the permission the route needs (HTTP 403). `principal` is the caller (a
    `baton.server.auth.principal.Principal`), for the audit log."""

    def __init__(self, message: str, principal: Any = None) -> None:
        super().__init__(message)
        #: Who was refused, when known (the audit log names them).
        self.principal = principal


class TooManyAttempts(BatonError):
    """Too many failed sign-ins from this address or for this account; retry after a while (HTTP 429)."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InvalidTransition(BatonError):
    """The requested change is not allowed from the object's current state (HTTP 409)."""


class ValidationFailed(BatonError):
    """The input is well-formed but its content is not acceptable (HTTP 422).

    `detail` lists the offending fields in the shape pydantic uses: [{"loc": [...], "msg": ..., "type": ...}].
    """

    def __init__(self, message: str, detail: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.detail = detail or []


class ConflictingParameters(ValidationFailed):
    """New parameters of a deployment do not fit the schema it enforces (HTTP 409, as Prefect's server answers a
    deployment update); `detail` names each parameter as a 422 would."""


class ServiceUnavailable(BatonError):
    """A dependency (the database, Redis) is busy or unreachable; the client may retry (HTTP 503)."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ConcurrencyLimitReached(BatonError):
    """A concurrency limit has no free slot for the request (HTTP 423). With `retry_after_seconds` the client may
    retry after that long; without, it should not retry at all (a tag limit of zero)."""

    def __init__(self, message: str, retry_after_seconds: float | None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class LeaseExpired(BatonError):
    """The concurrency lease is unknown, was released, or expired and its slots went back (HTTP 410)."""


class SettingsError(BatonError):
    """A setting name is unknown or its value has the wrong type."""


class ProfileError(BatonError):
    """A profile does not exist, already exists, or cannot be removed."""


class MigrationError(BatonError):
    """The database schema cannot be brought to, or used at, the revision asked for."""


@dataclass(frozen=True)
class HttpAnswer:
    """How an error is answered over HTTP: `status` (the API's), `page_status` (a UI page's), a short `title`, the
    `message` for a person, and extra `headers` (Retry-After)."""

    status: int
    title: str
    message: str
    page_status: int
    headers: Mapping[str, str] = field(default_factory=dict)


# Exception class -> (status, title); the first class an error is an instance of wins, so subclasses come first.
STATUS_FOR_ERROR: dict[type[BatonError], tuple[int, str]] = {
    BadRequest: (400, "Bad request"),
    NotAuthenticated: (401, "Sign-in required"),
    Forbidden: (403, "Forbidden"),
    ObjectNotFound: (404, "Not found"),
    ObjectAlreadyExists: (409, "Cannot do that"),
    InvalidTransition: (409, "Cannot do that"),
    LeaseExpired: (410, "Gone"),
    ConflictingParameters: (409, "Cannot do that"),
    ValidationFailed: (422, "Bad request"),
    ConcurrencyLimitReached: (423, "Locked"),
    TooManyAttempts: (429, "Too many attempts"),
    ServiceUnavailable: (503, "Service unavailable"),
}
# Any other BatonError (a setting, profile or migration problem met while serving) is the server's fault.
UNLISTED_ERROR = (500, "Internal server error")
# A UI page's input is its URL, and a bad URL is a 400; the API says 422 of a well-formed body it cannot accept.
PAGE_STATUS = {422: 400}


def http_answer(error: BatonError) -> HttpAnswer:
    """The status, title, message and headers `error` is answered with, by the API and the UI alike."""
    status, title = next((answer for cls, answer in STATUS_FOR_ERROR.items() if isinstance(error, cls)), UNLISTED_ERROR)
    headers: dict[str, str] = {}
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif isinstance(error, ConcurrencyLimitReached) and error.retry_after_seconds is not None:
        # The Prefect client sleeps for exactly this many seconds (a float) before it asks again; without the
        # header its tag-limit (v1) service gives up, which is what a limit of zero calls for.
        headers["Retry-After"] = f"{error.retry_after_seconds:.2f}"
    elif isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after_seconds)
    elif isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="baton"'
    return HttpAnswer(status, title, error.message, PAGE_STATUS.get(status, status), headers)
