"""Test databases: each test gets a fresh, fully migrated database, cloned from a template migrated once.

SQLite templates are copied as files; PostgreSQL ones with CREATE DATABASE ... TEMPLATE, which takes milliseconds
where running the migrations would take seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from pathlib import Path

import asyncpg

from baton.server.database import migrate
from baton.server.database.engine import Database

# Where the tests find PostgreSQL; .ci/run makes sure a server answers there.
POSTGRES_ADMIN_DSN = os.environ.get("BATON_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ENABLED_DIALECTS = tuple(
    name.strip() for name in os.environ.get("BATON_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()
)
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

    def prepare(self) -> None:
        if "sqlite" in ENABLED_DIALECTS:
            asyncio.run(_migrate(f"sqlite+aiosqlite:///{self.sqlite_template}"))
        if "postgresql" in ENABLED_DIALECTS:
            asyncio.run(
                _admin(
                    f'DROP DATABASE IF EXISTS "{self.postgres_template}"', f'CREATE DATABASE "{self.postgres_template}"'
                )
            )
            asyncio.run(_migrate(postgres_url(self.postgres_template)))

    def clone(self, dialect: str, directory: Path) -> str:
        if dialect == "sqlite":
            target = directory / f"baton-{next(_counter)}.db"
            shutil.copyfile(self.sqlite_template, target)
            return f"sqlite+aiosqlite:///{target}"
        name = f"{self.prefix}_{next(_counter)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.postgres_template}"'))
        self._clones.append(name)
        return postgres_url(name)

    def empty(self, dialect: str, directory: Path) -> str:
        """A URL of a database with no tables at all."""
        if dialect == "sqlite":
            return f"sqlite+aiosqlite:///{directory / f'empty-{next(_counter)}.db'}"
        name = f"{self.prefix}_{next(_counter)}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        self._clones.append(name)
        return postgres_url(name)

    def drop(self, url: str) -> None:
        if url.startswith("postgresql"):
            name = url.rsplit("/", 1)[1]
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self._clones.remove(name)

    def cleanup(self) -> None:
        if "postgresql" in ENABLED_DIALECTS:
            names = [*self._clones, self.postgres_template]
            asyncio.run(_admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names)))
