"""The runs table shared by the Runs page, a flow's page and the Task runs page: its query parameters, page cursors,
links, and the filters of its bulk actions.

Every filter is a GET parameter, so a filtered view is a URL to share. Pages are keyset pages (`after` / `before`
hold a cursor), and the count shown stops at COUNT_CAP, so no request counts a whole large table.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import orjson

from baton.errors import ValidationFailed
from baton.server.models.views.run_pages import TASK_RUN_LIST, Cursor, Page, RunListQuery, RunSort
from baton.server.schemas.bulk import BULK_OPERATION_LIMIT
from baton.server.schemas.requests import RunFilterSet
from baton.states import LATE as LATE_STATE_NAME
from baton.states import TERMINAL_STATE_VALUES
from baton.webui.formatting import STATE_TYPES, as_datetime, state_badge

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Counting stops here: a count costs at most this many index entries, whatever the filter or the table's size.
COUNT_CAP = 10_000
LATE = "LATE"
STATE_CHOICES = (*STATE_TYPES, LATE)
SORT_LABELS = {
    RunSort.START_DESC: "Start time, newest first",
    RunSort.START_ASC: "Start time, oldest first",
    RunSort.NAME_ASC: "Name, A to Z",
    RunSort.NAME_DESC: "Name, Z to A",
}
# The filter parameters a pager link carries over (the cursor parameters are replaced).
FILTER_PARAMETERS = ("state", "flow", "tag", "from", "to", "name", "sort", "limit")
# The Task runs page's: a task run's flow run besides.
TASK_FILTER_PARAMETERS = (*FILTER_PARAMETERS, "flow_run")


@dataclass(frozen=True)
class RunListFilter:
    """The runs table's filter parameters; empty fields do not narrow. `state_types` and `late` are alternatives (a
    run matches either); the date range applies to when a run started (or was expected to); `flow_run_id` (task runs
    only) to a task run's flow run. `filter_set` and `task_filter_set` say the same in the API's filter language, which
    is what selects the runs."""

    state_types: tuple[str, ...] = ()
    late: bool = False
    flow_id: uuid.UUID | None = None
    tag: str | None = None
    started_from: dt.datetime | None = None
    started_to: dt.datetime | None = None
    name: str | None = None
    flow_run_id: uuid.UUID | None = None

    def filter_set(self, *, deployment_id: uuid.UUID | None = None, past_only: bool = False) -> RunFilterSet:
        """The filter as a body of `POST /api/flow_runs/filter`. `deployment_id` narrows it to one deployment's runs;
        with `past_only`, unless states are chosen, runs waiting in a Scheduled state are left out."""
        state = self._state()
        if state is None and past_only:
            state = {"type": {"not_any_": ["SCHEDULED"]}}
        run = self._run_filter(state)
        if deployment_id is not None:
            run["deployment_id"] = {"any_": [str(deployment_id)]}
        return RunFilterSet.model_validate({"flow_runs": run, **self._flows()})

    def task_filter_set(self) -> RunFilterSet:
        """The filter as a body of `POST /api/task_runs/filter`."""
        return RunFilterSet.model_validate({"task_runs": self._run_filter(self._state()), **self._flows()})

    def _flows(self) -> dict[str, Any]:
        return {} if self.flow_id is None else {"flows": {"id": {"any_": [str(self.flow_id)]}}}

    def _run_filter(self, state: dict[str, Any] | None) -> dict[str, Any]:
        """The run's own filter (`flow_runs` or `task_runs`) with `state`, in JSON types."""
        run: dict[str, Any] = {}
        if state is not None:
            run["state"] = state
        if self.tag:
            run["tags"] = {"all_": [self.tag]}
        if self.name:
            run["name"] = {"like_": self.name}
        if self.started_from is not None or self.started_to is not None:
            times = {"after_": self.started_from, "before_": self.started_to}
            run["start_time"] = {key: when.isoformat() for key, when in times.items() if when is not None}
        if self.flow_run_id is not None:
            run["flow_run_id"] = {"any_": [str(self.flow_run_id)]}
        return run

    def bulk_filter(
        self, *, within: tuple[str, ...] | None = None, with_deployment: bool = False
    ) -> dict[str, Any] | None:
        """The filter as the JSON run filter of the bulk endpoints (`flow_runs` of `/flow_runs/bulk_set_state`,
        `/bulk_delete` and `/count`, `task_runs` of the `/task_runs/` ones), narrowed to runs in the state types
        `within` and, with `with_deployment`, to flow runs of a deployment. None when no run can match it, or when it
        cannot be said there: those endpoints take no flow filter."""
        if self.flow_id is not None:
            return None
        narrowed = self if within is None else self._within(within)
        if narrowed is None:
            return None
        run = self._run_filter(narrowed._state())
        if with_deployment:
            run["deployment_id"] = {"is_null_": False}
        return run

    def _within(self, types: tuple[str, ...]) -> RunListFilter | None:
        """This filter with its states narrowed to `types` (None when none is left)."""
        if not self.state_types and not self.late:
            return replace(self, state_types=types)
        kept = tuple(state for state in self.state_types if state in types)
        late = self.late and "SCHEDULED" in types
        if not kept and not late:
            return None
        return replace(self, state_types=kept, late=late)

    def _state(self) -> dict[str, Any] | None:
        types, late = list(self.state_types), {"any_": [LATE_STATE_NAME]}
        if types and self.late and "SCHEDULED" not in types:
            return {"type": {"any_": types}, "name": late, "operator": "or_"}
        if types:  # Late runs are Scheduled ones
            return {"type": {"any_": types}}
        if self.late:
            return {"type": {"any_": ["SCHEDULED"]}, "name": late}
        return None


