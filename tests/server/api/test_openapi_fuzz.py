"""The API fuzzed from its own OpenAPI document on each database: no 5xx, no answer the document does not describe.

The suite's budget (DEFAULT_CASES, about 1,600 cases sent) is spread over the enabled databases, each with a seed of
its own, so that the two send different requests instead of the same ones twice (half the time, as many different
cases). `BATON_FUZZ_CASES` sets the budget per database; `scripts/fuzz` runs this test with 50,000 or more.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
from collections.abc import Iterator

import httpx
import pytest

from tests.acceptance.conftest import ApiServer, baton_server_on_fresh_database
from tests.databases import ENABLED_DIALECTS, TemplateDatabases

SEED = 20261207
# The suite's budget, shared by the databases: about 1,600 cases sent (operations that take no invalid input skip
# negative mode), 25-60 s on two shared cores; `scripts/fuzz` asks for 50,000 or more per database.
DEFAULT_CASES = 2000
CASES = int(os.environ.get("BATON_FUZZ_CASES", DEFAULT_CASES // len(ENABLED_DIALECTS)))


@pytest.fixture(scope="module", params=ENABLED_DIALECTS)
def fuzzed_server(
    request: pytest.FixtureRequest, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """A `baton server start` subprocess (Tornado's real HTTP settings) on a fresh database, for this module."""
    yield from baton_server_on_fresh_database(request.param, template_databases, tmp_path_factory)


def _seed(database_url: str) -> int:
    """The database's own seed: SEED on the first enabled database, SEED + 1 on the second."""
    return SEED + next(i for i, dialect in enumerate(ENABLED_DIALECTS) if database_url.startswith(dialect))


@pytest.mark.timeout(max(300, CASES // 10))
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(fuzzed_server: ApiServer) -> None:
    # Imported here: schemathesis and hypothesis take seconds to import, which every test process would pay at
    # collection (pytest's schemathesis plugin is off in pyproject.toml for the same reason).
    from tests.server.api.fuzzing import fuzz

    started = time.monotonic()
    report = fuzz(fuzzed_server.api_url, CASES, _seed(fuzzed_server.database_url))
    elapsed = time.monotonic() - started
    print(f"\nfuzz {fuzzed_server.database_url.split(':', 1)[0]}: {report.summary()} in {elapsed:.0f} s")
    assert report.cases >= CASES // 2
    assert not report.failures, report.summary()


def test_a_very_long_url_gets_an_answer(fuzzed_server: ApiServer) -> None:
    # Over a raw socket: httpx refuses to send a URL this long.
    host, port = urllib.parse.urlsplit(fuzzed_server.api_url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET /api/flows/{'x' * 100_000} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        answer = connection.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 414 "), answer[:300]
    assert "longer than" in answer
    with httpx.Client(base_url=fuzzed_server.api_url, timeout=10) as client:
        assert client.get("/health").status_code == 200
