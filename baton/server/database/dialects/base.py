"""What differs between database engines, behind one small interface. Models never branch on the dialect."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine


class DatabaseDialect(ABC):
    """One database engine's settings, connection set-up, upserts and error classification."""

    name: str
    #: Whether writes must be serialised inside the process (SQLite has a single writer).
    serialize_writes: bool = False

    @abstractmethod
    def engine_options(
        self,
        url: sa.URL,
        *,
        timeout: float,
        connection_timeout: float,
        pool_size: int,
        max_overflow: int,
        pool_recycle: int,
        for_migrations: bool,
    ) -> dict[str, Any]:
        """Keyword arguments for `create_async_engine` for this URL."""

    def configure_engine(self, engine: AsyncEngine, *, timeout: float, for_migrations: bool) -> None:
        """Attach connection listeners (pragmas, transaction handling). The default attaches none."""
        return None

    @abstractmethod
    def insert(self, table: sa.Table) -> Any:
        """A dialect INSERT that supports `on_conflict_do_nothing` / `on_conflict_do_update`."""

    @abstractmethod
    def is_busy_error(self, exc: BaseException) -> bool:
        """True when `exc` means "try again shortly": a lock timeout, a serialisation failure, a lost connection."""

    def lock_keys_statement(self, keys: list[int]) -> sa.Executable | None:
        """A statement that holds a lock on each of `keys` (64-bit integers) until the transaction ends, taken in key
        order; None where writers are serialised anyway (SQLite)."""
        return None

    def write_execution_options(self) -> dict[str, Any]:
        """Execution options for a connection that will write (SQLite takes its write lock up front)."""
        return {}

    def json_contains(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        """A condition that the JSON array `column` contains every one of `values`."""
        raise NotImplementedError

    def json_overlaps(self, column: sa.ColumnElement[Any], values: list[Any]) -> sa.ColumnElement[bool]:
        """A condition that the JSON array `column` contains at least one of `values`."""
        raise NotImplementedError

    def json_array_length(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """The number of elements of the JSON array `column`."""
        raise NotImplementedError

    def epoch_seconds(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
        """The timestamp `column` as (fractional) seconds since 1970-01-01 UTC."""
        raise NotImplementedError

    def seconds_since(self, column: sa.ColumnElement[Any], moment: dt.datetime) -> sa.ColumnElement[float]:
        """Seconds from the aware datetime `moment` to the timestamp `column`, exact at least to the millisecond (so
        that a time on a bucket's edge falls in the bucket it starts)."""
        raise NotImplementedError

    def truncate_to_integer(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """The number `value` truncated toward zero, as an integer."""
        raise NotImplementedError

    def json_array_elements(self, column: sa.ColumnElement[Any]) -> sa.TableValuedAlias:
        """A table of the elements of the JSON array `column`, one per row in its column `value`; correlated when
        used inside a subquery on `column`'s table."""
        raise NotImplementedError

    def json_object_text(self, value: sa.ColumnElement[Any], key: str) -> sa.ColumnElement[str]:
        """The text of the string member `key` of the JSON object `value` (NULL when it has none)."""
        raise NotImplementedError
