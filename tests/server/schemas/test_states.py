"""State schemas against the official client's own models: what it sends we accept, what we answer it parses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import prefect.states
import pytest
from prefect.client.schemas.actions import StateCreate as ClientStateCreate
from prefect.client.schemas.objects import StateType as ClientStateType
from prefect.client.schemas.responses import OrchestrationResult as ClientOrchestrationResult
from prefect.results import ResultRecordMetadata
from pydantic import ValidationError

from baton.server.schemas.states import (
    AbortDetails,
    AcceptDetails,
    OrchestrationResult,
    RejectDetails,
    ResponseDetails,
    SetStateRequest,
    SetStateStatus,
    State,
    StateCreate,
    StateDetails,
    WaitDetails,
)
from baton.states import StateType, default_state_name

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)


def _state(**overrides: Any) -> State:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "type": StateType.SCHEDULED,
        "name": "AwaitingRetry",
        "timestamp": NOW,
        "message": "boom",
        "data": {"type": "unpersisted"},
        "state_details": StateDetails(flow_run_id=uuid.uuid4(), scheduled_time=NOW + dt.timedelta(seconds=5)),
    }
    fields.update(overrides)
    return State(**fields)


@pytest.mark.parametrize(
    ("status", "details", "with_state"),
    [
        ("ACCEPT", AcceptDetails(), True),
        ("REJECT", RejectDetails(reason="Retrying"), True),
        ("WAIT", WaitDetails(delay_seconds=7, reason="Scheduled time is in the future"), True),
        ("ABORT", AbortDetails(reason="Run is already in terminal state COMPLETED."), True),
        ("ABORT", AbortDetails(reason="Cannot resume a flow run that is not paused."), False),
    ],
)
def test_orchestration_result_parses_with_the_client_model(
    status: SetStateStatus, details: ResponseDetails, with_state: bool
) -> None:
    state = _state() if with_state else None
    body = OrchestrationResult(state=state, status=status, details=details).model_dump(mode="json")

    parsed: ClientOrchestrationResult[Any] = ClientOrchestrationResult.model_validate(body)

    assert parsed.status.value == status
    assert parsed.details.type == details.type
    assert parsed.details.model_dump() == details.model_dump()
    if state is None:
        assert parsed.state is None
    else:
        assert parsed.state is not None
        assert parsed.state.id == state.id
        assert parsed.state.type == ClientStateType.SCHEDULED
        assert parsed.state.name == "AwaitingRetry"
        assert parsed.state.timestamp == NOW
        assert parsed.state.message == "boom"
        assert parsed.state.state_details.scheduled_time == NOW + dt.timedelta(seconds=5)


def test_details_are_a_union_tagged_on_type() -> None:
    body = {"state": None, "status": "WAIT", "details": {"type": "wait_details", "delay_seconds": 3}}
    assert OrchestrationResult.model_validate(body).details == WaitDetails(delay_seconds=3)


def test_a_client_state_create_validates() -> None:
    client_state = prefect.states.to_state_create(prefect.states.Running(message="go"))
    client_state.state_details.flow_run_id = uuid.uuid4()
    client_state.state_details.transition_id = uuid.uuid4()
    body = {"state": client_state.model_dump(mode="json", serialize_as_any=True), "force": False}

    request = SetStateRequest.model_validate(body)

    assert request.state.type == StateType.RUNNING
    assert request.state.name == "Running"
    assert request.state.message == "go"
    assert request.state.state_details.transition_id == client_state.state_details.transition_id
    assert request.state.state_details.flow_run_id == client_state.state_details.flow_run_id


def test_a_client_state_create_with_result_metadata_validates() -> None:
    metadata = ResultRecordMetadata(storage_key="/tmp/results/abc", storage_block_id=uuid.uuid4())
    client_state = ClientStateCreate(type=ClientStateType.COMPLETED, name="Completed", data=metadata)
    dumped = client_state.model_dump(mode="json", serialize_as_any=True)
    # Exactly the keys the client can send; anything else would be a 422 on Prefect's server too.
    assert set(dumped) == {"type", "name", "message", "state_details", "data"}

    state = StateCreate.model_validate(dumped)

    assert state.type == StateType.COMPLETED
    assert state.data["storage_key"] == "/tmp/results/abc"
    assert state.data["storage_block_id"] == str(metadata.storage_block_id)


def test_a_client_scheduled_state_keeps_its_scheduled_time() -> None:
    when = NOW + dt.timedelta(hours=1)
    client_state = prefect.states.to_state_create(prefect.states.Scheduled(scheduled_time=when))

    state = StateCreate.model_validate(client_state.model_dump(mode="json"))

    assert state.state_details.scheduled_time == when


def test_state_create_refuses_unknown_fields_but_details_keep_them() -> None:
    with pytest.raises(ValidationError):
        StateCreate.model_validate({"type": "RUNNING", "timestamp": NOW.isoformat()})

    state = StateCreate.model_validate({"type": "RUNNING", "state_details": {"future_field": 1}})

    assert state.state_details.model_dump(mode="json")["future_field"] == 1


def test_naive_datetimes_are_taken_as_utc() -> None:
    state = State.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "SCHEDULED",
            "name": "Scheduled",
            "timestamp": "2026-01-02T03:04:05",
            "state_details": {"scheduled_time": "2026-01-02T03:04:06"},
        }
    )
    assert state.timestamp == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert state.state_details.scheduled_time == dt.datetime(2026, 1, 2, 3, 4, 6, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("state_type", "name"),
    [(StateType.SCHEDULED, "Scheduled"), (StateType.CANCELLING, "Cancelling"), ("RUNNING", "Running")],
)
def test_default_state_name(state_type: StateType | str, name: str) -> None:
    assert default_state_name(state_type) == name
