"""A flow that calls a subflow: prints the parent's run id and, as the result, the child's run id."""

from __future__ import annotations

import json

from prefect import flow
from prefect.runtime import flow_run


@flow
def child() -> str:
    return str(flow_run.id)


@flow
def parent() -> str:
    return child()


if __name__ == "__main__":
    state = parent(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
