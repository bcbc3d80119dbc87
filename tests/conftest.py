"""Shared fixtures: real databases (SQLite and PostgreSQL, each test on a fresh migrated copy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from baton.server.database.engine import Database
from tests.databases import ENABLED_DIALECTS, TemplateDatabases

# The files whose tests start servers, browsers and Prefect processes: about two thirds of the suite's time in a fifth
# of its files. scripts/test hands files to its workers in collection order (--no-loadscope-reorder), so these go
# first and the many short database test files come last, where they even out the workers' finishing times.
SLOW_FILES_FIRST = (
    "tests/acceptance/",
    "tests/webui/",
    "tests/cli/",
    "tests/server/api/test_concurrency_slots_stress.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of SLOW_FILES_FIRST first, in their order; a stable sort keeps each file's tests together."""

    def rank(item: pytest.Item) -> int:
        prefixes = [index for index, prefix in enumerate(SLOW_FILES_FIRST) if item.nodeid.startswith(prefix)]
        return prefixes[0] if prefixes else len(SLOW_FILES_FIRST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def template_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateDatabases]:
    templates = TemplateDatabases(tmp_path_factory.mktemp("templates"))
    templates.prepare()
    yield templates
    templates.cleanup()


@pytest.fixture(params=ENABLED_DIALECTS)
def database_url(
    request: pytest.FixtureRequest, template_databases: TemplateDatabases, tmp_path: Path
) -> Iterator[str]:
    """A connection URL of a fresh, fully migrated database; parametrised over SQLite and PostgreSQL."""
    url = template_databases.clone(request.param, tmp_path)
    yield url
    template_databases.drop(url)


@pytest.fixture(params=ENABLED_DIALECTS)
def empty_database_url(
    request: pytest.FixtureRequest, template_databases: TemplateDatabases, tmp_path: Path
) -> Iterator[str]:
    """A connection URL of a database with no tables; parametrised over SQLite and PostgreSQL."""
    url = template_databases.empty(request.param, tmp_path)
    yield url
    template_databases.drop(url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An open `Database` on a fresh, fully migrated database."""
    db = Database(database_url)
    await db.open()
    yield db
    await db.dispose()
