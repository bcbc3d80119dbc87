"""State types of flow and task runs, which of them are terminal, and the state names Baton gives: the one home of
these facts. Every other module (server, actors, UI, CLI, client, worker) imports them from here.

Types and names are Prefect 3's, as its client sends and expects them. The module imports nothing from Baton, so the
client and the CLI can use it without loading the server.
"""

from __future__ import annotations

import enum


class StateType(enum.StrEnum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"


# A run in one of these types is finished: it leaves it only by a rerun. In the order pages show them.
_TERMINAL = (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)
TERMINAL_STATE_TYPES: frozenset[StateType] = frozenset(_TERMINAL)
# The same types as plain strings, in that order: for SQL (an IN list binds plain strings) and for table columns.
TERMINAL_STATE_VALUES: tuple[str, ...] = tuple(state_type.value for state_type in _TERMINAL)


def default_state_name(state_type: StateType | str) -> str:
    """The name a state gets when none is given: the type, capitalised ("Running", "Cancelling")."""
    value = StateType(state_type).value
    return " ".join(part.capitalize() for part in value.split("_"))


# Names of states other than a type's default name, given by the server or by Prefect's client.
LATE = "Late"  # SCHEDULED: past its scheduled start time (actors/late_runs.py)
AWAITING_RETRY = "AwaitingRetry"  # SCHEDULED: a failed run waiting for its next attempt
RETRYING = "Retrying"  # RUNNING: the next attempt of a retried run
RERUNNING = "Rerunning"  # RUNNING: a task run started again for another reason than a retry
CACHED = "Cached"  # COMPLETED: a task run answered from the cache
SUSPENDED = "Suspended"  # PAUSED: a deployed flow run paused with its infrastructure torn down
RESUMING = "Resuming"  # SCHEDULED: a suspended run resumed, waiting for its infrastructure
AWAITING_CONCURRENCY_SLOT = "AwaitingConcurrencySlot"  # SCHEDULED: waiting for its deployment's concurrency slot
