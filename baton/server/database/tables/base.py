"""The shared MetaData and the columns every table has."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from baton.server.database.types import JSONType, Timestamp, utcnow

# Named constraints, so that migrations can address them by name on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s__%(column_0_N_name)s",
    "uq": "uq_%(table_name)s__%(column_0_N_name)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
    "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def base_columns(*, index_updated: bool = True) -> list[sa.Column[object]]:
    """`id` (UUID primary key), `created` and `updated` (indexed unless the rows are never updated), as every Baton
    table has them."""
    return [
        sa.Column("id", sa.Uuid(), primary_key=True, default=uuid.uuid4),
        sa.Column("created", Timestamp(), nullable=False, default=utcnow),
        sa.Column("updated", Timestamp(), nullable=False, default=utcnow, onupdate=utcnow, index=index_updated),
    ]


def json_column(name: str, default: object = None, nullable: bool = True) -> sa.Column[object]:
    """A JSON column whose Python-side default is a fresh copy of `default` (a list or dict, never shared)."""
    if isinstance(default, list | dict):
        empty = default

        def factory() -> object:
            return type(empty)()

        return sa.Column(name, JSONType(), nullable=nullable, default=factory)
    return sa.Column(name, JSONType(), nullable=nullable, default=default)


# The `Index.info` key that names the one dialect an index exists on; the migration environment's `include_object`
# reads it (SQLAlchemy keeps `ddl_if` in a private attribute).
ONLY_ON_DIALECT = "baton_only_on_dialect"


def postgresql_only(index: sa.Index) -> sa.Index:
    """`index`, created on PostgreSQL only (`ddl_if`), and marked so in its `info` under ONLY_ON_DIALECT."""
    return _only_on("postgresql", index)


def sqlite_only(index: sa.Index) -> sa.Index:
    """`index`, created on SQLite only: the SQLite form of an index whose PostgreSQL form SQLite cannot parse."""
    return _only_on("sqlite", index)


def _only_on(dialect: str, index: sa.Index) -> sa.Index:
    index.info[ONLY_ON_DIALECT] = dialect
    return index.ddl_if(dialect=dialect)


def trigram_index(table_name: str, column: str = "name") -> sa.Index:
    """A GIN trigram index for `like_` name search; PostgreSQL only (SQLite searches by scan)."""
    return postgresql_only(
        sa.Index(
            f"trgm_ix_{table_name}__{column}",
            column,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
    )


def state_columns() -> list[sa.Column[object]]:
    """The current state denormalised onto a run row, plus its timing columns (flow runs and task runs)."""
    return [
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(20), nullable=True),
        sa.Column("state_name", sa.String(100), nullable=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False, default=0),
        sa.Column("expected_start_time", Timestamp(), nullable=True),
        sa.Column("next_scheduled_start_time", Timestamp(), nullable=True),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        sa.Column("total_run_time", sa.Float(), nullable=False, default=0.0),
    ]


def state_history_columns(run_table: str, *, index_updated: bool = True) -> list[sa.Column[object]]:
    """The columns of a state-history table (`flow_run_state`, `task_run_state`) whose runs live in `run_table`."""
    return [
        *base_columns(index_updated=index_updated),
        sa.Column(f"{run_table}_id", sa.Uuid(), sa.ForeignKey(f"{run_table}.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False, default=utcnow),
        sa.Column("message", sa.Text(), nullable=True),
        json_column("state_details", default={}, nullable=False),
        json_column("data"),
        sa.Column("result_artifact_id", sa.Uuid(), nullable=True),
    ]
