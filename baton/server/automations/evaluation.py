"""The trigger engine on one database transaction: count a batch of events into the buckets of the event triggers
they concern, and let proactive windows close; each firing goes to `firing.route_firing`.

Idempotent and safe to run in several processes at once: the (trigger, key) pairs a batch touches are locked first,
in key order, together with the composite triggers above them; an event already counted counts nothing again
(`buckets.count_new_events`, or, for the events recorder, the insert of the events in the same transaction); a
firing's key is derived from what fired (`triggers.firing_key`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.firing import FiringOutcome, route_firing
from baton.server.automations.loaded import LoadedAutomations, LoadedTrigger
from baton.server.automations.triggers import (
    MAX_AUTOMATION_CHAIN,
    Bucket,
    Decision,
    ObservedEvent,
    automation_chain_length,
    bucketing_key,
    count_within,
    covers_resources,
    encode_key,
    expire,
    firing_key,
    proactive_bucket,
    react_in_place,
    triggering_labels,
)
from baton.server.models.automations.buckets import (
    BucketChange,
    TriggerKey,
    count_new_events,
    lock_current_automations,
    lock_trigger_keys,
    read_buckets,
    read_due_bucket_keys,
    save_buckets,
)
from baton.server.schemas.automations import Posture

COMPOSITE_LOCK = "composite"


def _with_composite_locks(loaded: LoadedAutomations, keys: Iterable[TriggerKey]) -> list[TriggerKey]:
    """The keys to lock up front: the buckets' and those of every composite trigger above them, so that one
    evaluation takes all its locks in one ordered statement (two evaluations cannot wait on each other)."""
    wanted = set(keys)
    for trigger_id, _ in list(wanted):
        wanted.update((parent.id, COMPOSITE_LOCK) for parent in loaded.ancestors(trigger_id))
    return sorted(wanted)


def _order(event: ObservedEvent) -> tuple[dt.datetime, int]:
    return (event.occurred, event.id.int)


def _in_order(events: Iterable[ObservedEvent]) -> list[ObservedEvent]:
    return sorted(events, key=_order)


def match_events(loaded: LoadedAutomations, events: Iterable[ObservedEvent]) -> dict[TriggerKey, list[ObservedEvent]]:
    """The events of each (trigger, key) they concern, in the order they occurred. Triggers that match resources
    alike (many automations count the same events) share one check and one key per event."""
    work: dict[TriggerKey, list[ObservedEvent]] = {}
    seen: set[int] = set()
    for event in _in_order(events):
        # The id's integer: a UUID hashes in Python code, a large share of this loop's time.
        number = event.id.int
        if number in seen or automation_chain_length(event) >= MAX_AUTOMATION_CHAIN:
            continue
        seen.add(number)
        keys: dict[Any, str | None] = {}
        for each in loaded.candidates(event.name):
            if loaded.is_own_event(each, event):
                continue
            if each.matching not in keys:
                covered = covers_resources(each.trigger, event)
                keys[each.matching] = encode_key(bucketing_key(each.trigger, event)) if covered else None
            key = keys[each.matching]
            if key is not None:
                work.setdefault((each.trigger.id, key), []).append(event)
    return work


async def evaluate_events(
    connection: AsyncConnection,
    loaded: LoadedAutomations,
    events: Iterable[ObservedEvent],
    *,
    recorded_here: bool = False,
) -> FiringOutcome:
    """Count `events` for the enabled automations' event triggers and fire what they make fire, in the caller's
    transaction; what fired is returned for the caller to act on after it commits.

    `recorded_here` says that the caller's transaction has just inserted every one of `events` (the recorder
    passes those its insert found new): none can have been counted before, and a redelivery will find them stored
    and pass none of them, so they are counted without the counted-event rows."""
    outcome = FiringOutcome()
    work = match_events(loaded, events)
    current = await _lock_current(
        connection, loaded, {loaded.triggers[trigger_id].automation_id for trigger_id, _ in work}
    )
    work = {pair: matched for pair, matched in work.items() if loaded.triggers[pair[0]].automation_id in current}
    if not work:
        return outcome
    await lock_trigger_keys(connection, _with_composite_locks(loaded, work))
    if not recorded_here:
        first_automation: dict[uuid.UUID, uuid.UUID] = {}
        for (trigger_id, _), matched in sorted(work.items()):
            for event in matched:
                first_automation.setdefault(event.id, loaded.triggers[trigger_id].automation_id)
        new = await count_new_events(connection, first_automation)
        work = {pair: [event for event in matched if event.id in new] for pair, matched in work.items()}
    buckets = await read_buckets(connection, work)
    routed: list[tuple[tuple[dt.datetime, int], int, LoadedTrigger, str, Decision]] = []
    changes: list[BucketChange] = []
    for (trigger_id, key), counted in work.items():
        if not counted:
            continue
        each = loaded.triggers[trigger_id]
        original = buckets.get((trigger_id, key))
        counted_only = count_within(each.trigger, original, counted)
        if counted_only is not None:
            changes.append(_change(each, key, counted_only))
            continue
        bucket = dataclasses.replace(original) if original is not None else None
        for event in counted:
            evaluation = react_in_place(each.trigger, bucket, event)
            bucket = evaluation.bucket
            routed.extend((_order(event), len(routed), each, key, decision) for decision in evaluation.decisions)
        if bucket != original:
            changes.append(_change(each, key, bucket))
    await save_buckets(connection, changes)
    # Firings go to their automations (and composite parents) in the order of the events that caused them: a
    # compound or sequence trigger sees its children fire as the events came, whichever child was counted first.
    for _, _, each, key, decision in sorted(routed, key=lambda item: item[:2]):
        await _route(connection, loaded, each, key, decision, outcome)
    return outcome


async def proactive_pass_needed(connection: AsyncConnection, each: LoadedTrigger, as_of: dt.datetime) -> bool:
    """Whether `evaluate_proactive_trigger` at `as_of` would have anything to do (read-only, so that a pass over
    triggers with nothing due takes no write transaction)."""
    trigger = each.trigger
    if await read_due_bucket_keys(connection, trigger.id, as_of, trigger.threshold):
        return True
    if trigger.after or trigger.for_each:
        return False
    return not await read_buckets(connection, [(trigger.id, encode_key(()))])


async def evaluate_proactive_trigger(
    connection: AsyncConnection, loaded: LoadedAutomations, each: LoadedTrigger, as_of: dt.datetime
) -> FiringOutcome:
    """Close the proactive trigger's windows that ended by `as_of`: those under the threshold fire."""
    outcome = FiringOutcome()
    trigger = each.trigger
    if not await _lock_current(connection, loaded, {each.automation_id}):
        return outcome
    keys = set(await read_due_bucket_keys(connection, trigger.id, as_of, trigger.threshold))
    if not trigger.after and not trigger.for_each:
        keys.add(encode_key(()))
    if not keys:
        return outcome
    pairs = [(trigger.id, key) for key in keys]
    await lock_trigger_keys(connection, _with_composite_locks(loaded, pairs))
    buckets = await read_buckets(connection, pairs)
    routed: list[tuple[str, Decision]] = []
    changes: list[BucketChange] = []
    for key in sorted(keys):
        original = buckets.get((trigger.id, key))
        bucket = proactive_bucket(trigger, original, as_of)
        if bucket is None:
            continue
        evaluation = expire(trigger, bucket, as_of)
        if evaluation.bucket != original:
            changes.append(_change(each, key, evaluation.bucket))
        routed.extend((key, decision) for decision in evaluation.decisions)
    await save_buckets(connection, changes)
    for key, decision in routed:
        await _route(connection, loaded, each, key, decision, outcome)
    return outcome


