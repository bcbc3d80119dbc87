"""Schema migrations: Alembic commands run on Baton's own connection, on SQLite and PostgreSQL alike.

Alembic is imported here only, so a server whose schema is already current never loads it (see `is_current`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.errors import BatonError, MigrationError
from baton.server.database.engine import Database
from baton.server.database.workspace_stores import drop_workspace_store, read_workspace_ids

logger = logging.getLogger("baton.migrations")

# A fixed key for PostgreSQL's advisory lock, so that two servers starting together migrate one after the other.
MIGRATION_LOCK_KEY = 7_261_543
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d%%(second).2d_%%(rev)s_%%(slug)s"


@dataclass(frozen=True)
class Revision:
    """One migration: its id, the revision it follows, and its one-line description."""

    revision: str
    down_revision: str | None
    doc: str
    is_head: bool


def alembic_config(url: str | None = None, output: io.StringIO | None = None) -> Any:
    """An Alembic Config pointing at Baton's migrations; `url` and `output` are for offline (--dry-run) mode."""
    from alembic.config import Config

    config = Config(output_buffer=output) if output is not None else Config()
    config.set_main_option("script_location", "baton:migrations")
    config.set_main_option("file_template", FILE_TEMPLATE)
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def script_directory() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows."""
    heads = script_directory().get_heads()
    if len(heads) != 1:
        raise MigrationError(f"The migrations have {len(heads)} heads ({', '.join(heads)}); expected one.")
    return str(heads[0])


def history() -> list[Revision]:
    """Every revision, newest first."""
    scripts = script_directory()
    heads = set(scripts.get_heads())
    return [
        Revision(
            revision=script.revision,
            down_revision=script.down_revision if isinstance(script.down_revision, str | None) else None,
            doc=script.doc or "",
            is_head=script.revision in heads,
        )
        for script in scripts.walk_revisions()
    ]


async def current_revision(database: Database) -> str | None:
    """The revision recorded in the database, or None for an empty (never migrated) database."""
    async with database.read() as connection:
        has_table = await connection.run_sync(lambda conn: sa.inspect(conn).has_table("alembic_version"))
        if not has_table:
            return None
        row = (await connection.execute(sa.text("SELECT version_num FROM alembic_version"))).first()
        return None if row is None else str(row[0])


async def check_known_revision(database: Database) -> str | None:
    """The database's revision; raises MigrationError when this code does not know it (a newer Baton wrote it)."""
    revision = await current_revision(database)
    if revision is None:
        return None
    known = {item.revision for item in history()}
    if revision not in known:
        raise MigrationError(
            f"The database is at revision '{revision}', which this version of Baton does not know: it was migrated "
            "by a newer Baton. Upgrade Baton to that version, or use the newer version to run "
            f"`baton server database downgrade -r {head_revision()}` before starting this one."
        )
    return revision


async def is_current(database: Database) -> bool:
    """True when the database is at the head revision (checked without importing Alembic)."""
    from baton.migrations import HEAD_REVISION

    return await current_revision(database) == HEAD_REVISION


async def wait_until_current(database: Database, seconds: float, poll_seconds: float = 0.5) -> bool:
    """Wait at most `seconds` for the database to reach the head revision (for a process that needs the
    schema but leaves migrating it to another); False when it did not. Raises MigrationError at once for a revision
    this code does not know."""
    from baton.migrations import HEAD_REVISION

    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        if await check_known_revision(database) == HEAD_REVISION:
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(poll_seconds)


# The revision that made workspaces; a workspace's store has none of the global tables older revisions change, so it
# cannot be taken below this one.
WORKSPACES_REVISION = "0017"


async def upgrade(database: Database, revision: str = "head") -> None:
    """Apply migrations up to `revision` (default: the newest), to the main schema and then to every workspace's
    store."""
    from alembic import command

    await check_known_revision(database)
    await _run(database, lambda config: command.upgrade(config, revision))
    for workspace_id in await read_workspace_ids(database):
        await _run(database.for_workspace(workspace_id), lambda config: command.upgrade(config, revision))


async def downgrade(database: Database, revision: str = "-1") -> None:
    """Revert migrations down to `revision` (default: one step; "base" removes the whole schema), in every
    workspace's store and then in the main schema. A store cannot go below the revision that made workspaces: for
    an older target the stores are left as they are (unreachable until their workspace rows are made again)."""
    from alembic import command

    current = await check_known_revision(database)
    if current is None:
        raise MigrationError("The database has no Baton schema to downgrade.")
    target = resolve_downgrade_target(current, revision)
    known = [item.revision for item in history()]  # newest first
    if target != "base" and known.index(target) <= known.index(WORKSPACES_REVISION):
        for workspace_id in await read_workspace_ids(database):
            await _run(database.for_workspace(workspace_id), lambda config: command.downgrade(config, target))
    else:
        for workspace_id in await read_workspace_ids(database):
            logger.warning("The store of workspace %s is left as it is: it cannot go below %s.", workspace_id, target)
    await _run(database, lambda config: command.downgrade(config, target))