@dataclass(frozen=True)
class RunListing:
    """A parsed runs-table request."""

    filter: RunListFilter
    sort: RunSort
    limit: int
    after: Cursor | None = None
    before: Cursor | None = None
    # The filter parameters as given, to fill the form and build links.
    values: dict[str, list[str]] = field(default_factory=dict)
    # Whether it lists task runs (the Task runs page) rather than flow runs.
    task_runs: bool = False

    @property
    def parameters(self) -> tuple[str, ...]:
        return TASK_FILTER_PARAMETERS if self.task_runs else FILTER_PARAMETERS

    def value(self, name: str) -> str:
        given = self.values.get(name)
        return given[0] if given else ""

    @property
    def narrowed(self) -> bool:
        """Whether any filter (not just a sort or a page size) is set."""
        return any(name in self.values for name in self.parameters if name not in ("sort", "limit"))

    @property
    def selected_states(self) -> tuple[str, ...]:
        return (*self.filter.state_types, *((LATE,) if self.filter.late else ()))

    def query(self, *, deployment_id: uuid.UUID | None = None, past_only: bool = False) -> RunListQuery:
        """The page of runs this listing asks for (see `RunListFilter.filter_set` for the options)."""
        if self.task_runs:
            filters = self.filter.task_filter_set()
            return RunListQuery(filters, self.sort, self.limit, self.after, self.before, runs=TASK_RUN_LIST)
        filters = self.filter.filter_set(deployment_id=deployment_id, past_only=past_only)
        return RunListQuery(filters, self.sort, self.limit, after=self.after, before=self.before)


# The states a run can be cancelled from: not finished (baton/states.py) and not already being cancelled.
CANCELLABLE = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED")
# Runs in these states with infrastructure (a deployment) are asked to cancel, so that what runs them stops them;
# the others are cancelled at once (as runs.js does for the selected rows).
ASK_TO_CANCEL = ("PENDING", "RUNNING", "PAUSED")


def bulk_filters(spec: RunListFilter) -> dict[str, str] | None:
    """The JSON filters with which the runs table acts on every run matching `spec` through the bulk endpoints:
    `all` (to count and delete), `ask` (runs to move to Cancelling) and `cancel` (runs to move to Cancelled), each
    left out when no run can match it; `limit` is the most runs one call of those endpoints acts on. None when the
    filter cannot be said to those endpoints (a flow filter)."""
    every = spec.bulk_filter()
    if every is None:
        return None
    filters = {
        "all": every,
        "ask": spec.bulk_filter(within=ASK_TO_CANCEL, with_deployment=True),
        "cancel": spec.bulk_filter(within=CANCELLABLE),
    }
    found = {name: orjson.dumps(value).decode() for name, value in filters.items() if value is not None}
    return {**found, "limit": str(BULK_OPERATION_LIMIT)}


# The states the Task runs page offers to set on the selected task runs: the terminal ones.
SETTABLE_TASK_RUN_STATES = TERMINAL_STATE_VALUES


