"""A flow that logs one INFO and one WARNING message with the run logger."""

from __future__ import annotations

import json

from prefect import flow, get_run_logger


@flow
def chatty() -> None:
    logger = get_run_logger()
    logger.info("hello from baton")
    logger.warning("careful: this is a warning from baton")


if __name__ == "__main__":
    state = chatty(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
