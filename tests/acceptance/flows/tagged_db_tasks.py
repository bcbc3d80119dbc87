"""A flow that submits 10 tasks tagged `db` at once; each sleeps argv[1] seconds (default 0.5).

Prints the flow run id and, per task run id, the [start, end] wall-clock times the task body itself saw.
"""

from __future__ import annotations

import json
import sys
import time

from prefect import flow, tags, task


@task
def query(number: int, seconds: float) -> list[float]:
    started = time.time()
    time.sleep(seconds)
    return [started, time.time()]


@flow
def tagged_db_tasks(seconds: float) -> dict[str, list[float]]:
    with tags("db"):
        futures = [query.submit(number, seconds) for number in range(10)]
    return {str(future.task_run_id): future.result() for future in futures}


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    state = tagged_db_tasks(seconds, return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
