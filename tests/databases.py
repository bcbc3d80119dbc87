"""Test databases: each test gets a fresh, fully migrated database, cloned from a template migrated once.

SQLite templates are copied as files; PostgreSQL ones with CREATE DATABASE ... TEMPLATE, which takes a fraction of a
second where running the migrations would take seconds. Even that fraction (0.2-0.5 s, 226 PostgreSQL tests) adds
up, so a worker thread makes the next PostgreSQL clone while a test runs. Used clones are dropped on other threads:
a DROP DATABASE waits for a checkpoint, 1.5-8 s when other sessions write to the same server, and a clone queued
behind it kept the next test waiting that long; the checkpointer serves the drops that wait at the same time with one
checkpoint, so four at once take about as long as one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from baton.server.database import migrate
from baton.server.database.engine import Database

# Where the tests find PostgreSQL; .ci/run makes sure a server answers there.
POSTGRES_ADMIN_DSN = os.environ.get("BATON_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ENABLED_DIALECTS = tuple(
    name.strip() for name in os.environ.get("BATON_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()
)
# For process-level tests whose SQL other tests run on both databases: PostgreSQL, the production one, when enabled.
SINGLE_DIALECT = "postgresql" if "postgresql" in ENABLED_DIALECTS else ENABLED_DIALECTS[0]


def on_one_database(items: list[Any]) -> list[Any]:
    """The items to deselect in modules that declare `ONE_DATABASE = "sqlite"|"postgresql"`, or of tests marked
    `@pytest.mark.one_database("sqlite"|"postgresql")`: they run on that database only (when it is enabled), though
    their server fixture is parametrised over both. Process-level tests (real clients, workers, subprocesses) say so
    where the other database adds nothing their SQL does not already get from the server tests, which run everything
    on both."""
    deselected = []
    for item in items:
        marker = item.get_closest_marker("one_database") if hasattr(item, "get_closest_marker") else None
        wanted = marker.args[0] if marker else getattr(getattr(item, "module", None), "ONE_DATABASE", None)
        callspec = getattr(item, "callspec", None)
        if wanted not in ENABLED_DIALECTS or callspec is None:
            continue
        dialects = [value for value in callspec.params.values() if value in ("sqlite", "postgresql")]
        if dialects and dialects[0] != wanted:
            deselected.append(item)
    return deselected


# Four drops at once took 0.7 s where four one after another took 6 s (2026-12-07, a PostgreSQL 15 shared with
# other test runs): their checkpoints coincide.
DROP_THREADS = 4
_counter = itertools.count()


def postgres_url(database: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await migrate.upgrade(database)
    finally:
        await database.dispose()


class TemplateDatabases:
    """Migrated templates for each enabled dialect, and fresh clones of them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.prefix = f"baton_test_{os.getpid()}"
        self.sqlite_template = workdir / "template.db"
        self.postgres_template = f"{self.prefix}_template"
        self._clones: list[str] = []
        # One thread: CREATE DATABASE refuses a template another CREATE DATABASE is reading.
        self._background = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test-databases")
        # Drops on threads of their own: a DROP waits for a checkpoint, which must not hold up the next clone.
        self._dropper = concurrent.futures.ThreadPoolExecutor(DROP_THREADS, thread_name_prefix="test-database-drops")
        self._spare: concurrent.futures.Future[str] | None = None
        self._drops: list[concurrent.futures.Future[None]] = []

    def prepare(self) -> None:
        if "sqlite" in ENABLED_DIALECTS:
            asyncio.run(_migrate(f"sqlite+aiosqlite:///{self.sqlite_template}"))
        if "postgresql" in ENABLED_DIALECTS:
            asyncio.run(
                _admin(
                    f'DROP DATABASE IF EXISTS "{self.postgres_template}"',
                    f'CREATE DATABASE "{self.postgres_template}"',
                    _unsynchronised_commits(self.postgres_template),
                )
            )
            asyncio.run(_migrate(postgres_url(self.postgres_template)))

    def clone(self, dialect: str, directory: Path) -> str:
        if dialect == "sqlite":
            return _copy_sqlite(self.sqlite_template, directory)
        spare, self._spare = self._spare, None
        name = (spare or self._background.submit(self._make_clone)).result()
        self._clones.append(name)
        self._spare = self._background.submit(self._make_clone)
        return postgres_url(name)

    def _make_clone(self) -> str:
        name = f"{self.prefix}_{next(_counter)}"
        _create_from(name, self.postgres_template)
        return name

    def copy(self, url: str, directory: Path) -> str:
        """A URL of a new database with the tables and rows of `url`'s (which nothing may be connected to)."""
        if url.startswith("sqlite"):
            return _copy_sqlite(Path(url.removeprefix("sqlite+aiosqlite:///")), directory)
        source = url.rsplit("/", 1)[1]
        name = f"{self.prefix}_{next(_counter)}"
        # On the background thread, which makes the clones: CREATE DATABASE refuses a template being read by another.
        self._background.submit(_create_from, name, source).result()
        self._clones.append(name)
        return postgres_url(name)

    def clone_shared(self, dialect: str, directory: Path) -> str:
        """A fresh migrated database that this process does not drop when it ends, for data the other test processes
        of the run use too (tests/run_shared.py); `drop_shared` drops it."""
        if dialect == "sqlite":
            return _copy_sqlite(self.sqlite_template, directory)
        name = f"baton_test_shared_{uuid.uuid4().hex}"
        self._background.submit(_create_from, name, self.postgres_template).result()
        return postgres_url(name)

    def empty(self, dialect: str, directory: Path) -> str:
        """A URL of a database with no tables at all."""
        if dialect == "sqlite":
            return f"sqlite+aiosqlite:///{directory / f'empty-{next(_counter)}.db'}"
        name = f"{self.prefix}_{next(_counter)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"', _unsynchronised_commits(name)))
        self._clones.append(name)
        return postgres_url(name)

    def drop(self, url: str) -> None:
        """Drop a database after its test; a PostgreSQL one in the background (nothing reuses its name)."""
        if url.startswith("postgresql"):
            name = url.rsplit("/", 1)[1]
            self._clones.remove(name)
            self._drops.append(self._dropper.submit(_drop, name))

    def cleanup(self) -> None:
        if self._spare is not None:
            self._clones.append(self._spare.result())
        self._background.shutdown(wait=True)  # no clone reads the template any more
        if "postgresql" in ENABLED_DIALECTS:
            for name in [*self._clones, self.postgres_template]:
                self._drops.append(self._dropper.submit(_drop, name))
        self._dropper.shutdown(wait=True)
        for dropped in self._drops:
            dropped.result()  # a drop that failed fails the session here, instead of leaving a database behind


def drop_shared(url: str) -> None:
    """Drop a database made by `TemplateDatabases.clone_shared` (a SQLite one goes with its temporary directory)."""
    if url.startswith("postgresql"):
        _drop(url.rsplit("/", 1)[1])


def _copy_sqlite(source: Path, directory: Path) -> str:
    target = directory / f"baton-{next(_counter)}.db"
    shutil.copyfile(source, target)
    return f"sqlite+aiosqlite:///{target}"


def _create_from(name: str, template: str) -> None:
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"', _unsynchronised_commits(name)))


def _unsynchronised_commits(name: str) -> str:
    """Sessions on a test database commit without waiting for the WAL to reach the disk: a test never survives a
    crash of PostgreSQL, and the flush after each commit is most of a small transaction's time when test processes
    share the disk (the setting is per database, so a clone does not inherit it from its template)."""
    return f'ALTER DATABASE "{name}" SET synchronous_commit = off'


def _drop(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.asynccontextmanager
async def table_locked(database_url: str, table: str) -> AsyncIterator[None]:
    """Another connection holds an exclusive lock on `table`, as a long migration or a `LOCK TABLE` would."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        async with connection.transaction():
            await connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await connection.close()
