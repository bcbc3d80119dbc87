"""A flow that logs one line every argv[1] seconds (default 0.5), argv[2] times (default 40): for live-tail tests."""

from __future__ import annotations

import json
import sys
import time

from prefect import flow, get_run_logger


@flow(name="live-logs")
def live_logs(interval: float, count: int) -> int:
    logger = get_run_logger()
    for number in range(count):
        logger.info("tick %d", number)
        time.sleep(interval)
    return count


if __name__ == "__main__":
    interval = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    state = live_logs(interval, count, return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id)}))
