"""Automations as the Prefect 3 API shapes them: a trigger (event, metric, compound, sequence) and the actions run
when it fires or resolves. Request bodies refuse unknown keys; stored automations are read back through the same
models, so what the API answers is what it validated.

Templates in actions (`parameters`, `payload`, `subject`, `body`) are checked when an automation is saved, by
`baton.server.automations.templates`, which the handlers call after these models parse."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, WithJsonSchema, field_validator, model_validator

from baton.server.schemas.base import ActionModel, ApiModel, Limit, ListingModel, Name, Offset
from baton.server.schemas.filters import FilterModel, OperatorFilterModel
from baton.states import StateType

# A label specification: label -> glob pattern, or a list of patterns any of which may match.
ResourceSpecification = dict[str, str | list[str]]
# Durations are read as seconds or ISO 8601 durations and answered as seconds (a number), as Prefect does.
_DURATION_SCHEMA = {
    "anyOf": [{"type": "number"}, {"type": "string", "format": "duration"}],
    "description": "Seconds, or an ISO 8601 duration; answered as seconds.",
}
Duration = Annotated[dt.timedelta, WithJsonSchema(_DURATION_SCHEMA)]
Seconds = Annotated[Duration, Field(ge=dt.timedelta(0))]

PROACTIVE_MINIMUM_WITHIN = dt.timedelta(seconds=10)
METRIC_MINIMUM_RANGE = dt.timedelta(seconds=300)


class Posture(enum.StrEnum):
    REACTIVE = "Reactive"
    PROACTIVE = "Proactive"
    METRIC = "Metric"


class TriggerState(enum.StrEnum):
    TRIGGERED = "Triggered"
    RESOLVED = "Resolved"


class _TriggerModel(BaseModel):
    """Triggers are read leniently (Prefect ignores unknown keys in them) and serialise timedeltas as seconds."""

    model_config = ConfigDict(defer_build=True, extra="ignore", ser_json_timedelta="float", populate_by_name=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)


class _ResourceTrigger(_TriggerModel):
    match: ResourceSpecification = Field(default_factory=dict)
    match_related: ResourceSpecification | list[ResourceSpecification] = Field(default_factory=dict)

    def related_specifications(self) -> list[ResourceSpecification]:
        """`match_related` as a list: every one of them must be met by some related resource."""
        if isinstance(self.match_related, list):
            return [spec for spec in self.match_related if spec]
        return [self.match_related] if self.match_related else []


class EventTrigger(_ResourceTrigger):
    """Fires on the presence (Reactive) or absence (Proactive) of `threshold` expected events within `within`."""

    type: Literal["event"] = "event"
    after: set[str] = Field(default_factory=set)
    expect: set[str] = Field(default_factory=set)
    for_each: set[str] = Field(default_factory=set)
    posture: Literal[Posture.REACTIVE, Posture.PROACTIVE]
    threshold: int = Field(1, ge=1)
    within: Seconds = dt.timedelta(0)

    @model_validator(mode="after")
    def _proactive_needs_a_window(self) -> EventTrigger:
        if self.posture == Posture.PROACTIVE:
            if self.within == dt.timedelta(0):
                self.within = PROACTIVE_MINIMUM_WITHIN
            elif self.within < PROACTIVE_MINIMUM_WITHIN:
                raise ValueError("`within` for Proactive triggers must be greater than or equal to 10 seconds")
        return self

    @property
    def immediate(self) -> bool:
        """A reactive trigger with no window fires on each expected event by itself."""
        return self.posture == Posture.REACTIVE and self.within == dt.timedelta(0)


class MetricOperator(enum.StrEnum):
    LT = "<"
    LTE = "<="
    GT = ">"
    GTE = ">="


class MetricQuery(BaseModel):
    """Prefect Cloud's metric query: `name` (lateness, duration, successes) over `range`, compared with `threshold`
    by `operator`, breaching (or resolving) continuously for `firing_for` before the state changes."""

    model_config = ConfigDict(defer_build=True, extra="ignore", ser_json_timedelta="float")

    name: Literal["lateness", "duration", "successes"]
    threshold: float = Field(allow_inf_nan=False)
    operator: MetricOperator
    range: Duration = METRIC_MINIMUM_RANGE
    firing_for: Duration = METRIC_MINIMUM_RANGE

    @field_validator("range", "firing_for")
    @classmethod
    def _at_least_five_minutes(cls, value: dt.timedelta) -> dt.timedelta:
        if value < METRIC_MINIMUM_RANGE:
            raise ValueError("The minimum range is 300 seconds (5 minutes)")
        return value


class MetricTrigger(_ResourceTrigger):
    type: Literal["metric"] = "metric"
    posture: Literal[Posture.METRIC] = Posture.METRIC
    metric: MetricQuery


class CompoundTrigger(_TriggerModel):
    """Fires when `require` of its children ("any", "all" or a number) have fired within `within`."""

    type: Literal["compound"] = "compound"
    triggers: list[TriggerTypes] = Field(min_length=1)
    require: int | Literal["any", "all"]
    within: Seconds | None = None

    @model_validator(mode="after")
    def _require_in_range(self) -> CompoundTrigger:
        if isinstance(self.require, int):
            if self.require < 1:
                raise ValueError("require must be at least 1")
            if self.require > len(self.triggers):
                raise ValueError("require must be less than or equal to the number of triggers")
        return self

    @property
    def expected_firings(self) -> int:
        if self.require == "any":
            return 1
        if self.require == "all":
            return len(self.triggers)
        return self.require


class SequenceTrigger(_TriggerModel):
    """Fires when its children have fired in their order within `within`."""

    type: Literal["sequence"] = "sequence"
    triggers: list[TriggerTypes] = Field(min_length=1)
    within: Seconds | None = None


def _trigger_kind(value: Any) -> str:
    """Prefect's discriminator: `type` when given, else a metric posture means a metric trigger, else an event."""
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is None and value.get("posture") == Posture.METRIC:
            return "metric"
        return kind or "event"
    return getattr(value, "type", "event")


