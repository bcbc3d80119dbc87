"""A flow of three tasks, each logging one line with the run logger, after the flow logs its own.

Prints the flow run id and the task run ids.
"""

from __future__ import annotations

import json

from prefect import flow, get_run_logger, task


@task
def double(number: int) -> int:
    get_run_logger().info("task doubling %d", number)
    return number * 2


@flow
def tasks_that_log() -> list[str]:
    get_run_logger().info("flow starting three tasks")
    futures = [double.submit(number) for number in range(3)]
    assert [future.result() for future in futures] == [0, 2, 4]
    return [str(future.task_run_id) for future in futures]


if __name__ == "__main__":
    state = tasks_that_log(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
