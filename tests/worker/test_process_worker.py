"""The process worker's decisions that need no subprocess: how it reads the server's answer to Pending, and which
job variables a run gets."""

from __future__ import annotations

from typing import Any

import pytest

from baton.worker.base import WorkerOptions, job_variables
from baton.worker.process_worker import ProcessWorker


class AnswersInTurn:
    """A stand-in for WorkerApi.set_state that answers each proposal with the next prepared result."""

    def __init__(self, *results: dict[str, Any]) -> None:
        self.results = list(results)
        self.proposed: list[dict[str, Any]] = []

    async def set_state(self, flow_run_id: str, state: dict[str, Any], *, force: bool = False) -> dict[str, Any]:
        self.proposed.append(state)
        return self.results.pop(0)


def _worker(api: AnswersInTurn) -> ProcessWorker:
    return ProcessWorker(WorkerOptions(pool="p", name="w", api_url="http://127.0.0.1:1/api"), api)  # type: ignore[arg-type]


ACCEPT = {"status": "ACCEPT", "state": {"type": "PENDING", "name": "Pending"}, "details": {"type": "accept_details"}}


@pytest.mark.parametrize(
    ("answers", "submitted"),
    [
        ([ACCEPT], True),
        ([{"status": "WAIT", "state": None, "details": {"delay_seconds": 0}}, ACCEPT], True),
        (
            [
                {
                    "status": "REJECT",
                    "state": {"type": "SCHEDULED", "name": "AwaitingConcurrencySlot"},
                    "details": {"type": "reject_details", "reason": "Deployment concurrency limit reached."},
                }
            ],
            False,
        ),
        ([{"status": "REJECT", "state": {"type": "CANCELLED", "name": "Cancelled"}, "details": {}}], False),
        ([{"status": "ABORT", "state": None, "details": {"reason": "already Pending"}}], False),
    ],
)
async def test_pending_answers(answers: list[dict[str, Any]], submitted: bool) -> None:
    api = AnswersInTurn(*answers)
    assert await _worker(api)._propose_pending("run") is submitted
    assert all(state == {"type": "PENDING"} for state in api.proposed)
    assert api.results == []


def test_job_variables_layer_pool_defaults_deployment_and_run() -> None:
    pool = {
        "base_job_template": {
            "variables": {"properties": {"working_dir": {"default": "/srv"}, "env": {"default": {"A": "1"}}}}
        }
    }
    deployment = {"job_variables": {"env": {"B": "2"}, "command": "python -m prefect.engine"}}
    run = {"job_variables": {"working_dir": "/tmp/x"}}
    assert job_variables(pool, deployment, run) == {
        "working_dir": "/tmp/x",
        "env": {"B": "2"},
        "command": "python -m prefect.engine",
    }
    assert job_variables({}, {}, {}) == {}
