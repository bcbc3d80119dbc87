"""A flow with 50 tasks: 40 plain, 5 tagged `db`, 5 that fail their first attempt and succeed on the retry.

argv[1] is a folder for attempt markers. Prints the flow run id and, per task run id, its kind.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect import flow, tags, task
from prefect.futures import PrefectFuture, wait


class FirstAttemptFailed(Exception):
    pass


@task
def plain(number: int) -> int:
    return number * 2


@task(retries=1, retry_delay_seconds=0)
def flaky(number: int, markers: str) -> int:
    marker = Path(markers) / f"flaky-{number}"
    if not marker.exists():
        marker.write_text("attempted")
        raise FirstAttemptFailed(f"task {number} fails its first attempt on purpose")
    return number


@flow
def fifty_tasks(markers: str) -> dict[str, str]:
    kinds = {}
    futures: list[PrefectFuture[int]] = []
    for number in range(40):
        futures.append(plain.submit(number))
        kinds[str(futures[-1].task_run_id)] = "plain"
    with tags("db"):
        for number in range(5):
            futures.append(plain.submit(100 + number))
            kinds[str(futures[-1].task_run_id)] = "tagged"
    for number in range(5):
        future = flaky.submit(number, markers)
        future.wait()
        kinds[str(future.task_run_id)] = "retried"
    # A flow that returns cancels the task runs still going (Prefect's thread pool runner), and they end Crashed: on a
    # loaded machine some plain ones had not finished by now (2026-12-07).
    wait(futures)
    return kinds


if __name__ == "__main__":
    state = fifty_tasks(sys.argv[1], return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
