"""What every action executor shares: the run being executed (`ActionContext`), the failure with its reason, and
the inference of the object an `inferred` action acts on.

An executor either changes only Baton's database (`LocalExecutor`: it runs in the transaction that also records the
run's outcome, so its effect and the record of it commit together, once) or reaches outside (`RemoteExecutor`: a
webhook or a notification, sent outside any transaction; a process killed after sending and before recording sends
again when the run is claimed again)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dramatiq
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.queue.messages import FlowRunStateChange
from baton.server.automations.rendering import Renderer, id_from_resource_id, id_of_first_resource_of_kind
from baton.server.blocks.encryption import BlockCipher
from baton.server.database.engine import Database

if TYPE_CHECKING:
    import httpx

    from baton.settings import Settings


class ActionFailed(Exception):
    """The action could not do what it asks; `reason` is a sentence a person understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ActionContext:
    """One claimed action run and what executing it needs; executors add what they learn to `related` (resources
    for the run's events), `details` (the events' payload), `resulting_resource`, and the messages to send once the
    outcome has committed (`state_changes` announced like the API's, and any other `messages`)."""

    run: dict[str, Any]
    automation: dict[str, Any]
    renderer: Renderer
    settings: Settings
    cipher: BlockCipher
    http_client: Callable[[], Awaitable[httpx.AsyncClient]]
    related: list[dict[str, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    resulting_resource: str | None = None
    state_changes: list[FlowRunStateChange] = field(default_factory=list)
    messages: list[dramatiq.Message[Any]] = field(default_factory=list)

    @property
    def automation_id(self) -> uuid.UUID:
        return self.automation["id"]

    @property
    def triggering_event(self) -> dict[str, Any] | None:
        return self.run.get("firing_triggering_event")

    @property
    def triggering_labels(self) -> dict[str, str]:
        return dict(self.run.get("firing_triggering_labels") or {})

    def target(self, resource_id: str, role: str = "target", name: str | None = None) -> None:
        """Note a resource the action acts on (or made) for its events."""
        resource = {"prefect.resource.id": resource_id, "prefect.resource.role": role}
        if name is not None:
            resource["prefect.resource.name"] = name
        self.related.append(resource)

    def target_id(self, source: str, selected: uuid.UUID | None, kind: str, noun: str) -> uuid.UUID:
        """The id an action works on: the one selected when the automation was saved (the schema requires it for
        `selected`), or the one inferred from the triggering event."""
        if source == "selected":
            assert selected is not None
            return selected
        return self.inferred_id(kind, noun)

    def inferred_id(self, kind: str, noun: str) -> uuid.UUID:
        """The id of the first `kind` resource of the triggering event (or of the triggering labels' resource, for
        a trigger counted per resource, such as a proactive one); ActionFailed naming `noun` when there is none."""
        labelled = id_from_resource_id(self.triggering_labels.get("prefect.resource.id"), kind)
        if labelled is not None:
            return labelled
        event = self.triggering_event
        if event is None:
            raise ActionFailed(f"No event to infer the {noun} from")
        found = id_of_first_resource_of_kind(event, kind)
        if found is None:
            raise ActionFailed(f"No {noun} could be inferred from the triggering event")
        return found


LocalExecutor = Callable[[AsyncConnection, ActionContext, Any], Awaitable[None]]
RemoteExecutor = Callable[[Database, ActionContext, Any], Awaitable[None]]
