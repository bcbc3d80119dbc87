"""A flow run's graph: its task runs and subflow runs as nodes, with the edges their inputs make (Prefect's
`graph-v2`), and the older per-task dependency list (`graph`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import BadRequest, ObjectNotFound
from baton.server.database import tables as t
from baton.server.models.runs import task_runs
from baton.server.schemas.responses import task_run_response
from baton.states import StateType

Row = dict[str, Any]

# Prefect's defaults (PREFECT_API_MAX_FLOW_RUN_GRAPH_NODES / _ARTIFACTS): a graph with more nodes is refused, as
# the UI cannot draw it; artifacts beyond the limit are left out.
MAX_GRAPH_NODES = 10_000
MAX_GRAPH_ARTIFACTS = 10_000
# The task input that names the task runs a run was called inside (encapsulating, not data, edges).
PARENTS_INPUT = "__parents__"

_task = t.task_run.c
_subflow = t.flow_run.alias("subflow_run")
_subflow_flow = t.flow.alias("subflow_flow")
_NODE_QUERY = (
    sa.select(
        _task.id,
        _task.name,
        _task.state_type,
        _task.start_time,
        _task.expected_start_time,
        _task.end_time,
        _task.task_inputs,
        _subflow.c.id.label("subflow_id"),
        _subflow.c.name.label("subflow_name"),
        _subflow.c.state_type.label("subflow_state_type"),
        _subflow.c.start_time.label("subflow_start_time"),
        _subflow.c.expected_start_time.label("subflow_expected_start_time"),
        _subflow.c.end_time.label("subflow_end_time"),
        _subflow_flow.c.name.label("subflow_flow_name"),
    )
    .select_from(
        t.task_run.outerjoin(_subflow, _subflow.c.parent_task_run_id == _task.id).outerjoin(
            _subflow_flow, _subflow_flow.c.id == _subflow.c.flow_id
        )
    )
    .where(_task.flow_run_id == sa.bindparam("flow_run_id"))
)


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _input_ids(task_inputs: Any) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The run ids a task run's inputs name: (data inputs, `__parents__`), in order."""
    data: list[uuid.UUID] = []
    parents: list[uuid.UUID] = []
    for key, values in (task_inputs or {}).items():
        for value in values if isinstance(values, list) else []:
            raw = value.get("id") if isinstance(value, dict) else None
            try:
                run_id = uuid.UUID(str(raw)) if raw is not None else None
            except ValueError:
                continue
            if run_id is not None:
                (parents if key == PARENTS_INPUT else data).append(run_id)
    return data, parents


def _node(row: Row) -> Row | None:
    """The node a task run stands for (its subflow run when it has one); None when it has no time to place it at."""
    start = _first(
        row["subflow_start_time"], row["subflow_expected_start_time"], row["start_time"], row["expected_start_time"]
    )
    if start is None:
        return None
    completed_at = row["expected_start_time"] if row["state_type"] == StateType.COMPLETED.value else None
    subflow = row["subflow_id"] is not None
    data, parents = _input_ids(row["task_inputs"])
    return {
        "kind": "flow-run" if subflow else "task-run",
        "id": row["subflow_id"] if subflow else row["id"],
        "label": f"{row['subflow_flow_name']} / {row['subflow_name']}" if subflow else row["name"],
        "state_type": _first(row["subflow_state_type"], row["state_type"]),
        "start_time": start,
        "end_time": _first(row["subflow_end_time"], row["end_time"], completed_at),
        "inputs": data,
        "parent_inputs": parents,
    }


def _edges(ids: list[uuid.UUID], nodes: dict[uuid.UUID, Row]) -> list[dict[str, uuid.UUID]]:
    """The ids that are nodes of the graph, once each, earliest start first."""
    present = [node_id for node_id in dict.fromkeys(ids) if node_id in nodes]
    return [{"id": node_id} for node_id in sorted(present, key=lambda node_id: nodes[node_id]["start_time"])]


