"""The runs table's query parameters, cursors and links, without a server."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import pytest

from baton.errors import ValidationFailed
from baton.server.models.views import run_pages
from baton.server.models.views.run_pages import Cursor, RunSort
from baton.server.schemas.bulk import BULK_OPERATION_LIMIT
from baton.server.schemas.filters import FlowRunFilter, TaskRunFilter
from baton.states import LATE
from baton.webui import run_listing


def arguments(**values: list[str]) -> run_listing.Arguments:
    return lambda name: values.get(name, [])


def test_parameters_become_a_filter_and_links_carry_them_without_the_cursor() -> None:
    flow = uuid.uuid4()
    listing = run_listing.parse_run_listing(
        arguments(state=["completed,LATE", ""], flow=[str(flow)], tag=[" nightly "], name=["x"], limit=["10"])
    )
    spec = listing.filter
    assert spec.state_types == ("COMPLETED",) and spec.late and spec.flow_id == flow and spec.tag == "nightly"
    assert listing.limit == 10 and listing.sort is RunSort.START_DESC and listing.narrowed
    assert listing.selected_states == ("COMPLETED", "LATE")
    url = run_listing.listing_url("/runs", listing, tag="adhoc")
    assert url == f"/runs?state=completed%2CLATE&flow={flow}&name=x&limit=10&tag=adhoc"
    assert not run_listing.parse_run_listing(arguments(sort=["name_asc"], limit=["5"])).narrowed


def test_a_flow_page_ignores_the_flow_parameter() -> None:
    flow = uuid.uuid4()
    listing = run_listing.parse_run_listing(arguments(flow=["not-an-id"]), flow_id=flow)
    assert listing.filter.flow_id == flow


@pytest.mark.parametrize("sort", list(RunSort))
def test_cursors_survive_a_round_trip(sort: RunSort) -> None:
    key = dt.datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=dt.UTC) if "start" in sort.value else "<b>näme</b>"
    cursor = Cursor(key, uuid.uuid4())
    token = run_listing.encode_cursor(cursor)
    assert "=" not in token and "/" not in token and "+" not in token
    assert run_listing.decode_cursor(token, sort) == cursor


@pytest.mark.parametrize("token", ["", "!!!", "bm9wZQ", "WzEsMl0", "WyJ4IiwieSJd"])
def test_a_bad_cursor_is_a_validation_error(token: str) -> None:
    with pytest.raises(ValidationFailed):
        run_listing.decode_cursor(token, RunSort.START_DESC)


def test_duration_counts_the_current_stretch_of_a_running_run() -> None:
    now = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    running = {"state_type": "RUNNING", "state_timestamp": now - dt.timedelta(seconds=30), "total_run_time": 12.0}
    assert run_listing.run_duration({**running, "start_time": now}, now) == 42.0
    assert run_listing.run_duration({"state_type": "SCHEDULED", "total_run_time": 0.0, "start_time": None}, now) is None
    assert run_listing.pager_labels(RunSort.START_ASC) == ("Older", "Newer")


def bulk_filters(**values: list[str]) -> dict[str, dict[str, object]] | None:
    found = run_listing.bulk_filters(run_listing.parse_run_listing(arguments(**values)).filter)
    if found is None:
        return None
    assert found.pop("limit") == str(BULK_OPERATION_LIMIT)
    parsed = {name: orjson.loads(text) for name, text in found.items()}
    for value in parsed.values():  # what the bulk endpoints accept
        FlowRunFilter.model_validate(value)
    return parsed


def test_bulk_filters_narrow_the_page_filter_to_the_runs_each_action_can_change() -> None:
    filters = bulk_filters(tag=["nightly"], name=["x"], **{"from": ["2026-03-01T12:00:00Z"]})
    assert filters is not None
    common = {
        "tags": {"all_": ["nightly"]},
        "name": {"like_": "x"},
        "start_time": {"after_": "2026-03-01T12:00:00+00:00"},
    }
    assert filters["all"] == common
    assert filters["ask"] == {
        **common,
        "state": {"type": {"any_": list(run_listing.ASK_TO_CANCEL)}},
        "deployment_id": {"is_null_": False},
    }
    assert filters["cancel"] == {**common, "state": {"type": {"any_": list(run_listing.CANCELLABLE)}}}


def test_bulk_filters_keep_only_the_chosen_states_that_can_be_cancelled() -> None:
    filters = bulk_filters(state=["completed,running,late"])
    assert filters is not None
    late = {"any_": [LATE]}
    assert filters["all"]["state"] == {"type": {"any_": ["COMPLETED", "RUNNING"]}, "name": late, "operator": "or_"}
    assert filters["ask"]["state"] == {"type": {"any_": ["RUNNING"]}}
    assert filters["cancel"]["state"] == {"type": {"any_": ["RUNNING"]}, "name": late, "operator": "or_"}
    finished = bulk_filters(state=["completed,failed"])
    assert finished is not None and set(finished) == {"all"}
    assert bulk_filters(state=["late"]) == {
        "all": {"state": {"type": {"any_": ["SCHEDULED"]}, "name": late}},
        "cancel": {"state": {"type": {"any_": ["SCHEDULED"]}, "name": late}},
    }


def test_a_flow_filter_cannot_be_said_to_the_bulk_endpoints() -> None:
    assert bulk_filters(flow=[str(uuid.uuid4())]) is None


def test_a_task_runs_listing_takes_a_flow_run_and_no_late_state() -> None:
    flow_run = uuid.uuid4()
    listing = run_listing.parse_run_listing(
        arguments(flow_run=[str(flow_run)], state=["failed"], tag=["etl"]), task_runs=True
    )
    assert listing.filter.flow_run_id == flow_run and listing.narrowed
    assert run_listing.listing_url("/task-runs", listing, sort="name_asc") == (
        f"/task-runs?state=failed&tag=etl&flow_run={flow_run}&sort=name_asc"
    )
    query = listing.query()
    assert query.runs is run_pages.TASK_RUN_LIST
    assert query.filters.task_runs is not None and query.filters.flow_runs is None
    assert query.filters.task_runs.flow_run_id is not None and query.filters.task_runs.flow_run_id.any_ == [flow_run]
    with pytest.raises(ValidationFailed, match="no state 'LATE'"):
        run_listing.parse_run_listing(arguments(state=["late"]), task_runs=True)
    with pytest.raises(ValidationFailed, match="'flow_run' parameter must be an id"):
        run_listing.parse_run_listing(arguments(flow_run=["nope"]), task_runs=True)
    # A flow-runs listing has no flow_run parameter.
    assert run_listing.parse_run_listing(arguments(flow_run=[str(flow_run)])).filter.flow_run_id is None


def test_task_bulk_filters_leave_out_the_runs_already_in_the_state_to_set() -> None:
    spec = run_listing.parse_run_listing(arguments(state=["failed,completed"], tag=["etl"]), task_runs=True).filter
    found = run_listing.task_bulk_filters(spec)
    assert found is not None and found["limit"] == str(BULK_OPERATION_LIMIT)
    every = orjson.loads(found["all"])
    assert every == {"state": {"type": {"any_": ["FAILED", "COMPLETED"]}}, "tags": {"all_": ["etl"]}}
    states = orjson.loads(found["states"])
    assert set(states) == set(run_listing.SETTABLE_TASK_RUN_STATES)
    assert states["FAILED"] == {"state": {"type": {"any_": ["COMPLETED"]}}, "tags": {"all_": ["etl"]}}
    assert states["CANCELLED"] == every
    for value in [every, *filter(None, states.values())]:
        TaskRunFilter.model_validate(value)
    only_failed = run_listing.parse_run_listing(arguments(state=["failed"]), task_runs=True).filter
    assert orjson.loads(run_listing.task_bulk_filters(only_failed)["states"])["FAILED"] is None  # type: ignore[index]
    unfiltered = orjson.loads(run_listing.task_bulk_filters(run_listing.RunListFilter())["states"])  # type: ignore[index]
    assert "FAILED" not in unfiltered["FAILED"]["state"]["type"]["any_"]
    assert run_listing.task_bulk_filters(run_listing.RunListFilter(flow_id=uuid.uuid4())) is None