async def _lock_current(
    connection: AsyncConnection, loaded: LoadedAutomations, automation_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """The automations among `automation_ids` still enabled as `loaded` has them, locked against a concurrent change."""
    return await lock_current_automations(
        connection, {automation_id: loaded.versions[automation_id] for automation_id in automation_ids}
    )


def _change(each: LoadedTrigger, key: str, bucket: Bucket | None) -> BucketChange:
    """The bucket to store. A reactive trigger fires with the event that made it fire, never with the bucket's last
    event, so that event is not stored (encoding and decoding it was a large share of an evaluation's time)."""
    if bucket is not None and each.trigger.posture == Posture.REACTIVE and bucket.last_event is not None:
        bucket = dataclasses.replace(bucket, last_event=None)
    labels = triggering_labels(each.trigger, _decode_key(key))
    return BucketChange(each.automation_id, each.trigger.id, key, labels, bucket)


async def _route(
    connection: AsyncConnection,
    loaded: LoadedAutomations,
    each: LoadedTrigger,
    key: str,
    decision: Decision,
    outcome: FiringOutcome,
) -> None:
    key_values = _decode_key(key)
    fired = await route_firing(
        connection,
        loaded,
        each.automation_id,
        trigger_id=each.trigger.id,
        state=decision.state,
        firing_key=firing_key(each.trigger.id, key_values, decision.identity),
        occurred=decision.occurred,
        triggering_labels=triggering_labels(each.trigger, key_values),
        triggering_event=decision.triggering_event,
    )
    outcome.action_run_ids.extend(fired.action_run_ids)
    outcome.events.extend(fired.events)


def _decode_key(key: str) -> tuple[str, ...]:
    return tuple(orjson.loads(key))
