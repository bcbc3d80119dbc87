"""The run graph of a flow run (`/flow_runs/{id}/graph-v2`) and the older dependency list (`/graph`), in Prefect
3.9.1's shapes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from baton.server.schemas.base import ApiModel
from baton.server.schemas.states import State
from baton.states import StateType


class GraphState(ApiModel):
    id: uuid.UUID
    timestamp: dt.datetime
    type: StateType
    name: str


class GraphArtifact(ApiModel):
    id: uuid.UUID
    created: dt.datetime
    key: str | None
    type: str | None
    is_latest: bool
    data: Any = None  # only for progress artifacts, as in Prefect


class Edge(ApiModel):
    id: uuid.UUID


class Node(ApiModel):
    kind: Literal["flow-run", "task-run"]
    id: uuid.UUID
    label: str
    state_type: StateType | None
    start_time: dt.datetime
    end_time: dt.datetime | None
    parents: list[Edge]
    children: list[Edge]
    encapsulating: list[Edge]
    artifacts: list[GraphArtifact]


class Graph(ApiModel):
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    root_node_ids: list[uuid.UUID]
    nodes: list[tuple[uuid.UUID, Node]]
    artifacts: list[GraphArtifact]
    states: list[GraphState]


class TaskRunResult(ApiModel):
    input_type: Literal["task_run"] = "task_run"
    id: uuid.UUID


class DependencyResult(ApiModel):
    """One task run of `/flow_runs/{id}/graph`: its state, timing and the task runs whose results it took."""

    id: uuid.UUID
    name: str
    upstream_dependencies: list[TaskRunResult]
    state: State | None
    expected_start_time: dt.datetime | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    total_run_time: float | None
    estimated_run_time: float | None
    untrackable_result: bool
