"""Baton's exception hierarchy.

Library code raises these; only the API base handler translates them to HTTP status codes, and only the CLI
translates them to exit codes, each in one place.
"""

from __future__ import annotations

from typing import Any


class BatonError(Exception):
    """Root of every error Baton raises on purpose. `message` is written for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ObjectNotFound(BatonError):
    """The object named by the request does not exist (HTTP 404)."""


class ObjectAlreadyExists(BatonError):
    """A unique name or key is already taken (HTTP 409)."""


class Forbidden(BatonError):
    """The object is protected against this change (a built-in block type, say) (HTTP 403)."""


class InvalidTransition(BatonError):
    """The requested change is not allowed from the object's current state (HTTP 409)."""


class ValidationFailed(BatonError):
    """The input is well-formed but its content is not acceptable (HTTP 422).

    `detail` lists the offending fields in the shape pydantic uses: [{"loc": [...], "msg": ..., "type": ...}].
    """

    def __init__(self, message: str, detail: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.detail = detail or []


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
