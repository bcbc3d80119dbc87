"""`baton.errors.http_answer`: the one table of HTTP answers, which the API and the UI both use."""

from __future__ import annotations

import pytest

from baton.errors import (
    BatonError,
    ConcurrencyLimitReached,
    Forbidden,
    InvalidTransition,
    LeaseExpired,
    MigrationError,
    ObjectAlreadyExists,
    ObjectNotFound,
    ServiceUnavailable,
    ValidationFailed,
    http_answer,
)


@pytest.mark.parametrize(
    ("error", "status", "page_status", "title"),
    [
        (Forbidden("Built in."), 403, 403, "Forbidden"),
        (ObjectNotFound("No such flow."), 404, 404, "Not found"),
        (ObjectAlreadyExists("Taken."), 409, 409, "Cannot do that"),
        (InvalidTransition("Not now."), 409, 409, "Cannot do that"),
        (LeaseExpired("Gone."), 410, 410, "Gone"),
        (ValidationFailed("Bad limit."), 422, 400, "Bad request"),
        (MigrationError("Newer schema."), 500, 500, "Internal server error"),
        (BatonError("Unlisted."), 500, 500, "Internal server error"),
    ],
)
def test_each_error_has_its_status_title_and_message(
    error: BatonError, status: int, page_status: int, title: str
) -> None:
    answer = http_answer(error)
    assert (answer.status, answer.page_status, answer.title) == (status, page_status, title)
    assert answer.message == error.message
    assert answer.headers == {}


def test_service_unavailable_is_a_503_with_retry_after_in_whole_seconds() -> None:
    answer = http_answer(ServiceUnavailable("The database is busy.", retry_after_seconds=5))
    assert (answer.status, answer.page_status, answer.title) == (503, 503, "Service unavailable")
    assert answer.headers == {"Retry-After": "5"}


def test_a_full_concurrency_limit_says_when_to_retry_unless_it_never_frees() -> None:
    assert http_answer(ConcurrencyLimitReached("Full.", 1.5)).headers == {"Retry-After": "1.50"}
    never = http_answer(ConcurrencyLimitReached("Limit of zero.", None))
    assert never.status == 423 and never.headers == {}
