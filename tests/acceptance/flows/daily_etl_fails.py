"""A flow run tagged `daily-etl` that fails; prints its run id (the failure is the run's state)."""

from __future__ import annotations

import json

from prefect import flow, tags


class ExtractFailed(Exception):
    pass


@flow(name="daily-etl")
def daily_etl() -> None:
    raise ExtractFailed("the source database did not answer")


if __name__ == "__main__":
    with tags("daily-etl"):
        state = daily_etl(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": None}))
