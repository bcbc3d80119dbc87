"""The message contract of a state change an actor committed, built from the orchestration outcome."""

from __future__ import annotations

import uuid

from baton.queue.messages import FlowRunStateChange
from baton.server.orchestration.context import TransitionOutcome


def state_change(flow_run_id: uuid.UUID, outcome: TransitionOutcome | None) -> FlowRunStateChange | None:
    """The change to announce (its event, notifications, lease release); None when no state was written."""
    written = outcome.state_to_write if outcome is not None else None
    if outcome is None or written is None:
        return None
    initial = outcome.initial_state
    return {
        "flow_run_id": str(flow_run_id),
        "state_id": str(written["id"]),
        "from_state": {"id": str(initial["id"]), "type": initial["type"], "name": initial["name"]} if initial else None,
    }