def task_bulk_filters(spec: RunListFilter) -> dict[str, str] | None:
    """The JSON filters with which the task-runs table acts on every task run matching `spec`: `all` (to count and
    delete) and `states`, per state type it offers to set, the matching runs not yet in that type (so that a run
    moved drops out of the filter, and a repeated call meets the next ones); `limit` as in `bulk_filters`. None when
    the filter cannot be said to the bulk endpoints (a flow filter)."""
    every = spec.bulk_filter()
    if every is None:
        return None
    states = {
        target: spec.bulk_filter(within=tuple(other for other in STATE_TYPES if other != target))
        for target in SETTABLE_TASK_RUN_STATES
    }
    return {
        "all": orjson.dumps(every).decode(),
        "states": orjson.dumps(states).decode(),
        "limit": str(BULK_OPERATION_LIMIT),
    }


@dataclass
class RunListingResult:
    page: Page
    matching: int
    noun: str = "run"

    @property
    def matching_text(self) -> str:
        if self.matching > COUNT_CAP:
            return f"more than {COUNT_CAP:,} {self.noun}s match"
        return f"{self.matching:,} {self.noun + ' matches' if self.matching == 1 else self.noun + 's match'}"


Arguments = Callable[[str], list[str]]


def parse_run_listing(arguments: Arguments, *, flow_id: uuid.UUID | None = None, task_runs: bool = False) -> RunListing:
    """The runs-table request in the query `arguments` (a handler's get_query_arguments); `flow_id` scopes it to one
    flow; `task_runs` reads a task-runs table's (a `flow_run` parameter, no Late state). Raises ValidationFailed, with
    a message for the reader, on any value that makes no sense."""
    parameters = TASK_FILTER_PARAMETERS if task_runs else FILTER_PARAMETERS
    values = {name: [v.strip() for v in arguments(name) if v.strip()] for name in parameters}
    values = {name: given for name, given in values.items() if given}
    states = [part.strip().upper() for value in values.get("state", []) for part in value.split(",") if part.strip()]
    state_choices = STATE_TYPES if task_runs else STATE_CHOICES
    unknown = [state for state in states if state not in state_choices]
    if unknown:
        choices = ", ".join(state.title() for state in state_choices)
        raise ValidationFailed(f"There is no state {unknown[0]!r}; the states are {choices}.")
    if flow_id is None and "flow" in values:
        flow_id = _uuid(values["flow"][0], "flow")
    sort = _sort(values.get("sort", [""])[0])
    spec = RunListFilter(
        state_types=tuple(state for state in states if state != LATE),
        late=LATE in states,
        flow_id=flow_id,
        tag=_first(values, "tag"),
        started_from=_time(values, "from"),
        started_to=_time(values, "to"),
        name=_first(values, "name"),
        flow_run_id=_uuid(values["flow_run"][0], "flow_run") if "flow_run" in values else None,
    )
    if spec.started_from and spec.started_to and spec.started_from > spec.started_to:
        raise ValidationFailed("The start of the date range is after its end.")
    after, before = (arguments("after") or [""])[0], (arguments("before") or [""])[0]
    if after and before:
        raise ValidationFailed("A page is either after or before a run, not both.")
    return RunListing(
        filter=spec,
        sort=sort,
        limit=_limit(values),
        after=decode_cursor(after, sort) if after else None,
        before=decode_cursor(before, sort) if before else None,
        values=values,
        task_runs=task_runs,
    )


def listing_url(path: str, listing: RunListing, **changes: str | None) -> str:
    """`path` with the listing's filter parameters, some of them changed (None drops one)."""
    pairs: list[tuple[str, str]] = []
    for name in listing.parameters:
        if name not in changes:
            pairs += [(name, value) for value in listing.values.get(name, [])]
    pairs += [(name, value) for name, value in changes.items() if value is not None]
    return path + ("?" + urlencode(pairs) if pairs else "")


# A saved search made on the Runs page holds one filter per URL parameter, on this object.
SAVED_SEARCH_OBJECT = "flow_run"


def saved_search_url(path: str, filters: list[dict[str, Any]]) -> str:
    """`path` with the Runs-page parameters a saved search holds (filters saved elsewhere, by Prefect's UI say, are
    skipped)."""
    pairs: list[tuple[str, str]] = []
    for item in filters:
        name, value = item.get("property"), item.get("value")
        if item.get("object") != SAVED_SEARCH_OBJECT or name not in FILTER_PARAMETERS:
            continue
        values = value if isinstance(value, list) else [value]
        pairs += [(str(name), str(one)) for one in values if isinstance(one, str | int | float) and str(one)]
    return path + ("?" + urlencode(pairs) if pairs else "")


def pager_labels(sort: RunSort) -> tuple[str, str]:
    """Names of the links to the previous and the next page in `sort` order."""
    return {
        RunSort.START_DESC: ("Newer", "Older"),
        RunSort.START_ASC: ("Older", "Newer"),
    }.get(sort, ("Previous", "Next"))


