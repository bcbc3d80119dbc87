"""What event triggers decide, as pure functions: whether an event concerns a trigger, which bucket it counts in, and
what a bucket does with an event or with the passing of time. No I/O: the engine (`baton.actors.automation_triggers`)
loads the buckets, calls these, and stores what they return.

The semantics are Prefect 3's (prefect/server/events/triggers.py): one open bucket per trigger and `for_each` key;
a reactive trigger fires as soon as `threshold` expected events fall in its window, then waits for the window to end;
a proactive one fires when its window closes with fewer than `threshold` of them; `after` arms a bucket; a window of
0 (`immediate`) fires on each expected event. Beyond the open-source server, a proactive trigger that fired is
`Resolved` by the next expected event for the same key, as Prefect Cloud does: the bucket keeps `triggered_at` until
then (a trigger with `after` keeps a dormant bucket for it)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from baton.server.schemas.automations import (
    CompoundTrigger,
    EventTrigger,
    Posture,
    ResourceSpecification,
    SequenceTrigger,
    TriggerState,
)
from baton.server.schemas.event_filters import label_matches, label_patterns

# A first bucket of a trigger without `after` starts this long before its first event, so that other events of the
# same moment arriving out of order still count in it (Prefect's PRECEDING_EVENT_LOOKBACK).
PRECEDING_EVENT_LOOKBACK = dt.timedelta(minutes=15)
# A proactive trigger with `after` that fired keeps a dormant bucket this long to resolve it; past that, the sweep
# forgets it (nothing expected came for a day: the trigger stays Triggered in its history).
RESOLUTION_HORIZON = dt.timedelta(days=1)
ROLE_LABEL = "prefect.resource.role"
AUTOMATION_EVENT_PREFIX = "prefect.automation."
# Automations reacting to automations stop after this many firings in a row (two automations each reacting to the
# other's firing would otherwise fire each other forever).
MAX_AUTOMATION_CHAIN = 5
RELATED_PREFIX = "related:"
_GLOB_CHARACTERS = frozenset("*?[!")


@dataclass(frozen=True)
class ObservedEvent:
    """An event as the engine evaluates it: its JSON-mode wire shape (`data`) and the fields it reads."""

    id: uuid.UUID
    name: str
    occurred: dt.datetime
    resource: Mapping[str, str]
    related: Sequence[Mapping[str, str]]
    data: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObservedEvent:
        """From a JSON-mode event dict (its `occurred` an ISO-8601 text or a datetime)."""
        occurred = data["occurred"]
        moment = occurred if isinstance(occurred, dt.datetime) else dt.datetime.fromisoformat(str(occurred))
        moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
        return cls(
            id=uuid.UUID(str(data["id"])),
            name=data["event"],
            occurred=moment,
            resource=data.get("resource") or {},
            related=data.get("related") or [],
            data=data,
        )


# --- matching --------------------------------------------------------------------------------------------------------


def _any_pattern(patterns: set[str], name: str) -> bool:
    # A name listed as it is, with no glob or negation character in it, matches without the glob machinery (most
    # triggers list exact names, and this runs for every bucket of every batch).
    if name in patterns and _GLOB_CHARACTERS.isdisjoint(name):
        return True
    return any(label_matches(pattern, name) for pattern in patterns)


def expects(trigger: EventTrigger, name: str) -> bool:
    """Whether an event named `name` counts for `trigger` (an empty `expect` counts every event)."""
    return not trigger.expect or _any_pattern(trigger.expect, name)


def starts_after(trigger: EventTrigger, name: str) -> bool:
    """Whether an event named `name` arms `trigger` (never without `after`)."""
    return bool(trigger.after) and _any_pattern(trigger.after, name)


def interested_in(trigger: EventTrigger, name: str) -> bool:
    """Whether `trigger` looks at events named `name` at all: an expected or an arming one."""
    if not trigger.expect:
        return True
    return _any_pattern(trigger.expect, name) or _any_pattern(trigger.after, name)


def specification_matches(spec: ResourceSpecification, labels: Mapping[str, str]) -> bool:
    """Every label of `spec` has a value in `labels` matching one of its glob patterns."""
    return all(
        any(label_matches(pattern, labels.get(label)) for pattern in label_patterns(expected))
        for label, expected in spec.items()
    )


def specification_includes(spec: ResourceSpecification, candidates: Sequence[Mapping[str, str]]) -> bool:
    """An empty specification includes anything; otherwise one of `candidates` must match it."""
    return not spec or any(specification_matches(spec, labels) for labels in candidates)


def covers_labels(trigger: EventTrigger, resource: Mapping[str, str], related: Sequence[Mapping[str, str]]) -> bool:
    """`match` against an event's resource, and each `match_related` against some related resource."""
    if not specification_includes(trigger.match, [resource]):
        return False
    return all(specification_includes(spec, related) for spec in trigger.related_specifications())


