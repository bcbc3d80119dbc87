"""A flow that succeeds with parameters: prints {"flow_run_id", "result"} for add(2, 3)."""

from __future__ import annotations

import json

from prefect import flow


@flow
def add(x: int, y: int) -> int:
    return x + y


if __name__ == "__main__":
    state = add(2, 3, return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
