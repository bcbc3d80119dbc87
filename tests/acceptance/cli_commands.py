"""Run many `prefect` CLI commands in one process (importing prefect costs about 2 s per process).

Reads a JSON list of steps on stdin and prints one JSON line per reported step: `{"args", "exit_code", "output"}`.
A step is one of
- an argument vector: run like `prefect ARGS...` typed at a shell, with stdout and stderr captured together;
- `{"background": ARGS, "name": NAME}`: start a command that runs until stopped (`events stream`) in a daemon thread,
  capturing what it prints; nothing is reported;
- `{"wait_for": NAME, "containing": [TEXT...], "timeout": SECONDS}`: wait until that command has printed every TEXT
  and report its output so far (exit code 0 if it printed them in time, None if not; it is still running);
- `{"watch_new_run": DEPLOYMENT}`: create a run of the deployment (`FLOW/NAME`) with the Python client, then run
  `prefect flow-run watch ID` on it, so that the watch is listening before the run starts.

The environment configures the CLI as it would a user's shell: PREFECT_API_URL, PREFECT_HOME, COLUMNS.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from typing import Any, TextIO

# How often a wait re-reads a background command's output.
POLL_SECONDS = 0.05
# The process's own stdout, where the results go (sys.stdout is replaced while commands run).
RESULTS: TextIO = sys.__stdout__ if sys.__stdout__ is not None else sys.stdout


class ThreadOutput(io.TextIOBase):
    """sys.stdout and sys.stderr for every thread: each thread's writes go to its own buffer, so a background
    command's output stays apart from the commands run meanwhile (print() and rich both write to sys.stdout)."""

    def __init__(self) -> None:
        self.buffers: dict[int, io.StringIO] = {}
        self.lock = threading.Lock()

    def capture(self) -> io.StringIO:
        """Start capturing the calling thread's output in a new buffer."""
        buffer = io.StringIO()
        with self.lock:
            self.buffers[threading.get_ident()] = buffer
        return buffer

    def write(self, text: str) -> int:
        with self.lock:
            buffer = self.buffers.get(threading.get_ident())
            return buffer.write(text) if buffer is not None else RESULTS.write(text)

    def text_of(self, buffer: io.StringIO) -> str:
        with self.lock:
            return buffer.getvalue()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def run_command(output: ThreadOutput, args: list[str]) -> dict[str, Any]:
    """Run `prefect ARGS` in this process as the `prefect` entry point does; its exit code and printed output."""
    from prefect.cli import app

    buffer = output.capture()
    sys.argv = ["prefect", *args]
    exit_code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        exit_code = exc.code if exc.code is not None else 0
    return {"args": args, "exit_code": exit_code, "output": output.text_of(buffer)}


def start_in_background(output: ThreadOutput, args: list[str]) -> io.StringIO:
    """Start `prefect ARGS` in a daemon thread, which ends with the process; the buffer its output goes to."""
    from prefect.cli._app import _run_cli  # the entry point minus its reading of sys.argv

    started = threading.Event()
    buffers: list[io.StringIO] = []

    def target() -> None:
        buffers.append(output.capture())
        started.set()
        try:
            _run_cli(args)
        except SystemExit:
            pass

    threading.Thread(target=target, daemon=True).start()
    started.wait()
    return buffers[0]


def wait_for(output: ThreadOutput, buffer: io.StringIO, containing: list[str], timeout: float) -> tuple[bool, str]:
    deadline = time.monotonic() + timeout
    while True:
        text = output.text_of(buffer)
        if all(part in text for part in containing):
            return True, text
        if time.monotonic() > deadline:
            return False, text
        time.sleep(POLL_SECONDS)


def new_run_of(deployment_name: str) -> str:
    """The id of a new run of the deployment, made with the Python client as a script of the user's would."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def create() -> str:
        async with get_client() as client:
            deployment = await client.read_deployment_by_name(deployment_name)
            return str((await client.create_flow_run_from_deployment(deployment.id)).id)

    return asyncio.run(create())


def skip_logging_setup() -> None:
    """Each command configures logging anew (about 0.7 s, most of a short command's time); once is enough here."""
    import prefect.logging.configuration

    prefect.logging.configuration.setup_logging = lambda *args, **kwargs: None  # type: ignore[assignment]


def main() -> None:
    steps = json.load(sys.stdin)
    output = ThreadOutput()
    sys.stdout = sys.stderr = output  # type: ignore[assignment]
    background: dict[str, io.StringIO] = {}
    for step in steps:
        if isinstance(step, list):
            result = run_command(output, step)
            skip_logging_setup()
        elif "watch_new_run" in step:
            result = run_command(output, ["flow-run", "watch", new_run_of(step["watch_new_run"])])
        elif "background" in step:
            background[step["name"]] = start_in_background(output, step["background"])
            continue
        else:
            found, text = wait_for(output, background[step["wait_for"]], step["containing"], step["timeout"])
            result = {"args": ["wait_for", step["wait_for"]], "exit_code": 0 if found else None, "output": text}
        RESULTS.write(json.dumps(result) + "\n")
        RESULTS.flush()
    # A background command still holds an event loop in its daemon thread; do not wait for it.
    os._exit(0)


if __name__ == "__main__":
    main()
