"""The trigger engine's actors on a real database: events counted into buckets, firings recorded once with their
action runs queued on the broker, proactive windows closed by the periodic pass, composite triggers, and the events
pipeline handing its events over."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import pytest
import sqlalchemy as sa

from baton.actors import automation_triggers, events
from baton.actors.runtime import ActorRuntime
from baton.actors.trigger_batches import trigger_evaluations
from baton.queue import messages
from baton.queue.broker import make_broker
from baton.server.automations.evaluation import evaluate_events, evaluate_proactive_trigger, proactive_pass_needed
from baton.server.automations.loaded import automation_cache
from baton.server.automations.triggers import ObservedEvent
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.automations.automations import (
    create_automation,
    replace_automation,
    set_automation_enabled,
)
from baton.server.schemas.automations import AutomationCreate, AutomationUpdate
from baton.settings import Settings
from tests.pipeline import create_flow_run, eventually

PROACTIVE_LOOP_SECONDS = 0.2


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        api_database_connection_url=database_url,
        services_automations_proactive_loop_seconds=PROACTIVE_LOOP_SECONDS,
    )


@pytest.fixture
async def runtime(settings: Settings, database: Database) -> AsyncIterator[ActorRuntime]:
    runtime = ActorRuntime(settings, make_broker(settings), database)
    yield runtime
    await runtime.close()


def make_event(
    name: str,
    seconds_ago: float = 0,
    resource_id: str = "prefect.flow-run.1",
    related: list[dict[str, str]] | None = None,
    **labels: str,
) -> dict[str, Any]:
    occurred = (utcnow() - dt.timedelta(seconds=seconds_ago)).isoformat()
    return {
        "id": str(uuid.uuid4()),
        "occurred": occurred,
        "received": occurred,
        "event": name,
        "resource": {"prefect.resource.id": resource_id, **labels},
        "related": related or [],
        "payload": {},
    }


async def automation(database: Database, trigger: dict[str, Any], *, enabled: bool = True) -> dict[str, Any]:
    body = AutomationCreate.model_validate(
        {"name": "a", "enabled": enabled, "trigger": trigger, "actions": [{"type": "do-nothing"}]}
    )
    async with database.write() as connection:
        return await create_automation(connection, body)


def reactive(expect: list[str], **fields: Any) -> dict[str, Any]:
    return {"type": "event", "posture": "Reactive", "expect": expect, **fields}


async def firings(database: Database, automation_id: uuid.UUID) -> list[dict[str, Any]]:
    firing = t.automation_firing.c
    query = sa.select(t.automation_firing).where(firing.automation_id == automation_id).order_by(firing.created)
    async with database.read() as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def action_run_count(database: Database, automation_id: uuid.UUID) -> int:
    query = sa.select(sa.func.count()).where(t.automation_action_run.c.automation_id == automation_id)
    async with database.read() as connection:
        return int((await connection.execute(query)).scalar_one())


def take_queued(runtime: ActorRuntime, actor_name: str) -> list[tuple[Any, ...]]:
    """The arguments of the messages for `actor_name` queued on the broker (taken off the queue)."""
    queue = runtime.broker.queues[messages.ACTOR_QUEUES[actor_name]]
    kept, taken = [], []
    while not queue.empty():
        message = dramatiq.Message.decode(queue.get_nowait())
        (taken if message.actor_name == actor_name else kept).append(message)
    for message in kept:
        queue.put_nowait(message.encode())
    return [tuple(message.args) for message in taken]


async def evaluate(runtime: ActorRuntime, batch: list[dict[str, Any]]) -> None:
    await automation_triggers.evaluate_triggers(runtime, messages.evaluate_triggers(batch).args[0])


async def drain_evaluations(runtime: ActorRuntime) -> None:
    """Run the queued evaluations (automations reacting to automations) until none is left."""
    for _ in range(10):
        queued = take_queued(runtime, messages.EVALUATE_TRIGGERS)
        if not queued:
            return
        for (batch,) in queued:
            await automation_triggers.evaluate_triggers(runtime, batch)
    raise AssertionError("evaluations kept queueing evaluations")


async def test_a_reactive_threshold_fires_once_within_its_window_and_queues_the_actions(
    runtime: ActorRuntime, database: Database
) -> None:
    row = await automation(database, reactive(["prefect.flow-run.Failed"], threshold=3, within=3600))
    await evaluate(runtime, [make_event("prefect.flow-run.Failed", 30), make_event("prefect.flow-run.Completed", 20)])
    await evaluate(runtime, [make_event("prefect.flow-run.Failed", 20)])
    assert await firings(database, row["id"]) == []
    await evaluate(runtime, [make_event("prefect.flow-run.Failed", 10), make_event("prefect.flow-run.Failed", 5)])
    fired = await firings(database, row["id"])
    assert [f["trigger_state"] for f in fired] == ["Triggered"]
    assert fired[0]["triggering_event"]["event"] == "prefect.flow-run.Failed"
    runs = take_queued(runtime, messages.RUN_AUTOMATION_ACTIONS)
    assert len(runs) == 1 and len(runs[0][0]) == 1 == await action_run_count(database, row["id"])
    # The firing's own event goes to the automations only if one of them may look at it: none does.
    assert take_queued(runtime, messages.EVALUATE_TRIGGERS) == []


async def test_for_each_counts_each_resource_in_its_own_bucket(runtime: ActorRuntime, database: Database) -> None:
    row = await automation(database, reactive(["x"], threshold=2, within=3600, for_each=["prefect.resource.id"]))
    await evaluate(
        runtime,
        [
            make_event("x", 3, resource_id="prefect.flow-run.1"),
            make_event("x", 2, resource_id="prefect.flow-run.2"),
            make_event("x", 1, resource_id="prefect.flow-run.1"),
        ],
    )
    fired = await firings(database, row["id"])
    assert [f["triggering_labels"] for f in fired] == [{"prefect.resource.id": "prefect.flow-run.1"}]


async def test_match_related_and_related_for_each(runtime: ActorRuntime, database: Database) -> None:
    trigger = reactive(
        ["prefect.flow-run.Failed"],
        match_related={"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.nightly"},
        for_each=["related:flow:prefect.resource.name"],
    )
    row = await automation(database, trigger)
    flow = {"prefect.resource.id": "prefect.flow.1", "prefect.resource.role": "flow", "prefect.resource.name": "etl"}
    tag = {"prefect.resource.id": "prefect.tag.nightly", "prefect.resource.role": "tag"}
    await evaluate(
        runtime,
        [
            make_event("prefect.flow-run.Failed", 2, related=[flow]),
            make_event("prefect.flow-run.Failed", 1, related=[flow, tag]),
        ],
    )
    fired = await firings(database, row["id"])
    assert [f["triggering_labels"] for f in fired] == [{"related:flow:prefect.resource.name": "etl"}]


async def test_after_arms_and_expect_fires_immediately(runtime: ActorRuntime, database: Database) -> None:
    row = await automation(database, reactive(["finished"], after=["started"], within=3600))
    await evaluate(runtime, [make_event("finished", 5)])
    assert await firings(database, row["id"]) == []
    await evaluate(runtime, [make_event("started", 4), make_event("finished", 3), make_event("finished", 2)])
    assert len(await firings(database, row["id"])) == 1


async def test_an_immediate_trigger_fires_for_each_event(runtime: ActorRuntime, database: Database) -> None:
    row = await automation(
        database, reactive(["prefect.flow-run.*"], match={"prefect.resource.id": "prefect.flow-run.*"})
    )
    await evaluate(
        runtime,
        [
            make_event("prefect.flow-run.Failed", 2),
            make_event("prefect.flow-run.Crashed", 1),
            make_event("prefect.flow-run.Failed", 1, resource_id="prefect.deployment.1"),
        ],
    )
    assert len(await firings(database, row["id"])) == 2
    assert len(take_queued(runtime, messages.RUN_AUTOMATION_ACTIONS)) == 1  # one message for the batch's runs


async def test_a_redelivered_batch_fires_nothing_twice(runtime: ActorRuntime, database: Database) -> None:
    immediate = await automation(database, reactive(["x"]))
    counting = await automation(database, reactive(["x"], threshold=4, within=3600))
    batch = [make_event("x", 3), make_event("x", 2)]
    batch.append(dict(batch[0]))  # a client sent it twice
    await evaluate(runtime, batch)
    await evaluate(runtime, batch)
    assert len(await firings(database, immediate["id"])) == 2
    assert await firings(database, counting["id"]) == []
    async with database.read() as connection:
        count = (
            await connection.execute(
                sa.select(t.automation_bucket.c.count).where(t.automation_bucket.c.automation_id == counting["id"])
            )
        ).scalar_one()
    assert count == 2
    assert [len(args[0]) for args in take_queued(runtime, messages.RUN_AUTOMATION_ACTIONS)] == [2]


async def test_batches_arriving_together_share_one_transaction_and_each_event_counts_once(
    runtime: ActorRuntime, database: Database
) -> None:
    counting = await automation(database, reactive(["x"], threshold=1000, within=3600))
    batches = [[make_event("x", 1) for _ in range(5)] for _ in range(8)]
    evaluations = trigger_evaluations(runtime, automation_triggers.act_on)
    before = evaluations.transactions
    await asyncio.gather(*(evaluate(runtime, batch) for batch in batches), evaluate(runtime, batches[0]))
    # All nine messages (one a redelivery) are waiting before the first transaction starts: they share it.
    assert evaluations.transactions - before == 1
    async with database.read() as connection:
        count = (
            await connection.execute(
                sa.select(t.automation_bucket.c.count).where(t.automation_bucket.c.automation_id == counting["id"])
            )
        ).scalar_one()
    assert count == 40


async def test_disabled_automations_never_fire(runtime: ActorRuntime, database: Database) -> None:
    off = await automation(database, reactive(["x"]), enabled=False)
    on = await automation(database, reactive(["x"]))
    loaded = await automation_cache(database).current(max_age=0)  # a view taken while `on` was enabled
    async with database.write() as connection:
        await set_automation_enabled(connection, on["id"], False)
    async with database.write() as connection:
        outcome = await evaluate_events(connection, loaded, [ObservedEvent.from_json(make_event("x", 1))])
    await evaluate(runtime, [make_event("x", 1)])
    assert outcome.action_run_ids == []
    assert await firings(database, off["id"]) == [] and await firings(database, on["id"]) == []


async def test_a_put_resets_the_trigger_state(runtime: ActorRuntime, database: Database) -> None:
    trigger = reactive(["x"], threshold=2, within=3600)
    row = await automation(database, trigger)
    await evaluate(runtime, [make_event("x", 3)])
    update = AutomationUpdate.model_validate({"name": "a", "trigger": trigger, "actions": [{"type": "do-nothing"}]})
    async with database.write() as connection:
        assert await replace_automation(connection, row["id"], update)
    await evaluate(runtime, [make_event("x", 2)])
    assert await firings(database, row["id"]) == []
    await evaluate(runtime, [make_event("x", 1)])
    assert len(await firings(database, row["id"])) == 1


async def test_a_proactive_trigger_fires_after_its_window_and_resolves(
    runtime: ActorRuntime, database: Database
) -> None:
    trigger = {"type": "event", "posture": "Proactive", "after": ["started"], "expect": ["finished"], "within": 10}
    row = await automation(database, trigger)
    await evaluate(runtime, [make_event("started", 15)])  # its window closed 5 s ago with nothing in it
    await automation_triggers.evaluate_proactive_triggers(runtime)
    await automation_triggers.evaluate_proactive_triggers(runtime)  # fires once per window
    fired = await firings(database, row["id"])
    assert [f["trigger_state"] for f in fired] == ["Triggered"]
    assert fired[0]["triggering_event"]["event"] == "started"
    await evaluate(runtime, [make_event("finished", 0)])
    await automation_triggers.evaluate_proactive_triggers(runtime)
    assert [f["trigger_state"] for f in await firings(database, row["id"])] == ["Triggered", "Resolved"]


async def test_a_proactive_trigger_without_after_watches_from_the_first_pass(
    runtime: ActorRuntime, database: Database
) -> None:
    trigger = {"type": "event", "posture": "Proactive", "expect": ["tick"], "within": 10}
    row = await automation(database, trigger)
    loaded = await automation_cache(database).current(max_age=0)
    (each,) = loaded.proactive_triggers()
    start = utcnow()
    for seconds in (0, 5, 11):
        async with database.write() as connection:
            await evaluate_proactive_trigger(connection, loaded, each, start + dt.timedelta(seconds=seconds))
    assert [f["trigger_state"] for f in await firings(database, row["id"])] == ["Triggered"]
    await evaluate(runtime, [make_event("tick", 0)])
    assert [f["trigger_state"] for f in await firings(database, row["id"])] == ["Triggered", "Resolved"]


async def test_a_proactive_pass_takes_a_write_transaction_only_for_triggers_with_something_due(
    runtime: ActorRuntime, database: Database
) -> None:
    armed = await automation(
        database, {"type": "event", "posture": "Proactive", "after": ["started"], "expect": ["done"], "within": 10}
    )
    unkeyed = await automation(database, {"type": "event", "posture": "Proactive", "expect": ["tick"], "within": 10})
    loaded = await automation_cache(database).current(max_age=0)
    by_automation = {each.automation_id: each for each in loaded.proactive_triggers()}

    async def needed(automation_id: uuid.UUID, at: dt.datetime) -> bool:
        async with database.read() as connection:
            return await proactive_pass_needed(connection, by_automation[automation_id], at)

    before = utcnow()
    assert (await needed(armed["id"], before), await needed(unkeyed["id"], before)) == (False, True)
    await automation_triggers.evaluate_proactive_triggers(runtime)
    await evaluate(runtime, [make_event("started", 0)])
    # Both windows opened before this moment (a loaded machine may take seconds over the passes above).
    opened = utcnow()
    assert (await needed(armed["id"], opened), await needed(unkeyed["id"], opened)) == (False, False)
    later = opened + dt.timedelta(seconds=11)
    assert (await needed(armed["id"], later), await needed(unkeyed["id"], later)) == (True, True)


async def test_a_proactive_trigger_satisfied_in_time_never_fires(runtime: ActorRuntime, database: Database) -> None:
    trigger = {"type": "event", "posture": "Proactive", "after": ["started"], "expect": ["finished"], "within": 10}
    row = await automation(database, trigger)
    await evaluate(runtime, [make_event("started", 15), make_event("finished", 12)])
    await automation_triggers.evaluate_proactive_triggers(runtime)
    assert await firings(database, row["id"]) == []


def compound(require: Any, names: list[str], within: float | None = 3600) -> dict[str, Any]:
    return {"type": "compound", "require": require, "within": within, "triggers": [reactive([n]) for n in names]}


@pytest.mark.parametrize(
    ("require", "sent", "fired"),
    [
        ("any", ["b"], 1),
        ("all", ["a", "b"], 0),
        ("all", ["a", "c", "b", "a"], 1),
        (2, ["c", "c"], 0),
        (2, ["c", "a"], 1),
    ],
    ids=["any", "all-incomplete", "all", "two-same-child", "two"],
)
async def test_compound_triggers(
    runtime: ActorRuntime, database: Database, require: Any, sent: list[str], fired: int
) -> None:
    row = await automation(database, compound(require, ["a", "b", "c"]))
    for n, name in enumerate(sent):
        await evaluate(runtime, [make_event(name, 10 - n)])
    found = await firings(database, row["id"])
    assert len(found) == fired
    assert {str(f["trigger_id"]) for f in found} <= {row["trigger"]["id"]}


async def test_a_compound_trigger_forgets_children_outside_its_window(
    runtime: ActorRuntime, database: Database
) -> None:
    row = await automation(database, compound("all", ["a", "b"], within=60))
    await evaluate(runtime, [make_event("a", 120), make_event("b", 1)])
    assert await firings(database, row["id"]) == []
    await evaluate(runtime, [make_event("a", 0)])
    assert len(await firings(database, row["id"])) == 1


async def test_composite_children_fire_in_the_order_of_their_events_within_a_batch(
    runtime: ActorRuntime, database: Database
) -> None:
    both = await automation(database, compound("all", ["x", "x"]))
    in_order = await automation(database, {"type": "sequence", "triggers": [reactive(["a"]), reactive(["b"])]})
    await evaluate(runtime, [make_event("x", 3), make_event("x", 2), make_event("x", 1)])
    await evaluate(runtime, [make_event("a", 4), make_event("b", 3), make_event("a", 2), make_event("b", 1)])
    assert len(await firings(database, both["id"])) == 3
    assert len(await firings(database, in_order["id"])) == 2


async def test_a_sequence_fires_only_in_order(runtime: ActorRuntime, database: Database) -> None:
    row = await automation(
        database, {"type": "sequence", "within": 3600, "triggers": [reactive(["a"]), reactive(["b"])]}
    )
    await evaluate(runtime, [make_event("b", 5), make_event("a", 4)])
    assert await firings(database, row["id"]) == []
    await evaluate(runtime, [make_event("b", 3)])
    assert len(await firings(database, row["id"])) == 1


async def test_automations_react_to_other_automations_but_never_to_themselves(
    runtime: ActorRuntime, database: Database
) -> None:
    first = await automation(database, reactive(["x"]))
    watcher = await automation(database, reactive(["prefect.automation.triggered"]))
    await evaluate(runtime, [make_event("x", 1)])
    await drain_evaluations(runtime)
    assert len(await firings(database, first["id"])) == 1
    fired = await firings(database, watcher["id"])
    assert len(fired) == 1
    assert fired[0]["triggering_event"]["resource"]["prefect.resource.id"] == f"prefect.automation.{first['id']}"


async def test_two_automations_firing_each_other_stop_after_a_few_rounds(
    runtime: ActorRuntime, database: Database
) -> None:
    first = await automation(database, reactive(["x", "prefect.automation.triggered"]))
    second = await automation(database, reactive(["prefect.automation.triggered"]))
    await evaluate(runtime, [make_event("x", 1)])
    await drain_evaluations(runtime)
    counts = [len(await firings(database, row["id"])) for row in (first, second)]
    assert counts == [3, 2]  # x -> first -> second -> first -> second -> first: the 5th firing in a row is the last


async def test_the_recorder_counts_its_batches_in_the_transaction_that_records_them(
    runtime: ActorRuntime, database: Database
) -> None:
    evaluations = trigger_evaluations(runtime, automation_triggers.act_on)
    await events.record_events(runtime, messages.record_events([make_event("x", 1)]).args[0])
    row = await automation(database, reactive(["x"], threshold=2, within=3600))
    automation_cache(database).forget()
    first = messages.record_events([make_event("x", 1), make_event("y", 1)]).args[0]
    await events.record_events(runtime, first)
    await events.record_events(runtime, first)  # redelivered: its events are stored already, so none counts again
    await events.record_events(runtime, messages.record_events([make_event("y", 1)]).args[0])
    assert await firings(database, row["id"]) == []
    await events.record_events(runtime, messages.record_events([make_event("x", 1)]).args[0])
    assert len(await firings(database, row["id"])) == 1
    # No second queue hop, no second transaction, and no counted-event rows: the events' insert told which were new.
    assert take_queued(runtime, messages.EVALUATE_TRIGGERS) == []
    assert evaluations.transactions == 0
    async with database.read() as connection:
        counted = (
            await connection.execute(sa.select(sa.func.count()).select_from(t.automation_counted_event))
        ).scalar()
    assert counted == 0


async def test_a_batch_whose_counting_fails_is_not_recorded_either(
    runtime: ActorRuntime, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = await automation(database, reactive(["x"], threshold=1, within=3600))
    automation_cache(database).forget()
    batch = [make_event("x", 1)]

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("counting failed")

    monkeypatch.setattr(automation_triggers, "evaluate_events", broken)
    with pytest.raises(RuntimeError, match="counting failed"):
        await events.record_events(runtime, messages.record_events(batch).args[0])
    async with database.read() as connection:
        stored = (await connection.execute(sa.select(sa.func.count()).select_from(t.events))).scalar()
    assert stored == 0
    monkeypatch.undo()
    await events.record_events(runtime, messages.record_events(batch).args[0])  # the redelivery records and counts
    assert len(await firings(database, row["id"])) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_evaluators_at_once_count_each_event_once(
    runtime: ActorRuntime, database: Database, database_url: str, settings: Settings
) -> None:
    row = await automation(database, reactive(["x"], threshold=1000, within=3600, for_each=["prefect.resource.id"]))
    at_ninety = await automation(database, reactive(["x"], threshold=90, within=3600))
    both = await automation(database, compound("all", ["x", "x"]))
    batch = [make_event("x", 5, resource_id=f"prefect.flow-run.{n % 3}") for n in range(90)]
    other = Database(database_url)
    await other.open()
    second = ActorRuntime(settings, runtime.broker, other)
    try:
        await asyncio.gather(
            evaluate(runtime, batch[:45]), evaluate(second, batch[45:]), evaluate(runtime, batch[30:60])
        )
    finally:
        await second.close()
        await other.dispose()
    async with database.read() as connection:
        counts = (
            await connection.execute(
                sa.select(sa.func.sum(t.automation_bucket.c.count)).where(
                    t.automation_bucket.c.automation_id == row["id"]
                )
            )
        ).scalar_one()
    assert counts == 90
    assert len(await firings(database, at_ninety["id"])) == 1
    assert len(await firings(database, both["id"])) == 90


async def test_the_embedded_pipeline_evaluates_events_from_clients_and_flow_run_states(
    client: httpx.AsyncClient, pipeline: ServerContext
) -> None:
    response = await client.post(
        "/automations/",
        json={
            "name": "on-failure",
            "trigger": reactive(["prefect.flow-run.Failed", "custom.event"]),
            "actions": [{"type": "do-nothing"}],
        },
    )
    assert response.status_code == 201, response.text
    automation_id = uuid.UUID(response.json()["id"])
    automation_cache(pipeline.database).forget()
    assert (await client.post("/events", json=[make_event("custom.event", 1)])).status_code == 204
    run = await create_flow_run(client)
    state = await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "FAILED"}, "force": True})
    assert state.status_code in (200, 201), state.text

    async def both() -> list[str]:
        found = sorted(f["triggering_event"]["event"] for f in await firings(pipeline.database, automation_id))
        return found if len(found) == 2 else []

    assert await eventually(both) == ["custom.event", "prefect.flow-run.Failed"]


async def test_the_beat_closes_proactive_windows(client: httpx.AsyncClient, pipeline: ServerContext) -> None:
    trigger = {"type": "event", "posture": "Proactive", "after": ["started"], "expect": ["finished"], "within": 10}
    response = await client.post(
        "/automations/", json={"name": "late", "trigger": trigger, "actions": [{"type": "do-nothing"}]}
    )
    automation_id = uuid.UUID(response.json()["id"])
    automation_cache(pipeline.database).forget()
    assert (await client.post("/events", json=[make_event("started", 15)])).status_code == 204

    async def fired() -> list[str]:
        return [f["trigger_state"] for f in await firings(pipeline.database, automation_id)]

    assert await eventually(fired, within=15) == ["Triggered"]
    assert (await client.post("/events", json=[make_event("finished", 0)])).status_code == 204
    assert await eventually(lambda: _resolved(fired)) == ["Triggered", "Resolved"]


async def _resolved(fired: Any) -> list[str]:
    states = await fired()
    return states if len(states) == 2 else []


async def test_the_sweep_deletes_old_counted_events_and_expired_buckets(
    runtime: ActorRuntime, database: Database
) -> None:
    await automation(database, reactive(["x"], threshold=5, within=60, for_each=["prefect.resource.id"]))
    await evaluate(runtime, [make_event("x", 7200, resource_id="old"), make_event("x", 1, resource_id="new")])
    counted = t.automation_counted_event.c
    async with database.write() as connection:
        await connection.execute(
            sa.update(t.automation_counted_event)
            .where(counted.event_id.in_(sa.select(counted.event_id).limit(1)))
            .values(created=utcnow() - dt.timedelta(hours=2))
        )
    await automation_triggers.sweep_trigger_state(runtime, utcnow())
    async with database.read() as connection:
        left = (await connection.execute(sa.select(sa.func.count()).select_from(t.automation_counted_event))).scalar()
        keys = (await connection.execute(sa.select(t.automation_bucket.c.bucketing_key))).scalars().all()
    assert left == 1
    assert keys == ['["new"]']
