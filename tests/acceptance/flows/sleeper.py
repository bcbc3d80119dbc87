"""A flow that sleeps, for deployments whose runs a test kills or cancels while they are running."""

from __future__ import annotations

import time

from prefect import flow


@flow
def sleeper(seconds: float = 60.0) -> float:
    time.sleep(seconds)
    return seconds