TriggerTypes = Annotated[
    Annotated[EventTrigger, Tag("event")]
    | Annotated[MetricTrigger, Tag("metric")]
    | Annotated[CompoundTrigger, Tag("compound")]
    | Annotated[SequenceTrigger, Tag("sequence")],
    Discriminator(_trigger_kind),
]
CompoundTrigger.model_rebuild()
SequenceTrigger.model_rebuild()

CompositeTrigger = CompoundTrigger | SequenceTrigger
Trigger = EventTrigger | MetricTrigger | CompoundTrigger | SequenceTrigger


def all_triggers(trigger: Trigger) -> list[Trigger]:
    """`trigger` and, for a composite trigger, all of its descendants, parents first."""
    found: list[Trigger] = [trigger]
    for child in getattr(trigger, "triggers", []):
        found.extend(all_triggers(child))
    return found


def reset_trigger_ids(trigger: Trigger) -> None:
    """Give `trigger` and its descendants fresh ids, as the server does on every save: a client-chosen id must not
    collide with another automation's trigger state."""
    for each in all_triggers(trigger):
        each.id = uuid.uuid4()


# --- actions --------------------------------------------------------------------------------------------------------


class _ActionModel(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", ser_json_timedelta="float")


class _Selected(_ActionModel):
    """An action on an object chosen when the automation is saved (`selected`) or taken from the triggering event's
    resources when it fires (`inferred`)."""

    source: Literal["selected", "inferred"] = "selected"
    target_field: ClassVar[str] = ""

    @model_validator(mode="after")
    def _selected_needs_id(self) -> _Selected:
        field = self.target_field
        has_id = getattr(self, field) is not None
        if (self.source == "selected") != has_id:
            raise ValueError(f"{field} is " + ("not allowed" if has_id else "required"))
        return self


class DoNothing(_ActionModel):
    type: Literal["do-nothing"] = "do-nothing"


class _DeploymentAction(_Selected):
    target_field: ClassVar[str] = "deployment_id"
    deployment_id: uuid.UUID | None = None


class RunDeployment(_DeploymentAction):
    type: Literal["run-deployment"] = "run-deployment"
    parameters: dict[str, Any] | None = None
    job_variables: dict[str, Any] | None = None
    schedule_after: Seconds = dt.timedelta(0)


class PauseDeployment(_DeploymentAction):
    type: Literal["pause-deployment"] = "pause-deployment"


class ResumeDeployment(_DeploymentAction):
    type: Literal["resume-deployment"] = "resume-deployment"


class ChangeFlowRunState(_ActionModel):
    type: Literal["change-flow-run-state"] = "change-flow-run-state"
    name: str | None = None
    state: StateType
    message: str | None = None
    force: bool = False


class CancelFlowRun(_ActionModel):
    type: Literal["cancel-flow-run"] = "cancel-flow-run"


class SuspendFlowRun(_ActionModel):
    type: Literal["suspend-flow-run"] = "suspend-flow-run"


class ResumeFlowRun(_ActionModel):
    type: Literal["resume-flow-run"] = "resume-flow-run"


class DeleteFlowRun(_ActionModel):
    type: Literal["delete-flow-run"] = "delete-flow-run"


class CallWebhook(_ActionModel):
    type: Literal["call-webhook"] = "call-webhook"
    block_document_id: uuid.UUID
    payload: str = ""

    @field_validator("payload", mode="before")
    @classmethod
    def _payload_as_text(cls, value: Any) -> Any:
        """Prefect accepts a JSON object as the payload and stores it as its text, indented by two spaces."""
        if isinstance(value, dict | list):
            import orjson

            return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        return "" if value is None else value


class SendNotification(_ActionModel):
    type: Literal["send-notification"] = "send-notification"
    block_document_id: uuid.UUID
    subject: str = "Prefect automated notification"
    body: str


class _WorkPoolAction(_Selected):
    target_field: ClassVar[str] = "work_pool_id"
    work_pool_id: uuid.UUID | None = None


class PauseWorkPool(_WorkPoolAction):
    type: Literal["pause-work-pool"] = "pause-work-pool"


class ResumeWorkPool(_WorkPoolAction):
    type: Literal["resume-work-pool"] = "resume-work-pool"


class _WorkQueueAction(_Selected):
    target_field: ClassVar[str] = "work_queue_id"
    work_queue_id: uuid.UUID | None = None


class PauseWorkQueue(_WorkQueueAction):
    type: Literal["pause-work-queue"] = "pause-work-queue"


class ResumeWorkQueue(_WorkQueueAction):
    type: Literal["resume-work-queue"] = "resume-work-queue"


class _AutomationAction(_Selected):
    target_field: ClassVar[str] = "automation_id"
    automation_id: uuid.UUID | None = None


class PauseAutomation(_AutomationAction):
    type: Literal["pause-automation"] = "pause-automation"


class ResumeAutomation(_AutomationAction):
    type: Literal["resume-automation"] = "resume-automation"


Action = (
    DoNothing
    | RunDeployment
    | PauseDeployment
    | ResumeDeployment
    | ChangeFlowRunState
    | CancelFlowRun
    | SuspendFlowRun
    | ResumeFlowRun
    | DeleteFlowRun
    | CallWebhook
    | SendNotification
    | PauseWorkPool
    | ResumeWorkPool
    | PauseWorkQueue
    | ResumeWorkQueue
    | PauseAutomation
    | ResumeAutomation
)
ActionTypes = Annotated[Action, Field(discriminator="type")]


# --- automations ----------------------------------------------------------------------------------------------------


class AutomationCore(BaseModel):
    model_config = ConfigDict(defer_build=True, ser_json_timedelta="float")

    name: Name
    description: str = ""
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    trigger: TriggerTypes
    # Required but may be empty, as in Prefect: an automation may act only on trigger or on resolve.
    actions: list[ActionTypes]
    actions_on_trigger: list[ActionTypes] = Field(default_factory=list)
    actions_on_resolve: list[ActionTypes] = Field(default_factory=list)


# Every flow run of a deployment passes through these states: a reactive trigger expecting one of them, running a
# deployment, fires on the runs it makes.
LOOPING_FLOW_RUN_EVENTS = frozenset(
    {"prefect.flow-run.Scheduled", "prefect.flow-run.Pending", "prefect.flow-run.Running", "prefect.flow-run.*"}
)


def _matches_every(specification: ResourceSpecification, kind: str) -> bool:
    """True when `specification` matches every resource of `kind` (nothing, or only `prefect.resource.id: KIND.*`)."""
    if not specification:
        return True
    resource_id = specification.get("prefect.resource.id")
    if len(specification) != 1 or resource_id is None:
        return False
    return f"{kind}.*" in ([resource_id] if isinstance(resource_id, str) else resource_id)


def run_deployment_loop(automation: AutomationCore) -> str | None:
    """Why the enabled automation's run-deployment actions would make flow runs that fire it again without end, or
    None: Prefect's server refuses such an automation, and so does Baton."""
    trigger = automation.trigger
    if not automation.enabled or not isinstance(trigger, EventTrigger) or trigger.posture != Posture.REACTIVE:
        return None
    if not LOOPING_FLOW_RUN_EVENTS & trigger.expect:
        return None
    for action in automation.actions:
        if not isinstance(action, RunDeployment):
            continue
        if action.source == "inferred":
            return (
                "Running an inferred deployment from a flow run state change event will lead to an infinite loop "
                "of flow runs.  Please choose a specific deployment and add additional filtering labels to the "
                "match or match_related for this automation's trigger."
            )
        related = trigger.match_related if isinstance(trigger.match_related, list) else [trigger.match_related]
        if _matches_every(trigger.match, "prefect.flow-run") and any(
            _matches_every(spec, "prefect.flow-run") for spec in related
        ):
            return (
                "Running a selected deployment from a flow run state change event may lead to an infinite loop of "
                "flow runs.  Please include additional filtering labels on either match or match_related to "
                "narrow down which flow runs will trigger this automation to exclude flow runs from the deployment "
                "you've selected."
            )
    return None


class _RefusesLoops(AutomationCore):
    @model_validator(mode="after")
    def _no_run_deployment_loop(self) -> _RefusesLoops:
        problem = run_deployment_loop(self)
        if problem:
            raise ValueError(problem)
        return self


class AutomationCreate(_RefusesLoops, ActionModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", ser_json_timedelta="float", allow_inf_nan=False)

    owner_resource: str | None = Field(None, max_length=500)


class AutomationUpdate(_RefusesLoops, ActionModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", ser_json_timedelta="float", allow_inf_nan=False)


class AutomationPartialUpdate(ActionModel):
    enabled: bool = True


class Automation(AutomationCore, ApiModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", ser_json_timedelta="float")

    id: uuid.UUID
    created: dt.datetime | None = None
    updated: dt.datetime | None = None


class AutomationSort(enum.StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class AutomationFilterId(FilterModel):
    any_: list[uuid.UUID] | None = None


class AutomationFilterName(FilterModel):
    any_: list[str] | None = None


class AutomationFilterCreated(FilterModel):
    before_: dt.datetime | None = None


class AutomationFilterTags(OperatorFilterModel):
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class AutomationFilter(OperatorFilterModel):
    id: AutomationFilterId | None = None
    name: AutomationFilterName | None = None
    created: AutomationFilterCreated | None = None
    tags: AutomationFilterTags | None = None


class AutomationFilterRequest(ListingModel):
    sort: AutomationSort = AutomationSort.NAME_ASC
    limit: Limit | None = None
    offset: Offset = 0
    automations: AutomationFilter | None = None


class AutomationCountRequest(ListingModel):
    automations: AutomationFilter | None = None


# --- firings and their actions (Baton's history; Prefect records these only as events) ------------------------------


class ActionRunStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ActionPhase(enum.StrEnum):
    """Which list of the automation an action came from."""

    ACTIONS = "actions"
    ON_TRIGGER = "actions_on_trigger"
    ON_RESOLVE = "actions_on_resolve"


class AutomationActionRun(ApiModel):
    id: uuid.UUID
    firing_id: uuid.UUID
    phase: ActionPhase
    action_index: int
    action: dict[str, Any]
    status: ActionRunStatus
    attempts: int = 0
    reason: str | None = None
    resulting_resource: str | None = None
    started: dt.datetime | None = None
    finished: dt.datetime | None = None


class AutomationFiring(ApiModel):
    id: uuid.UUID
    automation_id: uuid.UUID
    trigger_id: uuid.UUID
    trigger_state: TriggerState
    occurred: dt.datetime
    triggering_labels: dict[str, str] = Field(default_factory=dict)
    triggering_event: dict[str, Any] | None = None
    triggering_value: Any = None
    action_runs: list[AutomationActionRun] = Field(default_factory=list)


class AutomationFiringsRequest(ListingModel):
    limit: Limit | None = None
    offset: Offset = 0
