"""The enabled automations as the trigger engine evaluates them, parsed once and kept per process.

Parsing every automation for every batch would cost more than the batch; instead each process keeps them parsed and
checks a cheap marker (each enabled automation's id and `updated`): the evaluator checks it on every batch, the
events pipeline (which only asks "would any trigger look at these events?") at most once per `MAX_AGE_SECONDS`."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from baton.server.automations.triggers import ObservedEvent, covers_labels, interested_in
from baton.server.database.engine import Database
from baton.server.models.automations.automations import read_automation
from baton.server.models.automations.buckets import read_enabled_automation_versions
from baton.server.schemas.automations import (
    CompositeTrigger,
    CompoundTrigger,
    EventTrigger,
    Posture,
    SequenceTrigger,
    Trigger,
    TriggerTypes,
    all_triggers,
)
from baton.server.schemas.event_filters import label_patterns

logger = logging.getLogger("baton.automations")

# How stale the events pipeline's view of the enabled automations may be: a new automation sees events recorded at
# most this long after it was saved; one check per second costs nothing at any event rate.
MAX_AGE_SECONDS = 1.0
AUTOMATION_RESOURCE_PREFIX = "prefect.automation."
_TRIGGER = TypeAdapter(TriggerTypes)
# Characters of a label value that make it a pattern, or that some JSON encoders escape (HTML-safe ones escape <>&').
_NOT_PLAIN = frozenset("*?[!\"\\/<>&'")
_EVENT_NAME = re.compile(r'"event"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class LoadedTrigger:
    """An event trigger of an enabled automation (its top-level trigger or a descendant of a composite one)."""

    automation_id: uuid.UUID
    trigger: EventTrigger
    own_resource_id: str
    # Texts a batch must contain for this trigger to cover one of its events: one of each group (see
    # `required_texts`).
    required: tuple[tuple[str, ...], ...] = ()
    # What decides whether an event's resources match and which bucket it counts in (see `matching_signature`):
    # triggers with the same one share that work.
    matching: str = ""


@dataclass
class LoadedAutomations:
    """A parsed snapshot of the enabled automations: rows, event triggers, and each child trigger's parent."""

    versions: dict[uuid.UUID, Any] = field(default_factory=dict)
    automations: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    triggers: dict[uuid.UUID, LoadedTrigger] = field(default_factory=dict)
    parents: dict[uuid.UUID, CompositeTrigger] = field(default_factory=dict)
    _by_name: dict[str, list[LoadedTrigger]] = field(default_factory=dict)

    def candidates(self, name: str) -> list[LoadedTrigger]:
        """The event triggers interested in events named `name` (memoised: names repeat)."""
        found = self._by_name.get(name)
        if found is None:
            found = [each for each in self.triggers.values() if interested_in(each.trigger, name)]
            self._by_name[name] = found
        return found

    def event_names(self) -> tuple[str, ...] | None:
        """Glob patterns of the names of every event some trigger looks at (expected or arming); None: any name."""
        names: set[str] = set()
        for each in self.triggers.values():
            if not each.trigger.expect:
                return None
            names.update(each.trigger.expect)
            names.update(each.trigger.after)
        return tuple(sorted(names))

    def interesting(self, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events some trigger looks at: an expected or arming name, and resources it matches."""
        if not self.triggers:
            return []
        return [event for event in events if self._concerns_some_trigger(event)]

    def _concerns_some_trigger(self, event: dict[str, Any]) -> bool:
        candidates = self.candidates(str(event.get("event", "")))
        if not candidates:
            return False
        resource = event.get("resource") or {}
        related = event.get("related") or []
        return any(covers_labels(each.trigger, resource, related) for each in candidates)

    def may_interest(self, batch_text: str) -> bool:
        """Whether some trigger may look at an event of the batch's JSON text, without decoding it: every
        `"event": "<name>"` in the text (the events' names, and maybe some in their payloads) is checked, so a False
        is certain; a name with an escape in it counts as interesting."""
        if not self.triggers:
            return False
        contains: dict[str, bool] = {}

        def found(text: str) -> bool:
            if text not in contains:
                contains[text] = text in batch_text
            return contains[text]

        for name in set(_EVENT_NAME.findall(batch_text)):
            if "\\" in name:
                return True
            for each in self.candidates(name):
                if all(any(found(text) for text in group) for group in each.required):
                    return True
        return False

    def proactive_triggers(self) -> list[LoadedTrigger]:
        return [each for each in self.triggers.values() if each.trigger.posture == Posture.PROACTIVE]

    def ancestors(self, trigger_id: uuid.UUID) -> list[CompositeTrigger]:
        """The composite triggers above `trigger_id`, nearest first."""
        found = []
        parent = self.parents.get(trigger_id)
        while parent is not None:
            found.append(parent)
            parent = self.parents.get(parent.id)
        return found

    def is_own_event(self, loaded: LoadedTrigger, event: ObservedEvent) -> bool:
        """An automation's own events never count for its triggers (it would fire itself in a loop)."""
        return event.resource.get("prefect.resource.id") == loaded.own_resource_id


def matching_signature(trigger: EventTrigger) -> str:
    """`match`, `match_related` and `for_each` as one text: equal for triggers that match the same resources and
    bucket them alike."""
    return orjson.dumps(
        [trigger.match, trigger.related_specifications(), sorted(trigger.for_each)], option=orjson.OPT_SORT_KEYS
    ).decode()


def required_texts(trigger: EventTrigger) -> tuple[tuple[str, ...], ...]:
    """For each label of `match` and `match_related` whose patterns are all plain values (no glob, no negation, nothing
    JSON would escape), those values: an event the trigger covers has one of them in its JSON text, so a batch with
    none of them needs no decoding for this trigger."""
    groups = []
    for spec in [trigger.match, *trigger.related_specifications()]:
        for expected in spec.values():
            values = label_patterns(expected)
            if values and all(_plain(value) for value in values):
                groups.append(tuple(f'"{value}"' for value in values))
    return tuple(groups)


def _plain(value: str) -> bool:
    return bool(value) and value.isascii() and value.isprintable() and not any(c in value for c in _NOT_PLAIN)


def _add(snapshot: LoadedAutomations, row: dict[str, Any]) -> None:
    try:
        top: Trigger = _TRIGGER.validate_python(row["trigger"])
    except ValidationError as exc:
        logger.warning("Automation %s has a trigger Baton cannot evaluate: %s", row["id"], exc)
        return
    snapshot.automations[row["id"]] = row
    for each in all_triggers(top):
        if isinstance(each, EventTrigger):
            snapshot.triggers[each.id] = LoadedTrigger(
                row["id"],
                each,
                f"{AUTOMATION_RESOURCE_PREFIX}{row['id']}",
                required_texts(each),
                matching_signature(each),
            )
        if isinstance(each, CompoundTrigger | SequenceTrigger):
            for child in each.triggers:
                snapshot.parents[child.id] = each


class AutomationCache:
    """One process's parsed enabled automations on one database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.snapshot = LoadedAutomations()
        self.checked = float("-inf")
        self._lock = asyncio.Lock()

    async def current(self, max_age: float = MAX_AGE_SECONDS) -> LoadedAutomations:
        """The enabled automations, checked against the database if the last check is older than `max_age`."""
        if time.monotonic() - self.checked < max_age:
            return self.snapshot
        async with self._lock:
            if time.monotonic() - self.checked < max_age:
                return self.snapshot
            checked = time.monotonic()
            async with self.database.read() as connection:
                versions = await read_enabled_automation_versions(connection)
                if versions != self.snapshot.versions:
                    snapshot = LoadedAutomations(versions=versions)
                    for automation_id in versions:
                        kept = self.snapshot.automations.get(automation_id)
                        if kept is None or self.snapshot.versions.get(automation_id) != versions[automation_id]:
                            kept = await read_automation(connection, automation_id)
                        if kept is not None:
                            _add(snapshot, kept)
                    self.snapshot = snapshot
            self.checked = checked
            return self.snapshot

    def forget(self) -> None:
        """Check the database on the next call (after a change this process made itself)."""
        self.checked = float("-inf")


_caches: weakref.WeakKeyDictionary[Database, AutomationCache] = weakref.WeakKeyDictionary()


def automation_cache(database: Database) -> AutomationCache:
    """This process's cache of the enabled automations of `database`."""
    cache = _caches.get(database)
    if cache is None:
        cache = _caches[database] = AutomationCache(database)
    return cache
