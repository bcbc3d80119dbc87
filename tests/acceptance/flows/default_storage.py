"""A flow that names no result storage: prints {"flow_run_id", "result", "storage_block_id"}; with a server-wide
default result storage set, its result is persisted there (the block id its result record names)."""

from __future__ import annotations

import json

from prefect import flow


@flow
def answer() -> int:
    return 42


if __name__ == "__main__":
    state = answer(return_state=True)
    record = state.data
    block_id = getattr(getattr(record, "metadata", None), "storage_block_id", None)
    print(
        json.dumps(
            {
                "flow_run_id": str(state.state_details.flow_run_id),
                "result": state.result(),
                "storage_block_id": None if block_id is None else str(block_id),
            }
        )
    )
