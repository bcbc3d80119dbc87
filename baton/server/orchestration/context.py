"""What a state transition is decided on, the mutable transition the rules work on, and the decided outcome.

Orchestration is pure: the caller reads the run (under a row lock) and everything the rules need into a
`TransitionContext`, `policies.orchestrate` returns a `TransitionOutcome`, and the caller persists it.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from baton.server.schemas.base import utc
from baton.server.schemas.states import (
    AbortDetails,
    AcceptDetails,
    OrchestrationResult,
    RejectDetails,
    ResponseDetails,
    SetStateStatus,
    State,
    StateCreate,
    StateDetails,
    WaitDetails,
)
from baton.states import TERMINAL_STATE_TYPES, StateType, default_state_name

ALL_STATES: frozenset[StateType | None] = frozenset({*StateType, None})
TERMINAL_STATES: frozenset[StateType | None] = frozenset(TERMINAL_STATE_TYPES)


@dataclass(frozen=True)
class RunSnapshot:
    """A flow run or task run as read from the database before the transition."""

    kind: Literal["flow_run", "task_run"]
    id: uuid.UUID
    # {"id", "type", "name", "timestamp" (aware), "message", "data", "state_details" (dict)} or None
    current_state: dict[str, Any] | None
    run_count: int
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    total_run_time: float
    expected_start_time: dt.datetime | None
    next_scheduled_start_time: dt.datetime | None
    empirical_policy: dict[str, Any]
    deployment_id: uuid.UUID | None = None  # flow runs
    parent_task_run_id: uuid.UUID | None = None  # flow runs
    infrastructure_pid: str | None = None  # flow runs: a SCHEDULED run without one has no process to cancel
    flow_run_id: uuid.UUID | None = None  # task runs
    flow_run_run_count: int = 0  # task runs
    cache_key: str | None = None  # task runs


@dataclass(frozen=True)
class DeploymentConcurrency:
    """The concurrency limit of the deployment of a run that proposes PENDING, as read by the caller, and whether
    the caller could take a slot on it (`slot_available`)."""

    limit_id: uuid.UUID
    limit: int
    collision_strategy: Literal["ENQUEUE", "CANCEL_NEW"] = "ENQUEUE"
    lease_seconds: float = 300.0
    slot_available: bool = True


@dataclass(frozen=True, kw_only=True)
class TransitionContext:
    """A proposal and everything the rules need to decide on it."""

    run: RunSnapshot
    proposed: StateCreate
    force: bool = False
    now: dt.datetime  # aware UTC; the timestamp of any state written
    # Task runs: {"state_type", "state_name", "run_count"} of the parent flow run (optionally "state_details" of its
    # current state, for the pause deadline of a NotReady answer); None when there is no parent flow run.
    parent_flow_run: dict[str, Any] | None = None
    # Task runs: an unexpired cached COMPLETED state row for the proposed cache key (looked up by the caller).
    cached_state: dict[str, Any] | None = None
    # Flow runs proposing PENDING: their deployment's concurrency limit (None when it has none).
    deployment_concurrency: DeploymentConcurrency | None = None
    # Source of retry jitter; tests pass a seeded generator.
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class WorkingState:
    """A state while rules look at it: mutable, with typed details."""

    id: uuid.UUID
    type: StateType
    name: str
    timestamp: dt.datetime
    message: str | None
    data: Any
    details: StateDetails

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WorkingState:
        return cls(
            id=row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"])),
            type=StateType(row["type"]),
            name=row.get("name") or default_state_name(row["type"]),
            timestamp=utc(row["timestamp"]),
            message=row.get("message"),
            data=copy.deepcopy(row.get("data")),
            details=StateDetails.model_validate(row.get("state_details") or {}),
        )

    @classmethod
    def new(
        cls,
        state_type: StateType,
        now: dt.datetime,
        *,
        name: str | None = None,
        message: str | None = None,
        data: Any = None,
        details: StateDetails | None = None,
    ) -> WorkingState:
        """A server-made state (AwaitingRetry, Cancelled, ...) with a fresh id, stamped `now`."""
        details = details if details is not None else StateDetails()
        if state_type == StateType.SCHEDULED and details.scheduled_time is None:
            details.scheduled_time = now
        return cls(
            id=uuid.uuid4(),
            type=state_type,
            name=name or default_state_name(state_type),
            timestamp=now,
            message=message,
            data=data,
            details=details,
        )

    @classmethod
    def from_create(cls, proposal: StateCreate, now: dt.datetime) -> WorkingState:
        return cls.new(
            proposal.type,
            now,
            name=proposal.name,
            message=proposal.message,
            data=copy.deepcopy(proposal.data),
            details=proposal.state_details.model_copy(deep=True),
        )

    def fresh_copy(self, now: dt.datetime) -> WorkingState:
        """The same state with a new id and timestamp (Prefect's `State.fresh_copy`)."""
        return WorkingState(
            id=uuid.uuid4(),
            type=self.type,
            name=self.name,
            timestamp=now,
            message=self.message,
            data=copy.deepcopy(self.data),
            details=self.details.model_copy(deep=True),
        )

    @property
    def is_final(self) -> bool:
        return self.type in TERMINAL_STATE_TYPES

    def as_row(self) -> dict[str, Any]:
        """The history row: typed id and timestamp, JSON-able details."""
        return {
            "id": self.id,
            "type": self.type.value,
            "name": self.name,
            "timestamp": self.timestamp,
            "message": self.message,
            "data": self.data,
            "state_details": self.details.model_dump(mode="json"),
        }


@dataclass
class RunFields:
    """The run columns the transition may change."""

    run_count: int
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    total_run_time: float
    expected_start_time: dt.datetime | None
    next_scheduled_start_time: dt.datetime | None
    empirical_policy: dict[str, Any]
    flow_run_run_count: int

    @classmethod
    def from_snapshot(cls, run: RunSnapshot) -> RunFields:
        return cls(
            run_count=run.run_count,
            start_time=run.start_time,
            end_time=run.end_time,
            total_run_time=run.total_run_time,
            expected_start_time=run.expected_start_time,
            next_scheduled_start_time=run.next_scheduled_start_time,
            empirical_policy=copy.deepcopy(run.empirical_policy),
            flow_run_run_count=run.flow_run_run_count,
        )


@dataclass
class Transition:
    """The transition being decided. Rules read `initial`, change `proposed` and `run`, and decide through
    `reject`, `delay`, `abort` and `rename`; a `proposed` of None means nothing will be written."""

    context: TransitionContext
    initial: WorkingState | None
    proposed: WorkingState | None
    run: RunFields
    status: SetStateStatus = "ACCEPT"
    reason: str | None = None
    delay_seconds: int | None = None
    cache_insert: dict[str, Any] | None = None
    run_input_keys_to_delete: list[str] = field(default_factory=list)
    task_queue_action: Literal["enqueue", "retry"] | None = None

    @property
    def now(self) -> dt.datetime:
        return self.context.now

    @property
    def snapshot(self) -> RunSnapshot:
        return self.context.run

    @property
    def initial_type(self) -> StateType | None:
        return self.initial.type if self.initial else None

    @property
    def proposed_type(self) -> StateType | None:
        return self.proposed.type if self.proposed else None

    def reject(self, state: WorkingState | None, reason: str) -> None:
        """Refuse the proposal: write `state` instead, or (None) keep the current state and write nothing."""
        if state is None and self.initial is None:
            # Prefect treats this as an error inside the rule, which aborts the orchestration.
            self.abort(f"Aborting orchestration: the run has no state, so the transition cannot be kept. {reason}")
            return
        self.proposed = state
        self.status = "REJECT"
        self.reason = reason
        self.delay_seconds = None

    def delay(self, delay_seconds: int, reason: str) -> None:
        """Tell the client to propose again after `delay_seconds`; nothing is written."""
        self.proposed = None
        self.status = "WAIT"
        self.reason = reason
        self.delay_seconds = delay_seconds

    def abort(self, reason: str) -> None:
        """Tell the client to stop orchestrating this run; nothing is written."""
        self.proposed = None
        self.status = "ABORT"
        self.reason = reason
        self.delay_seconds = None

    def rename(self, name: str) -> None:
        if self.proposed is not None:
            self.proposed.name = name


class Rule:
    """An orchestration rule. It fires only for transitions whose (current type, proposed type) lies in
    FROM_STATES x TO_STATES, and only while no earlier rule has changed the proposed type. `after` runs once the
    outcome is settled; `cleanup` runs instead when a later rule changed the transition, to undo `before`."""

    FROM_STATES: ClassVar[frozenset[StateType | None]] = ALL_STATES
    TO_STATES: ClassVar[frozenset[StateType | None]] = ALL_STATES

    def before(self, t: Transition) -> None:
        """Inspect and possibly change the transition before it is settled."""

    def after(self, t: Transition) -> None:
        """Bookkeeping once the transition this rule saw is settled."""

    def cleanup(self, t: Transition) -> None:
        """Undo `before`'s changes to the run when a later rule changed the transition."""


@dataclass
class TransitionOutcome:
    """What was decided and what the caller must persist."""

    status: SetStateStatus
    reason: str | None
    delay_seconds: int | None
    # The history row to insert: id, type (str), name, timestamp, message, data, state_details (JSON-able dict).
    state_to_write: dict[str, Any] | None
    # OrchestrationResult.state: the written state, or the current one when nothing was written.
    response_state: dict[str, Any] | None
    # Columns to set on the run row; empty when nothing is written.
    run_updates: dict[str, Any]
    # Task runs: {"cache_key", "cache_expiration"} of a COMPLETED state to add to the state cache.
    cache_insert: dict[str, Any] | None = None
    # Flow runs: run inputs (by key) left by an earlier attempt under the keyset of a pause just accepted; delete them.
    run_input_keys_to_delete: list[str] = field(default_factory=list)
    # Deferred task runs: push the run to the background task queue ("enqueue") or re-queue it ("retry").
    task_queue_action: Literal["enqueue", "retry"] | None = None
    # The state the run was in before this transition (a current-state dict), None for its first state.
    initial_state: dict[str, Any] | None = None

    @property
    def status_code(self) -> int:
        """201 when a state was written, else 200 (as Prefect answers set_state)."""
        return 201 if self.state_to_write is not None else 200

    def result_body(self) -> dict[str, Any]:
        """The OrchestrationResult JSON body."""
        details: ResponseDetails
        if self.status == "ACCEPT":
            details = AcceptDetails()
        elif self.status == "REJECT":
            details = RejectDetails(reason=self.reason)
        elif self.status == "WAIT":
            details = WaitDetails(delay_seconds=self.delay_seconds or 0, reason=self.reason)
        else:
            details = AbortDetails(reason=self.reason)
        state = State.model_validate(self.response_state) if self.response_state is not None else None
        return OrchestrationResult(state=state, status=self.status, details=details).model_dump(mode="json")
