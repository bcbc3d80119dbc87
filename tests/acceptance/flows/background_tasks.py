"""Background tasks for tests/acceptance/test_background_tasks.py: served by `prefect task serve` workers, scheduled
with `.delay()` by running this file.

    python background_tasks.py square N          delay square(0..N-1), wait for the results, print them
    python background_tasks.py burst N MARKERS   delay record(0..N-1, MARKERS) from 8 threads, print the run ids
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prefect import task

# Callers submitting at once, as several clients of one server would (with 8, Prefect's server on SQLite answered
# some creates with 503 "database is locked" beyond the client's retries on a loaded machine).
SUBMITTERS = 4


@task
def square(x: int) -> int:
    return x * x


@task
def record(i: int, markers: str) -> int:
    """Leave a marker naming this worker's pid; a second run of the same `i` fails on the existing file."""
    with (Path(markers) / str(i)).open("x") as marker:
        marker.write(str(os.getpid()))
    time.sleep(0.05)
    return i


def main() -> None:
    mode, count = sys.argv[1], int(sys.argv[2])
    if mode == "square":
        futures = [square.delay(i) for i in range(count)]
        results = [future.result(timeout=60) for future in futures]
        print(json.dumps({"results": results, "task_run_ids": [str(future.task_run_id) for future in futures]}))
    elif mode == "burst":
        markers = sys.argv[3]
        with ThreadPoolExecutor(SUBMITTERS) as pool:
            futures = list(pool.map(lambda i: record.delay(i, markers), range(count)))
        print(json.dumps({"task_run_ids": [str(future.task_run_id) for future in futures]}))


if __name__ == "__main__":
    main()
