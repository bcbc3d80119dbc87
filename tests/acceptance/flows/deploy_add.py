"""Deploys the `add` flow from this folder with `flow.from_source(...).deploy()` into the work pool argv[1], as a
user would with the official client; prints {"deployment_id"}."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect import flow

if __name__ == "__main__":
    source = flow.from_source(source=str(Path(__file__).parent), entrypoint="add.py:add")
    deployment_id = source.deploy(
        name="deployed",
        work_pool_name=sys.argv[1],
        parameters={"x": 5, "y": 6},
        print_next_steps=False,
        ignore_warnings=True,
    )
    print(json.dumps({"deployment_id": str(deployment_id)}))
