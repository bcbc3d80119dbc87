"""What every notification channel shares: the message, the outcome, the failure, and the `Channel` protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from baton.errors import BatonError, ValidationFailed

if TYPE_CHECKING:
    import httpx

    from baton.settings import Settings

Severity = Literal["info", "success", "warning", "failure"]
SEVERITIES: tuple[Severity, ...] = ("info", "success", "warning", "failure")

# The services answer within a second or two; ten seconds is Prefect's custom-webhook default.
DEFAULT_TIMEOUT_SECONDS = 10.0
# Enough of a response body to read the service's error message, short enough for a database column.
EXCERPT_CHARS = 500


@dataclass(frozen=True)
class Notification:
    """One message to deliver: a subject line, a plain-text body, how bad it is, and the run's page if any."""

    subject: str
    body: str
    severity: Severity = "info"
    run_url: str | None = None

    @property
    def text(self) -> str:
        """Subject and body as one plain text, with the run's URL appended when the body does not already hold it."""
        parts = [part for part in (self.subject, self.body) if part]
        if self.run_url and self.run_url not in self.body:
            parts.append(self.run_url)
        return "\n".join(parts)


@dataclass(frozen=True)
class DeliveryResult:
    """What the service answered to an accepted message; `status_code` is None for a non-HTTP channel (SMTP)."""

    status_code: int | None
    response_excerpt: str = ""


class DeliveryFailed(BatonError):
    """The service did not accept the message. `retryable` says whether sending it again later may succeed.

    The message names the service and its answer and never holds a secret of the block (URL tokens, keys).
    """

    def __init__(self, reason: str, status_code: int | None = None, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retryable = retryable


class UnknownChannel(ValidationFailed):
    """A block type that Baton cannot send notifications through (HTTP 422 when it reaches the API)."""


class Channel(Protocol):
    """A way to deliver a `Notification` with the data of a block document of type `slug`."""

    slug: str

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        """The problems of the block data, each a sentence a person understands; empty when it can be used."""
        ...

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        """Deliver `notification`; raises DeliveryFailed (not retryable when `validate` finds problems)."""
        ...


def ensure_valid(channel: Channel, data: Mapping[str, Any]) -> None:
    """Raise a non-retryable DeliveryFailed listing the problems `channel.validate(data)` finds."""
    problems = channel.validate(data)
    if problems:
        raise DeliveryFailed(f"The {channel.slug} block cannot be used: " + "; ".join(problems), retryable=False)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