def covers_resources(trigger: EventTrigger, event: ObservedEvent) -> bool:
    """`covers_labels` for an observed event."""
    return covers_labels(trigger, event.resource, event.related)


def covers(trigger: EventTrigger, event: ObservedEvent) -> bool:
    """Whether `event` concerns `trigger`: an expected or arming name, and resources that match."""
    return interested_in(trigger, event.name) and covers_resources(trigger, event)


def automation_chain_length(event: ObservedEvent) -> int:
    """How many automation firings led to `event`: 0 for an event from elsewhere, 1 for a firing's event caused by
    one, and so on (a firing's event carries the event that caused it in its payload)."""
    length = 0
    data: Any = event.data
    while isinstance(data, dict) and str(data.get("event", "")).startswith(AUTOMATION_EVENT_PREFIX):
        length += 1
        data = (data.get("payload") or {}).get("triggering_event")
    return length


def find_resource_label(event: ObservedEvent, label: str) -> str | None:
    """The value of `label` on the event's resource, or for `related:<role>:<label>` on its first related resource
    in that role."""
    if label.startswith(RELATED_PREFIX):
        directive, _, related_label = label.rpartition(":")
        role = directive.removeprefix(RELATED_PREFIX)
        for related in event.related:
            if related.get(ROLE_LABEL) == role:
                return related.get(related_label)
    return event.resource.get(label)


def bucketing_key(trigger: EventTrigger, event: ObservedEvent) -> tuple[str, ...]:
    """The values of the trigger's `for_each` labels (sorted by label) for `event`; "" for a missing one."""
    return tuple(find_resource_label(event, label) or "" for label in sorted(trigger.for_each))


def triggering_labels(trigger: EventTrigger, key: Sequence[str]) -> dict[str, str]:
    """The `for_each` labels with their values in `key`."""
    return dict(zip(sorted(trigger.for_each), key, strict=False))


def encode_key(key: Sequence[str]) -> str:
    """A bucketing key as stored (`automation_bucket.bucketing_key`)."""
    return orjson.dumps(list(key)).decode()


def meets_threshold(trigger: EventTrigger, count: int) -> bool:
    """Reactive: at least `threshold` events; proactive: fewer."""
    if trigger.posture == Posture.REACTIVE:
        return count >= trigger.threshold
    return count < trigger.threshold


# --- decisions -------------------------------------------------------------------------------------------------------


@dataclass
class Bucket:
    """One counting window of a trigger for one key. `dormant`: a fired proactive trigger with `after` waiting only to
    be resolved (it counts nothing and never fires)."""

    start: dt.datetime
    end: dt.datetime
    count: int = 0
    last_event: dict[str, Any] | None = None
    triggered_at: dt.datetime | None = None
    dormant: bool = False


@dataclass(frozen=True)
class Decision:
    """The trigger changes state for a bucket's key: Triggered (reactively with the event that made it, or
    proactively when the window closed) or Resolved."""

    state: TriggerState
    triggering_event: dict[str, Any] | None
    occurred: dt.datetime
    identity: str


@dataclass
class Evaluation:
    """The bucket after an evaluation (None: there is none any more) and what the trigger decided meanwhile."""

    bucket: Bucket | None
    decisions: list[Decision] = field(default_factory=list)


def firing_key(trigger_id: uuid.UUID, key: Sequence[str], identity: str) -> str:
    """A firing's idempotency key: the trigger, the bucketing key, and what identifies the firing within them (the
    triggering event for a reactive firing, the closed window for a proactive one, the firing resolved)."""
    digest = hashlib.sha256(orjson.dumps([list(key), identity])).hexdigest()[:40]
    return f"{trigger_id}:{digest}"


def _reactive_identity(event: ObservedEvent) -> str:
    return f"event:{event.id}"


