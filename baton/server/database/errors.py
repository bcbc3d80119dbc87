"""Reading what a database error is, by its SQLSTATE (PostgreSQL's code; SQLite has none)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of `error`: a driver exception, or SQLAlchemy's wrapper of one (whose driver exception may in turn
    wrap asyncpg's)."""
    for candidate in (error, getattr(error, "orig", None)):
        for source in (candidate, getattr(candidate, "__cause__", None)):
            code = getattr(source, "sqlstate", None)
            if isinstance(code, str):
                return code
    return None


# Serialization failure and deadlock: the database aborted the transaction for a concurrent one; running it again
# (on a fresh snapshot) is the cure.
_CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})


def is_transaction_conflict(error: BaseException | None) -> bool:
    """True when the database aborted the transaction because of a concurrent one (a serialization failure or a
    deadlock), so the same work can simply run again."""
    return error is not None and sqlstate(error) in _CONFLICT_SQLSTATES


def is_data_error(error: BaseException) -> bool:
    """True for a "data exception" (SQLSTATE class 22): a value the database cannot store, not a fault of ours."""
    if isinstance(error, sa_exc.DataError):
        return True
    code = sqlstate(error) if isinstance(error, sa_exc.DBAPIError) else None
    return code is not None and code.startswith("22")


def is_integrity_error(error: BaseException) -> bool:
    """True when an integrity constraint (a unique key, say) refused the row."""
    return isinstance(error, sa_exc.IntegrityError)


def is_refused_data(error: BaseException) -> bool:
    """True when the database refused the data itself (a data exception, or an integrity constraint, class 23),
    rather than failing for a reason a retry may cure (a deadlock, a lost connection)."""
    if is_data_error(error) or isinstance(error, sa_exc.IntegrityError):
        return True
    code = sqlstate(error)
    return code is not None and code.startswith("23")
