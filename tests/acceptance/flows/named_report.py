"""A flow with a templated run name: report(day="monday") runs as "report-monday"."""

from __future__ import annotations

import json

from prefect import flow


@flow(flow_run_name="report-{day}")
def report(day: str) -> str:
    return f"report for {day}"


if __name__ == "__main__":
    state = report("monday", return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