def _proactive_identity(bucket: Bucket) -> str:
    return f"window:{bucket.start.isoformat()}:{bucket.end.isoformat()}"


def _resolution_identity(triggered_at: dt.datetime) -> str:
    return f"resolved:{triggered_at.isoformat()}"


def _event_name(data: dict[str, Any] | None) -> str:
    return str((data or {}).get("event", ""))


def _event_time(data: dict[str, Any]) -> dt.datetime:
    return ObservedEvent.from_json(data).occurred


def evaluate(trigger: EventTrigger, bucket: Bucket, now: dt.datetime, event: ObservedEvent | None) -> Evaluation:
    """Spend `event` (if any) in `bucket` at `now` and decide: fire, wait, or roll to the next window. Prefect's
    `evaluate`, case by case: an event older than the bucket is ignored; one inside it counts; a reactive trigger
    fires as soon as it meets its threshold, a proactive one only once its window closed; then the bucket either
    stays, is removed (a trigger with `after` waits to be armed again; an immediate trigger needs no bucket), or the
    next window starts, where an event from after the window is counted again."""
    decisions: list[Decision] = []
    while True:
        count = 1 if event is not None else 0
        if now < bucket.start:
            return Evaluation(bucket, decisions)
        previous_last_event = bucket.last_event
        if count and (trigger.immediate or bucket.start <= now < bucket.end):
            assert event is not None
            bucket.count += count
            bucket.last_event = event.data
            count = 0
        ready = trigger.posture == Posture.REACTIVE or bucket.end <= now
        meets = meets_threshold(trigger, bucket.count)
        fired_at: dt.datetime | None = None
        if ready and meets:
            triggering: dict[str, Any] | None
            if event is not None:
                identity = _reactive_identity(event)
                triggering = event.data
            else:
                identity = _proactive_identity(bucket)
                triggering = bucket.last_event
            decisions.append(Decision(TriggerState.TRIGGERED, triggering, now, identity))
            if trigger.posture == Posture.PROACTIVE:
                fired_at = now
        elif now < bucket.end:
            if (
                event is not None
                and trigger.posture == Posture.PROACTIVE
                and not meets
                and starts_after(trigger, event.name)
                and expects(trigger, event.name)
            ):
                # The same event both arms and is expected (heartbeats): each one starts the next window.
                last_event = event.data
                if (
                    previous_last_event
                    and expects(trigger, _event_name(previous_last_event))
                    and not starts_after(trigger, _event_name(previous_last_event))
                    and _event_time(previous_last_event) >= event.occurred
                ):
                    last_event = previous_last_event
                bucket = Bucket(
                    event.occurred, event.occurred + trigger.within, 0, last_event, triggered_at=bucket.triggered_at
                )
            return Evaluation(bucket, decisions)

        pending = fired_at or bucket.triggered_at
        if trigger.after:
            if pending is not None:
                return Evaluation(_dormant(pending), decisions)
            return Evaluation(None, decisions)
        if trigger.within == dt.timedelta(0):
            return Evaluation(None, decisions)
        start = max(bucket.end, now)
        end = start + trigger.within
        if trigger.posture == Posture.REACTIVE and count > 0:
            # An event from after the window: it may fire in the next one by itself.
            bucket = Bucket(start, end, 0)
            continue
        return Evaluation(Bucket(start, end, count, triggered_at=pending), decisions)


def _dormant(triggered_at: dt.datetime) -> Bucket:
    return Bucket(triggered_at, triggered_at + RESOLUTION_HORIZON, 0, triggered_at=triggered_at, dormant=True)


def react(trigger: EventTrigger, bucket: Bucket | None, event: ObservedEvent) -> Evaluation:
    """What an event that `covers` the trigger does to the bucket of its key (None: there is none yet): resolve a
    fired proactive trigger, arm a bucket (`after`), open the first bucket of a trigger without `after`, and count
    the event if it is expected (Prefect's `reactive_evaluation` for one trigger). `bucket` is left as it was."""
    return react_in_place(trigger, dataclasses.replace(bucket) if bucket is not None else None, event)


