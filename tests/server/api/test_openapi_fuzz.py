"""The API fuzzed from its own OpenAPI document on each database: no 5xx, no answer the document does not describe.

`BATON_FUZZ_CASES` sets the budget per database (the suite's default is a few thousand, about 40 s each);
`scripts/fuzz` runs this test with 50,000 or more.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.acceptance.conftest import ApiServer, baton_server_on_fresh_database
from tests.databases import ENABLED_DIALECTS, TemplateDatabases
from tests.server.api.fuzzing import DEFAULT_CASES, fuzz

CASES = int(os.environ.get("BATON_FUZZ_CASES", DEFAULT_CASES))


@pytest.fixture(params=ENABLED_DIALECTS)
def fuzzed_server(
    request: pytest.FixtureRequest, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    yield from baton_server_on_fresh_database(request.param, template_databases, tmp_path_factory)


@pytest.mark.timeout(max(300, CASES // 10))
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(fuzzed_server: ApiServer) -> None:
    started = time.monotonic()
    report = fuzz(fuzzed_server.api_url, CASES)
    elapsed = time.monotonic() - started
    print(f"\nfuzz {fuzzed_server.database_url.split(':', 1)[0]}: {report.summary()} in {elapsed:.0f} s")
    assert report.cases >= CASES // 2
    assert not report.failures, report.summary()