async def read_flow_run_graph(
    connection: AsyncConnection,
    flow_run_id: uuid.UUID,
    since: dt.datetime,
    *,
    max_nodes: int = MAX_GRAPH_NODES,
    max_artifacts: int = MAX_GRAPH_ARTIFACTS,
) -> Row:
    """The `Graph` of the run: nodes that ended at or after `since` (or have not ended), by start time. Raises
    ObjectNotFound for an unknown run and BadRequest when more than `max_nodes` nodes would be returned."""
    run = (
        await connection.execute(
            sa.select(
                sa.func.coalesce(t.flow_run.c.start_time, t.flow_run.c.expected_start_time).label("start_time"),
                t.flow_run.c.end_time,
            ).where(t.flow_run.c.id == flow_run_id)
        )
    ).first()
    if run is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    nodes: dict[uuid.UUID, Row] = {}
    for row in (await connection.execute(_NODE_QUERY, {"flow_run_id": flow_run_id})).mappings():
        node = _node(dict(row))
        if node is not None:
            nodes.setdefault(node["id"], node)
    children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for node in nodes.values():
        for parent_id in node["inputs"]:
            children[parent_id].append(node["id"])
    shown = [node for node in nodes.values() if node["end_time"] is None or node["end_time"] >= since]
    shown.sort(key=lambda node: (node["start_time"], node["end_time"] is None, node["end_time"] or node["start_time"]))
    if len(shown) > max_nodes:
        raise BadRequest(f"The graph of flow run {flow_run_id} has more than {max_nodes} nodes.")
    artifacts = await _read_graph_artifacts(connection, flow_run_id, max_artifacts)
    states = (
        await connection.execute(
            sa.select(
                t.flow_run_state.c.id, t.flow_run_state.c.timestamp, t.flow_run_state.c.type, t.flow_run_state.c.name
            )
            .where(t.flow_run_state.c.flow_run_id == flow_run_id)
            .order_by(t.flow_run_state.c.timestamp, t.flow_run_state.c.created)
        )
    ).mappings()
    body_nodes = []
    root_node_ids = []
    for node in shown:
        parents = _edges(node["inputs"], nodes)
        if not parents:
            root_node_ids.append(node["id"])
        body = {key: node[key] for key in ("kind", "id", "label", "state_type", "start_time", "end_time")}
        body["parents"] = parents
        body["children"] = _edges(children.get(node["id"], []), nodes)
        body["encapsulating"] = _edges(node["parent_inputs"], nodes)
        body["artifacts"] = artifacts.get(node["id"], [])
        body_nodes.append((node["id"], body))
    return {
        "start_time": run.start_time,
        "end_time": run.end_time,
        "root_node_ids": root_node_ids,
        "nodes": body_nodes,
        "artifacts": artifacts.get(None, []),
        "states": [dict(state) for state in states],
    }


async def _read_graph_artifacts(
    connection: AsyncConnection, flow_run_id: uuid.UUID, limit: int
) -> dict[uuid.UUID | None, list[Row]]:
    """The run's artifacts (result artifacts left out, as Prefect does), oldest first, by task run id (None for the
    flow run's own); data only for progress artifacts."""
    artifact = t.artifact.c
    collection = t.artifact_collection.c
    query = (
        sa.select(
            artifact.id,
            artifact.created,
            artifact.key,
            artifact.type,
            artifact.data,
            artifact.task_run_id,
            collection.id.label("latest_in_collection_id"),
        )
        .select_from(
            t.artifact.outerjoin(
                t.artifact_collection, sa.and_(collection.key == artifact.key, collection.latest_id == artifact.id)
            )
        )
        .where(artifact.flow_run_id == flow_run_id, artifact.type != "result")
        .order_by(artifact.created, artifact.id)
        .limit(limit)
    )
    grouped: dict[uuid.UUID | None, list[Row]] = defaultdict(list)
    for row in (await connection.execute(query)).mappings():
        grouped[row["task_run_id"]].append(
            {
                "id": row["id"],
                "created": row["created"],
                "key": row["key"],
                "type": row["type"],
                "is_latest": row["key"] is None or row["latest_in_collection_id"] is not None,
                "data": row["data"] if row["type"] == "progress" else None,
            }
        )
    return dict(grouped)


async def read_task_run_dependencies(connection: AsyncConnection, flow_run_id: uuid.UUID) -> list[Row]:
    """Each task run of the run with its state, timing and the task runs whose results it took (`DependencyResult`).
    Raises ObjectNotFound for an unknown run."""
    found = await connection.scalar(sa.select(t.flow_run.c.id).where(t.flow_run.c.id == flow_run_id))
    if found is None:
        raise ObjectNotFound(f"Flow run {flow_run_id} does not exist.")
    rows = await task_runs.read_task_runs(connection, _task.flow_run_id == flow_run_id, [_task.id], MAX_GRAPH_NODES, 0)
    result = []
    for row in rows:
        body = task_run_response(row)
        upstream = {
            str(value["id"]): {"input_type": "task_run", "id": value["id"]}
            for values in (row["task_inputs"] or {}).values()
            for value in (values if isinstance(values, list) else [])
            if isinstance(value, dict) and value.get("input_type") == "task_run" and value.get("id")
        }
        state = body["state"]
        result.append(
            {
                "id": row["id"],
                "name": row["name"],
                "upstream_dependencies": list(upstream.values()),
                "state": state,
                "expected_start_time": row["expected_start_time"],
                "start_time": row["start_time"],
                "end_time": row["end_time"],
                "total_run_time": row["total_run_time"],
                "estimated_run_time": body["estimated_run_time"],
                "untrackable_result": bool(state and (state["state_details"] or {}).get("untrackable_result")),
            }
        )
    return result
