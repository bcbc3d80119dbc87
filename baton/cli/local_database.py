"""What the identity commands share: they work on the database itself (BATON_API_DATABASE_CONNECTION_URL), not
through the API, so that whoever holds the database's credentials can make the first admin before any server runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from baton.settings import load_settings

if TYPE_CHECKING:
    from baton.server.database.engine import Database

T = TypeVar("T")


def on_database(operation: Callable[[Database], Awaitable[T]]) -> T:
    """Run `operation` on the configured database, brought to the newest schema first as `baton server start` does
    (unless BATON_API_DATABASE_MIGRATE_ON_START=false, which makes an old schema an error)."""
    from baton.errors import BatonError
    from baton.server.database import migrate
    from baton.server.database.engine import Database

    settings = load_settings()

    async def run() -> T:
        database = Database.from_settings(settings)
        await database.open()
        try:
            if not await migrate.is_current(database):
                revision = await migrate.check_known_revision(database)
                if not settings.api_database_migrate_on_start:
                    raise BatonError(
                        f"The database schema is at revision {revision or 'none (empty database)'}, not the newest. "
                        "Run `baton server database upgrade -y` first."
                    )
                await migrate.upgrade(database)
            return await operation(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


def read_password(from_stdin: bool, prompt: str = "Password") -> str:
    """A password from standard input (its first line) or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def when(value: dt.datetime | None) -> str:
    """A stored time as 'YYYY-MM-DD HH:MM:SS' UTC, or '-'."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def parse_time(text: str | None, option: str) -> dt.datetime | None:
    """An ISO 8601 time from an option (UTC when it names no zone); a usage error otherwise."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time such as 2026-12-31T18:00:00Z.", param_hint=option
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def jsonable_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with times as ISO 8601 and ids as text, for --json."""

    def convert(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if value is None or isinstance(value, str | int | float | bool):
            return value
        return str(value)

    return [convert(row) for row in rows]
