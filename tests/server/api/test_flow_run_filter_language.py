"""The UI's runs lists and `POST /api/flow_runs/filter` speak one filter language: for the same filter, given as
query parameters to a page and as a filter body to the API, they list the same runs (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

RUN_ID = re.compile(r'data-run-id="([0-9a-f-]{36})"')
RUN_TABLE = '<section class="panel run-list"'
NOW = dt.datetime.now(dt.UTC)


@dataclass
class Seeded:
    etl: str
    ml: str
    nightly: str
    runs: dict[str, str]


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _scheduled(at: dt.datetime, name: str = "Scheduled") -> dict[str, Any]:
    return {"type": "SCHEDULED", "name": name, "state_details": {"scheduled_time": at.isoformat()}}


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    """Runs of two flows, some from a deployment, in every kind of state the runs page filters by."""
    etl = (await _post(client, "/flows/", {"name": "etl"}))["id"]
    ml = (await _post(client, "/flows/", {"name": "ml-train"}))["id"]
    nightly = (await _post(client, "/deployments/", {"name": "nightly", "flow_id": etl}))["id"]
    plans: dict[str, dict[str, Any]] = {
        "etl-done": {"flow_id": etl, "state": {"type": "COMPLETED"}, "tags": ["prod"]},
        "etl-done-nightly": {
            "flow_id": etl, "state": {"type": "COMPLETED"}, "tags": ["prod", "nightly"], "deployment_id": nightly,
        },
        "etl-failed-nightly": {"flow_id": etl, "state": {"type": "FAILED"}, "deployment_id": nightly},
        "etl-next-nightly": {
            "flow_id": etl, "state": _scheduled(NOW + dt.timedelta(days=1)), "deployment_id": nightly,
        },
        "etl-late-nightly": {
            "flow_id": etl, "state": _scheduled(NOW - dt.timedelta(hours=1), "Late"), "deployment_id": nightly,
        },
        "ml-running": {"flow_id": ml, "state": {"type": "RUNNING"}, "tags": ["prod", "gpu"]},
        "ml-crashed": {"flow_id": ml, "state": {"type": "CRASHED"}, "tags": ["gpu"]},
        "ml-late": {"flow_id": ml, "state": _scheduled(NOW - dt.timedelta(hours=3), "Late"), "tags": ["prod"]},
        "ml-later": {"flow_id": ml, "state": _scheduled(NOW + dt.timedelta(hours=20))},
        "ml-pending": {"flow_id": ml, "state": {"type": "PENDING"}, "tags": ["dev"]},
    }  # fmt: skip
    runs = {name: (await _post(client, "/flow_runs/", {"name": name, **body}))["id"] for name, body in plans.items()}
    return Seeded(etl, ml, nightly, runs)


async def ui_runs(base_url: str, path: str, parameters: dict[str, str]) -> set[str]:
    """The ids of the runs a UI page's runs table lists (all on one page; a deployment's upcoming runs, listed
    apart, are not part of it)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.get(path, params={**parameters, "limit": "200"})
    assert response.status_code == 200, response.text
    table = response.text.split(RUN_TABLE, 1)[1].split(">", 1)[1].split("</section>", 1)[0]
    return set(RUN_ID.findall(table))


async def api_runs(client: httpx.AsyncClient, body: dict[str, Any]) -> set[str]:
    response = await client.post("/flow_runs/filter", json=body)
    assert response.status_code == 200, response.text
    return {run["id"] for run in response.json()}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# (UI path, its query parameters, the same filter as an API body, the runs expected); "{etl}" and "{nightly}" stand
# for the ids of the flow and the deployment.
CASES: list[tuple[str, dict[str, str], dict[str, Any], set[str]]] = [
    (
        "/runs",
        {"state": "completed,failed"},
        {"flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED"]}}}},
        {"etl-done", "etl-done-nightly", "etl-failed-nightly"},
    ),
    (
        "/runs",
        {"state": "late"},
        {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}, "name": {"any_": ["Late"]}}}},
        {"etl-late-nightly", "ml-late"},
    ),
    (
        "/runs",
        {"state": "crashed,late"},
        {"flow_runs": {"state": {"type": {"any_": ["CRASHED"]}, "name": {"any_": ["Late"]}, "operator": "or_"}}},
        {"etl-late-nightly", "ml-late", "ml-crashed"},
    ),
    (
        "/runs",
        {"tag": "prod"},
        {"flow_runs": {"tags": {"all_": ["prod"]}}},
        {"etl-done", "etl-done-nightly", "ml-running", "ml-late"},
    ),
    (
        "/runs",
        {"flow": "{etl}"},
        {"flows": {"name": {"any_": ["etl"]}}},
        {"etl-done", "etl-done-nightly", "etl-failed-nightly", "etl-next-nightly", "etl-late-nightly"},
    ),
    (
        "/flows/{ml}",
        {"tag": "gpu"},
        {"flows": {"name": {"any_": ["ml-train"]}}, "flow_runs": {"tags": {"all_": ["gpu"]}}},
        {"ml-running", "ml-crashed"},
    ),
    (
        "/runs",
        {"name": "NIGHTLY"},
        {"flow_runs": {"name": {"like_": "NIGHTLY"}}},
        {"etl-done-nightly", "etl-failed-nightly", "etl-next-nightly", "etl-late-nightly"},
    ),
    (
        "/runs",
        {"from": _iso(NOW - dt.timedelta(hours=4)), "to": _iso(NOW - dt.timedelta(minutes=30))},
        {
            "flow_runs": {
                "start_time": {
                    "after_": _iso(NOW - dt.timedelta(hours=4)),
                    "before_": _iso(NOW - dt.timedelta(minutes=30)),
                }
            }
        },
        {"etl-late-nightly", "ml-late"},
    ),
    (
        "/runs",
        {"from": _iso(NOW + dt.timedelta(hours=12)), "state": "scheduled"},
        {
            "flow_runs": {
                "start_time": {"after_": _iso(NOW + dt.timedelta(hours=12))},
                "state": {"type": {"any_": ["SCHEDULED"]}},
            }
        },
        {"etl-next-nightly", "ml-later"},
    ),
    (
        "/deployments/{nightly}",
        {"state": "completed,scheduled"},
        {
            "deployments": {"id": {"any_": ["{nightly}"]}},
            "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "SCHEDULED"]}}},
        },
        {"etl-done-nightly", "etl-next-nightly", "etl-late-nightly"},
    ),
    (
        # Without a state filter a deployment's page leaves its waiting runs to the "upcoming" list.
        "/deployments/{nightly}",
        {},
        {
            "deployments": {"id": {"any_": ["{nightly}"]}},
            "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
        },
        {"etl-done-nightly", "etl-failed-nightly"},
    ),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


@pytest.mark.parametrize(("path", "parameters", "body", "expected"), CASES)
async def test_the_ui_runs_lists_and_the_api_filter_return_the_same_runs(
    base_url: str,
    client: httpx.AsyncClient,
    seeded: Seeded,
    path: str,
    parameters: dict[str, str],
    body: dict[str, Any],
    expected: set[str],
) -> None:
    ids = {"etl": seeded.etl, "ml": seeded.ml, "nightly": seeded.nightly}
    listed = await ui_runs(base_url, _fill(path, ids), _fill(parameters, ids))
    filtered = await api_runs(client, _fill(body, ids))
    assert listed == filtered
    assert listed == {seeded.runs[name] for name in expected}
