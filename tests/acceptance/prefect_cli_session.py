"""Run several `prefect` CLI commands in one process, so that prefect is imported (about 2 s) once for all of them.

Reads a JSON list of argument vectors on stdin; for each, runs `prefect ARGS...` as the `prefect` entry point does
and prints one JSON line `{"args", "exit_code", "output", "seconds"}` (stdout and stderr together). The environment
configures the CLI as it would a user's shell: PREFECT_API_URL, PREFECT_HOME, COLUMNS.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from typing import Any


def run_command(args: list[str]) -> dict[str, Any]:
    """`prefect ARGS` in this process: its exit code and what it printed."""
    from prefect.cli import app

    started = time.monotonic()
    captured = io.StringIO()
    sys.argv = ["prefect", *args]
    exit_code: int | str | None = 0
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        try:
            app()
        except SystemExit as exc:
            exit_code = exc.code if exc.code is not None else 0
    seconds = round(time.monotonic() - started, 2)
    return {"args": args, "exit_code": exit_code, "output": captured.getvalue(), "seconds": seconds}


def main() -> None:
    for index, args in enumerate(json.load(sys.stdin)):
        print(json.dumps(run_command(args)), flush=True)
        if index == 0:
            # Each command configures logging anew (about 0.7 s, most of a command's time); once is enough here.
            import prefect.logging.configuration

            prefect.logging.configuration.setup_logging = lambda *args, **kwargs: None  # type: ignore[assignment]


if __name__ == "__main__":
    main()
