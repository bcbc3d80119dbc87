"""A process worker: runs each flow run as `python -m prefect.engine` in a subprocess of its own session, the way
Prefect's own process worker does. Polling, state reporting and cancellation are the base worker's (base.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from typing import Any

from baton.worker.api import JsonObject
from baton.worker.base import Job, JobNotStarted, Worker

WORKER_TYPE = "process"


class ProcessJob:
    """A run's engine process; stopping it terminates its whole process group."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def infrastructure_pid(self) -> str:
        return str(self.process.pid)

    async def wait(self) -> int | None:
        return await self.process.wait()

    async def stop(self, grace_seconds: float) -> None:
        await terminate(self.process, grace_seconds)


class ProcessWorker(Worker):
    """Runs each flow run in a local subprocess, with the worker's environment plus the run's."""

    worker_type = WORKER_TYPE

    async def start_job(self, run: JsonObject, deployment: JsonObject, variables: dict[str, Any]) -> Job:
        env = {**os.environ, **self.run_environment(run, deployment, variables)}
        env.update(self.control.register(str(run["id"])))
        command = variables.get("command")
        argv = command.split() if isinstance(command, str) and command else [sys.executable, "-m", "prefect.engine"]
        cwd = variables.get("working_dir") or tempfile.mkdtemp(prefix="baton-run-")
        try:
            # Its own session, so that cancelling kills the engine and whatever it started, and nothing else.
            process = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env, start_new_session=True)
        except OSError as exc:
            raise JobNotStarted(str(exc)) from None
        return ProcessJob(process)


def signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    """Send `signum` to the process's group (it leads its own session); nothing if it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


async def terminate(process: asyncio.subprocess.Process, grace_seconds: float) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited after `grace_seconds`."""
    signal_group(process, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace_seconds)
    except TimeoutError:
        signal_group(process, signal.SIGKILL)
        await process.wait()
