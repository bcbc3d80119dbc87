"""The Concurrency page's query: global and tag limits apart, slots after decay, holders and their runs' names."""

from __future__ import annotations

import uuid

from baton.server.database.engine import Database
from baton.server.models.concurrency import concurrency_leases as leases
from baton.server.models.concurrency import concurrency_limits as limits
from baton.server.models.runs.flow_runs import create_flow_run
from baton.server.models.runs.flows import create_flow
from baton.server.models.views.concurrency_overview import read_limits_overview
from baton.server.schemas.actions import FlowCreate, FlowRunCreate
from baton.server.schemas.concurrency import ConcurrencyLimitV2Create


async def test_global_and_tag_limits_with_holders(database: Database) -> None:
    async with database.write() as connection:
        for name, size in (("zeta", 1), ("tag:db", 2), ("alpha", 3), ("tag_like", 1)):
            await limits.create_concurrency_limit(
                connection, ConcurrencyLimitV2Create.model_validate({"name": name, "limit": size})
            )
        flow, _ = await create_flow(connection, FlowCreate(name="etl"))
        run, _ = await create_flow_run(connection, FlowRunCreate(flow_id=flow["id"], name="brave-otter"))
        await leases.take_slots_with_lease(
            connection, ["alpha"], 2, "concurrency", 60, {"type": "flow_run", "id": run["id"]}
        )
        gone = uuid.uuid4()
        await leases.take_slots_with_lease(
            connection, ["tag:db"], 1, "concurrency", 60, {"type": "task_run", "id": gone}
        )

    async with database.read() as connection:
        overview = await read_limits_overview(connection, page_size=2)

    # "tag_like" is a global limit: only the "tag:" prefix makes a tag limit. Two per page, by name.
    assert [row["name"] for row in overview.global_limits] == ["alpha", "tag_like"]
    assert overview.has_more_global and not overview.has_more_tags
    assert [(row["tag"], row["limit"], row["active_slots"]) for row in overview.tag_limits] == [("db", 2, 1)]
    alpha = overview.global_limits[0]
    assert alpha["active_slots"] == 2
    assert [(holder["type"], holder["id"], holder["slots"]) for holder in alpha["holders"]] == [
        ("flow_run", run["id"], 2)
    ]
    assert overview.holder_names[run["id"]]["name"] == "brave-otter"
    assert overview.holder_names[run["id"]]["flow_run_id"] == run["id"]
    assert gone not in overview.holder_names