async def reset(database: Database) -> None:
    """Drop every workspace's store and every table in the database (found by reflection, whatever created it), then
    apply all migrations."""
    for workspace_id in await read_workspace_ids(database):
        await drop_workspace_store(database, workspace_id)
    migration_db = database.migration_database()
    try:
        async with migration_db.write() as connection:
            await connection.run_sync(_drop_all_tables)
    finally:
        await migration_db.dispose()
    await upgrade(database, "head")


def dry_run_sql(url: str, direction: str, from_revision: str | None, to_revision: str) -> str:
    """The SQL that `upgrade`/`downgrade` would run from `from_revision` to `to_revision`, without running it."""
    from alembic import command

    output = io.StringIO()
    config = alembic_config(url, output)
    if direction == "upgrade":
        target = f"{from_revision}:{to_revision}" if from_revision else to_revision
        command.upgrade(config, target, sql=True)
    else:
        if from_revision is None:
            raise MigrationError("The database has no Baton schema to downgrade.")
        command.downgrade(config, f"{from_revision}:{to_revision}", sql=True)
    return output.getvalue()


def resolve_downgrade_target(current: str, revision: str) -> str:
    """Turn a relative target such as "-1" into a revision id (offline mode needs explicit ids)."""
    if not revision.startswith("-"):
        return revision
    steps = int(revision[1:])
    scripts = script_directory()
    target: str | None = current
    for _ in range(steps):
        if target is None:
            break
        target = scripts.get_revision(target).down_revision  # type: ignore[assignment]
    return target or "base"


async def schema_drift(database: Database) -> list[Any]:
    """Differences between the tables in code and the migrated schema; empty when they match."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from baton.migrations.env_options import include_object_for
    from baton.server.database.tables import metadata

    def compare(connection: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": include_object_for(connection.dialect.name)},
        )
        with _sqlite_expression_index_warnings_ignored():
            return list(compare_metadata(context, metadata))

    async with database.read() as connection:
        return await connection.run_sync(compare)


async def _run(database: Database, operation: Callable[[Any], None]) -> None:
    migration_db = database.migration_database()
    try:
        async with migration_db.engine.connect() as connection:
            schema = database.store_schema
            if schema is not None:
                # A workspace's schema: table names translated, the version table in that schema.
                await connection.execution_options(schema_translate_map={None: schema})

            def run(sync_connection: sa.Connection) -> None:
                if sync_connection.dialect.name == "postgresql":
                    sync_connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
                    sync_connection.commit()
                try:
                    config = alembic_config()
                    config.attributes["connection"] = sync_connection
                    config.attributes["version_table_schema"] = schema
                    config.attributes["workspace_store"] = database.workspace_id is not None
                    operation(config)
                    if sync_connection.in_transaction():
                        sync_connection.commit()
                finally:
                    if sync_connection.dialect.name == "postgresql":
                        sync_connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                        sync_connection.commit()

            try:
                await connection.run_sync(run)
            except sa.exc.ProgrammingError as exc:
                raise _explain_privilege_error(exc, database) from exc
    finally:
        await migration_db.dispose()


@contextlib.contextmanager
def _sqlite_expression_index_warnings_ignored() -> Iterator[None]:
    """SQLite cannot reflect expression indexes: the drift check leaves them out there (PostgreSQL compares them),
    and dropping a table drops its indexes anyway."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based")
        yield


def _drop_all_tables(connection: sa.Connection) -> None:
    reflected = sa.MetaData()
    with _sqlite_expression_index_warnings_ignored():
        reflected.reflect(bind=connection)
    if connection.dialect.name == "postgresql":
        for table in reflected.tables.values():
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
    else:
        reflected.drop_all(bind=connection)


def _explain_privilege_error(exc: sa.exc.ProgrammingError, database: Database) -> BatonError:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "pg_trgm" in text or "permission denied to create extension" in text:
        name = database.url.database
        return MigrationError(
            "Baton needs the PostgreSQL extension pg_trgm, and this database user may not create it "
            f"({text.strip()}). Creating an extension needs the CREATE privilege on database '{name}' (and, for "
            f"pg_trgm, a trusted extension or superuser). Ask an administrator to run `CREATE EXTENSION IF NOT "
            f"EXISTS pg_trgm;` in database '{name}', then run the migration again."
        )
    return MigrationError(f"The migration failed: {text.strip()}")
