"""Data made once per test run and shared by its pytest-xdist worker processes.

A fixture that costs seconds (seeding a database by running Prefect flows) need not run in every worker: the first
worker that needs it makes it under a file lock and records it in the run's directory (the controlling process's
basetemp, the parent of each worker's); a later one reads the record. A shared database outlives the worker that made
it, so the controlling process drops it when the run ends (`drop_shared_databases`, from tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import drop_shared


def run_directory(config: pytest.Config) -> Path:
    """The directory every process of this run can see: the controller's basetemp (a worker's is inside it)."""
    basetemp: Path = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return basetemp.parent if hasattr(config, "workerinput") else basetemp


@contextlib.contextmanager
def run_lock(config: pytest.Config, name: str) -> Iterator[None]:
    """Held by one process of the run at a time (released by the system if the process dies)."""
    with (run_directory(config) / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def once_per_run(config: pytest.Config, name: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`make()`'s JSON-able record, made by the first process that asks; a record's `database_url` (when it has one)
    is a database made with `TemplateDatabases.clone_shared`, dropped at the end of the run."""
    record = run_directory(config) / f"{name}.shared.json"
    with run_lock(config, name):
        if record.exists():
            return dict(json.loads(record.read_text()))
        made = make()
        record.write_text(json.dumps(made))
        return made


def drop_shared_databases(config: pytest.Config) -> None:
    """Drop the databases the run's records name; only the controlling process does, once its workers are done."""
    if hasattr(config, "workerinput"):
        return
    for record in run_directory(config).glob("*.shared.json"):
        url = json.loads(record.read_text()).get("database_url")
        if url:
            drop_shared(url)