def run_duration(row: dict[str, Any], now: dt.datetime) -> float | None:
    """Seconds the run has run, counting the current stretch of a running run; None when it never started."""
    seconds = float(row.get("total_run_time") or 0.0)
    since = as_datetime(row.get("state_timestamp"))
    if row.get("state_type") == "RUNNING" and since is not None:
        seconds += max((now - since).total_seconds(), 0.0)
    if seconds == 0.0 and row.get("start_time") is None:
        return None
    return seconds


def encode_cursor(cursor: Cursor) -> str:
    key = cursor.key.isoformat() if isinstance(cursor.key, dt.datetime) else cursor.key
    return base64.urlsafe_b64encode(orjson.dumps([key, str(cursor.id)])).decode().rstrip("=")


def decode_cursor(token: str, sort: RunSort) -> Cursor:
    """The cursor in a pager link; ValidationFailed when it was not made by `encode_cursor` for this sort."""
    try:
        key, run_id = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if sort in (RunSort.START_DESC, RunSort.START_ASC):
            key = as_datetime(key)
        if not isinstance(key, str | dt.datetime):
            raise ValueError(key)
        return Cursor(key, uuid.UUID(run_id))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(
            "The page link is not valid (it may come from another sort): start again from the first page."
        ) from exc


def _first(values: dict[str, list[str]], name: str) -> str | None:
    given = values.get(name)
    return given[0] if given else None


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationFailed(f"The {what!r} parameter must be an id, not {value!r}.") from exc


def _sort(value: str) -> RunSort:
    if not value:
        return RunSort.START_DESC
    try:
        return RunSort(value.lower())
    except ValueError as exc:
        choices = ", ".join(sort.value for sort in RunSort)
        raise ValidationFailed(f"There is no sort {value!r}; the sorts are {choices}.") from exc


def _limit(values: dict[str, list[str]]) -> int:
    raw = _first(values, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError as exc:
        raise ValidationFailed(f"The 'limit' parameter must be a whole number, not {raw!r}.") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"The 'limit' parameter must be between 1 and {MAX_LIMIT}.")
    return limit


def _time(values: dict[str, list[str]], name: str) -> dt.datetime | None:
    raw = _first(values, name)
    if raw is None:
        return None
    try:
        return as_datetime(raw.replace(" ", "+") if raw.count(" ") == 1 and "T" in raw else raw)
    except ValueError as exc:
        raise ValidationFailed(
            f"The {name!r} parameter must be a time such as 2026-03-01T12:00:00Z, not {raw!r}."
        ) from exc


def state_choice_badge(state: str) -> str:
    """The badge of a state filter choice (Late is a Scheduled state with its own colour)."""
    return state_badge("SCHEDULED", LATE_STATE_NAME) if state == LATE else state_badge(state)


@dataclass(frozen=True)
class RunTableKind:
    """What a runs table lists, for its template and runs.js: the noun, the API resource and its filter and id fields,
    the run page's path, the permission to delete, the one to cancel (None: no Cancel action), whether it offers to
    set a state, and what a delete takes along."""

    noun: str
    api_path: str
    filter_field: str
    id_field: str
    page_path: str
    delete_permission: str
    cancel_permission: str | None
    sets_states: bool
    deleted_along: str


FLOW_RUN_TABLE = RunTableKind(
    "run",
    "/flow_runs",
    "flow_runs",
    "flow_run_id",
    "/runs/flow-run/",
    "flow_run:write",
    "flow_run:run",
    False,
    "Their task runs and logs are deleted too.",
)
# Task runs are not cancelled the way flow runs are (nothing outside the flow run's process runs them, so there is
# nothing to ask to stop): Cancelled is one of the states the table sets.
TASK_RUN_TABLE = RunTableKind(
    "task run",
    "/task_runs",
    "task_runs",
    "task_run_id",
    "/task-runs/",
    "task_run:write",
    None,
    True,
    "Their state histories are deleted too.",
)


# Values the runs-table templates use, besides the layout's.
TEMPLATE_VALUES = {
    "table_kind": FLOW_RUN_TABLE,
    "listing_url": listing_url,
    # Pages that offer to act on every matching run set this (see `bulk_filters`).
    "bulk_filters": None,
    "pager_labels": pager_labels,
    "run_duration": run_duration,
    "encode_cursor": encode_cursor,
    "sort_labels": SORT_LABELS,
    "state_choices": STATE_CHOICES,
    "state_choice_badge": state_choice_badge,
}
