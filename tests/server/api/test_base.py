"""`ApiHandler`'s error answers: Baton's errors as JSON with the statuses and headers of `baton.errors.http_answer`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from baton.server.database.engine import Database
from tests.databases import ENABLED_DIALECTS, table_locked

# The server's statement timeout in these tests: a request waiting longer on a lock gives up.
STATEMENT_TIMEOUT_SECONDS = 0.5


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The server's database, with a short statement timeout (BATON_API_DATABASE_TIMEOUT)."""
    db = Database(database_url, timeout=STATEMENT_TIMEOUT_SECONDS)
    await db.open()
    yield db
    await db.dispose()


@pytest.mark.skipif("postgresql" not in ENABLED_DIALECTS, reason="needs PostgreSQL (BATON_TEST_DATABASES)")
# SQLite readers do not wait on a writer (WAL), and its busy timeout is at least 30 s: PostgreSQL makes a read wait.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_busy_database_is_a_503_with_retry_after(
    client: httpx.AsyncClient, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await client.post("/flows/filter", json={})).status_code == 200
    with caplog.at_level(logging.WARNING, logger="baton.api"):
        async with table_locked(database_url, "flow"):
            response = await client.post("/flows/filter", json={})
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["exception_message"] == "Service Unavailable"
    assert body["detail"].startswith("The database at ") and body["detail"].endswith(
        "did not answer in time (busy or unreachable); retry shortly."
    )
    assert any("POST /api/flows/filter answered 503" in record.getMessage() for record in caplog.records)
    # Answered on purpose: no "Uncaught exception" traceback in the log.
    assert not any(record.exc_info for record in caplog.records)
    # The lock gone, the same request answers again.
    assert (await client.post("/flows/filter", json={})).status_code == 200
