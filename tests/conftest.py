"""Shared fixtures: real databases (SQLite and PostgreSQL, each test on a fresh migrated copy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from baton.server.database.engine import Database
from tests.databases import ENABLED_DIALECTS, TemplateDatabases, on_one_database
from tests.run_shared import drop_shared_databases
from tests.scheduling import order_longest_first
from tests.shared_tls import install as share_one_tls_context

share_one_tls_context()


def pytest_configure(config: pytest.Config) -> None:
    # xdist would hand out the files with the most tests first; keep the collection's order, longest first.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselected = on_one_database(items)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        dropped = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in dropped]
    order_longest_first(items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_shared_databases(session.config)


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
