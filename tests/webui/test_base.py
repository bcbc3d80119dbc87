"""`PageHandler`'s error pages: Baton's errors answered with the statuses of `baton.errors.http_answer`, as HTML."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.acceptance.conftest import baton_server, tail
from tests.databases import ENABLED_DIALECTS, table_locked

# The server's statement timeout (BATON_API_DATABASE_TIMEOUT) in these tests: a page waiting longer on a lock gives up.
STATEMENT_TIMEOUT_SECONDS = 0.5


@pytest.mark.skipif("postgresql" not in ENABLED_DIALECTS, reason="needs PostgreSQL (BATON_TEST_DATABASES)")
# SQLite readers do not wait on a writer (WAL), and its busy timeout is at least 30 s: PostgreSQL makes a page wait.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_page_on_a_busy_database_is_a_503_page_with_retry_after(database_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for server in baton_server(home, database_url, BATON_API_DATABASE_TIMEOUT=str(STATEMENT_TIMEOUT_SECONDS)):
        ui_url = server.api_url.removesuffix("/api")
        async with httpx.AsyncClient(timeout=30) as client:
            assert (await client.get(f"{ui_url}/flows")).status_code == 200
            async with table_locked(database_url, "flow"):
                response = await client.get(f"{ui_url}/flows")
            after = await client.get(f"{ui_url}/flows")
        assert response.status_code == 503, response.text[:500]
        assert response.headers["Retry-After"] == "1"
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<title>Service unavailable · Baton</title>" in response.text
        assert "Error 503" in response.text and "did not answer in time" in response.text
        # The lock gone, the same page answers again: the 503 said "retry", and retrying works.
        assert after.status_code == 200
    assert "GET /flows answered 503" in tail(home / "server.err")
