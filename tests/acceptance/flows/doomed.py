"""A flow that fails for good (no retries); it exits 0 and prints its run id, the failure is the run's state."""

from __future__ import annotations

import json

from prefect import flow


class DoomedError(Exception):
    pass


@flow
def doomed() -> None:
    raise DoomedError("the answer is not 41")


if __name__ == "__main__":
    state = doomed(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": None}))
