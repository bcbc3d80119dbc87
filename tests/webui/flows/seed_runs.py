"""Seeds a server for the UI tests with real runs of the official Prefect client.

Runs: two `etl` runs tagged `nightly` that complete (three tasks each, with logs), one `etl` run tagged `adhoc` that
fails, and one `report` run whose name contains HTML. Prints {"flow_run_id": <last>, "runs": {label: id}} as JSON.
"""

from __future__ import annotations

import json

from prefect import flow, get_run_logger, tags, task


@task
def extract(batch: int) -> int:
    get_run_logger().info("extracted batch %d", batch)
    return batch


@task
def load(batch: int) -> int:
    get_run_logger().warning("loading batch %d", batch)
    return batch * 2


@flow(name="etl")
def etl(fail: bool = False) -> int:
    logger = get_run_logger()
    logger.info("etl starting")
    total = sum(load(extract(batch)) for batch in range(3))
    if fail:
        raise ValueError("the warehouse refused the load")
    logger.info("etl done: %d", total)
    return total


@flow(name="report", flow_run_name="<b>bold</b> & <script>alert('x')</script>")
def report() -> str:
    get_run_logger().info("<i>not italic</i>")
    return "ok"


def run_id(state: object) -> str:
    return str(state.state_details.flow_run_id)  # type: ignore[attr-defined]


if __name__ == "__main__":
    runs = {}
    with tags("nightly"):
        runs["nightly-1"] = run_id(etl(return_state=True))
        runs["nightly-2"] = run_id(etl(return_state=True))
    with tags("adhoc"):
        runs["failed"] = run_id(etl(fail=True, return_state=True))
    runs["html"] = run_id(report(return_state=True))
    print(json.dumps({"flow_run_id": runs["html"], "runs": runs}))