def count_within(trigger: EventTrigger, bucket: Bucket | None, events: Sequence[ObservedEvent]) -> Bucket | None:
    """The bucket after `events` (in the order they occurred) when they can only add to its count: a reactive trigger
    with a window and no `after`, every event expected and inside the open window, and the count staying under the
    threshold (what `react` would do, one event at a time, without deciding anything). None when that does not hold:
    use `react`."""
    if (
        bucket is None
        or trigger.posture != Posture.REACTIVE
        or trigger.after
        or trigger.immediate
        or bucket.dormant
        or bucket.count + len(events) >= trigger.threshold
    ):
        return None
    # `events` are in the order they occurred: the first and the last bound them all.
    if not (bucket.start <= events[0].occurred and events[-1].occurred < bucket.end):
        return None
    if not all(expects(trigger, name) for name in {event.name for event in events}):
        return None
    return dataclasses.replace(bucket, count=bucket.count + len(events), last_event=events[-1].data)


def react_in_place(trigger: EventTrigger, bucket: Bucket | None, event: ObservedEvent) -> Evaluation:
    """`react`, changing `bucket` itself (for a run of events over one bucket, which is copied once)."""
    decisions: list[Decision] = []
    if (
        bucket is not None
        and trigger.posture == Posture.PROACTIVE
        and bucket.triggered_at is not None
        and expects(trigger, event.name)
    ):
        decisions.append(
            Decision(TriggerState.RESOLVED, event.data, event.occurred, _resolution_identity(bucket.triggered_at))
        )
        bucket.triggered_at = None
        if bucket.dormant:
            bucket = None
    carried: dt.datetime | None = None
    if bucket is not None and bucket.dormant:
        carried, bucket = bucket.triggered_at, None

    if trigger.after and starts_after(trigger, event.name) and bucket is None:
        # An event both arming and expected starts at -1, so that it leaves its own bucket at 0.
        initial = -1 if expects(trigger, event.name) else 0
        bucket = Bucket(event.occurred, event.occurred + trigger.within, initial, event.data, triggered_at=carried)
    if bucket is None and not trigger.after and expects(trigger, event.name):
        bucket = Bucket(event.occurred - PRECEDING_EVENT_LOOKBACK, event.occurred + trigger.within, 0, event.data)
    if not expects(trigger, event.name) or bucket is None:
        if bucket is None and carried is not None:
            bucket = _dormant(carried)
        return Evaluation(bucket, decisions)
    evaluation = evaluate(trigger, bucket, event.occurred, event)
    return Evaluation(evaluation.bucket, decisions + evaluation.decisions)


def proactive_bucket(trigger: EventTrigger, bucket: Bucket | None, as_of: dt.datetime) -> Bucket | None:
    """The bucket a proactive pass starts from: a trigger with neither `after` nor `for_each` watches from the first
    pass on (the automation's start), so one is opened when there is none."""
    if bucket is None and not trigger.after and not trigger.for_each:
        return Bucket(as_of, as_of + trigger.within, 0)
    return bucket


def expire(trigger: EventTrigger, bucket: Bucket, as_of: dt.datetime) -> Evaluation:
    """A proactive pass over one bucket at `as_of`: a bucket that already met its count is dropped (Prefect's
    `remove_buckets_exceeding_threshold`), a closed window under the threshold fires, a dormant one waits."""
    if bucket.dormant:
        return Evaluation(bucket)
    if bucket.count >= trigger.threshold and bucket.triggered_at is None:
        return Evaluation(None)
    return evaluate(trigger, dataclasses.replace(bucket), as_of, None)


# --- composite triggers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildFiring:
    """A child trigger's firing held by its compound or sequence parent."""

    child_trigger_id: uuid.UUID
    fired_at: dt.datetime
    firing_key: str


def composite_ready(trigger: CompoundTrigger | SequenceTrigger, firings: Sequence[ChildFiring]) -> bool:
    """Compound: at least `require` distinct children fired; sequence: every child fired, in the children's order
    (by firing time)."""
    if isinstance(trigger, CompoundTrigger):
        return len({each.child_trigger_id for each in firings}) >= trigger.expected_firings
    in_order = [each.child_trigger_id for each in sorted(firings, key=lambda each: each.fired_at)]
    return in_order == [child.id for child in trigger.triggers]


def composite_firing_key(trigger: CompoundTrigger | SequenceTrigger, firings: Sequence[ChildFiring]) -> str:
    """The parent's firing key: from the child firings it consumed."""
    return firing_key(trigger.id, (), "children:" + ",".join(sorted(each.firing_key for each in firings)))
