"""The indexes of migration 0008 exist on both databases and serve the UI pages' queries (SQLite cannot reflect the
expression index, so the drift check cannot see it there)."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.filters.core import RUN_START_KEY, flow_run_condition
from baton.server.schemas.requests import RunFilterSet

UI_INDEXES = {
    "ix_flow_run__start_key__id",
    "ix_flow_run__name__id",
    "ix_flow_run__flow_id__start_time",
    "ix_flow_run__expected_start_time__state_type",
}


async def index_names(database: Database) -> set[str]:
    if database.dialect.name == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'flow_run'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'flow_run'"
    async with database.read() as connection:
        return {row[0] for row in (await connection.exec_driver_sql(query)).all()}


async def test_ui_indexes_exist_and_replaced_ones_are_gone(database: Database) -> None:
    names = await index_names(database)
    assert UI_INDEXES <= names
    assert not {"ix_flow_run__name", "ix_flow_run__flow_id", "ix_flow_run__expected_start_time"} & names
    assert ("gin_ix_flow_run__tags" in names) is (database.dialect.name == "postgresql")


async def test_runs_sort_key_is_read_from_its_index(database: Database) -> None:
    query = sa.select(t.flow_run.c.id).order_by(RUN_START_KEY.desc(), t.flow_run.c.id.desc()).limit(50)
    async with database.read() as connection:
        compiled = query.compile(connection.sync_connection, compile_kwargs={"literal_binds": True})
        if database.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(row[0] for row in (await connection.exec_driver_sql(f"EXPLAIN {compiled}")).all())
        else:
            rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")).all()
            plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_flow_run__start_key__id" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


async def test_a_start_time_range_is_read_from_the_sort_key_index(database: Database) -> None:
    """The runs page's date range (and the API's start_time filter) is a range over the sort key's index."""
    filters = RunFilterSet.model_validate(
        {"flow_runs": {"start_time": {"after_": "2026-03-01T00:00:00Z", "before_": "2026-03-02T00:00:00Z"}}}
    )
    condition = flow_run_condition(filters, database.dialect)
    query = sa.select(t.flow_run.c.id).where(condition).order_by(RUN_START_KEY.desc(), t.flow_run.c.id.desc()).limit(50)
    async with database.read() as connection:
        compiled = query.compile(connection.sync_connection, compile_kwargs={"literal_binds": True})
        if database.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(row[0] for row in (await connection.exec_driver_sql(f"EXPLAIN {compiled}")).all())
        else:
            rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")).all()
            plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_flow_run__start_key__id" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
