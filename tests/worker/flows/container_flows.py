"""Flows the docker worker tests run inside a container (this folder is mounted at /flows)."""

from __future__ import annotations

import os
import time

from prefect import flow


@flow
def shout(word: str) -> str:
    # A plain print: it reaches the run's logs only through the worker's copy of the container's output.
    print(f"{os.environ['GREETING']} from the container: {word}")
    return word


@flow
def nap(seconds: float = 120.0) -> float:
    time.sleep(seconds)
    return seconds
