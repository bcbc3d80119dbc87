"""A process worker: polls a work pool and runs each flow run as `python -m prefect.engine` in a subprocess, the way
Prefect's own process worker does.

For each run it takes: read the deployment, propose Pending (the server may answer WAIT, or REJECT when a deployment
concurrency limit is full: then the run is left alone), label the run with the worker, start the engine with
PREFECT__FLOW_RUN_ID and PREFECT_API_URL, record the process id, and report Crashed when the process exits non-zero
without the run reaching a final state. A run that goes Cancelling has its engine told over the control channel
(so that it reports Cancelled itself), then its process group terminated; it ends Cancelled either way.
SIGTERM stops polling, terminates the runs still going and reports them Crashed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from baton.errors import BatonError, ObjectNotFound
from baton.states import TERMINAL_STATE_TYPES
from baton.worker.api import JsonObject, WorkerApi
from baton.worker.control_channel import ControlChannel

logger = logging.getLogger("baton.worker")

WORKER_TYPE = "process"
# A WAIT answer to Pending is re-proposed this many times before the run is left for a later poll.
MAX_PENDING_WAITS = 5
# A terminated process gets this long to exit before it is killed.
KILL_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerOptions:
    pool: str
    name: str
    api_url: str
    work_queues: tuple[str, ...] = ()
    limit: int | None = None
    pool_type: str = WORKER_TYPE
    heartbeat_seconds: float = 30.0
    query_seconds: float = 10.0
    prefetch_seconds: float = 10.0
    cancellation_poll_seconds: float = 2.0
    shutdown_grace_seconds: float = KILL_GRACE_SECONDS


@dataclass
class InFlight:
    """A run this worker took: its submission task and, once started, its process."""

    run: JsonObject
    task: asyncio.Task[None] | None = None
    process: asyncio.subprocess.Process | None = None
    cancelling: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ProcessWorker:
    """One worker process polling one pool. `run(stop)` returns after `stop` is set and its runs are wound down."""

    def __init__(self, options: WorkerOptions, api: WorkerApi | None = None) -> None:
        self.options = options
        self.api = api or WorkerApi(options.api_url)
        self.pool: JsonObject | None = None
        self.in_flight: dict[str, InFlight] = {}
        self.control = ControlChannel()

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeat, poll and watch for cancellations until `stop` is set; then stop the runs still going."""
        try:
            await self.control.start()
            self.pool = await self._ensure_pool()
            loops = [
                asyncio.create_task(self._every(self.options.heartbeat_seconds, self.heartbeat)),
                asyncio.create_task(self._every(self.options.query_seconds, self.poll)),
                asyncio.create_task(self._every(self.options.cancellation_poll_seconds, self.check_cancellations)),
            ]
            logger.info(
                "Worker %r started, polling work pool %r every %g s",
                self.options.name,
                self.options.pool,
                self.options.query_seconds,
            )
            await stop.wait()
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self.shut_down()
        finally:
            await self.control.close()
            await self.api.close()

    async def _ensure_pool(self) -> JsonObject:
        try:
            pool = await self.api.read_work_pool(self.options.pool)
        except ObjectNotFound:
            pool = await self.api.create_work_pool(self.options.pool, self.options.pool_type)
            logger.info("Created work pool %r of type %r", self.options.pool, self.options.pool_type)
        if pool["type"] != self.options.pool_type:
            logger.warning(
                "Work pool %r is of type %r; this worker runs %r jobs", pool["name"], pool["type"], WORKER_TYPE
            )
        return pool

    async def _every(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await action()
            except BatonError as exc:
                logger.warning("%s failed: %s", action.__name__, exc.message)
            except Exception:  # a worker must outlive one bad answer; the next round tries again
                logger.exception("%s failed", action.__name__)
            await asyncio.sleep(seconds)

    # --- loops ---------------------------------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        await self.api.heartbeat(self.options.pool, self.options.name, self.options.heartbeat_seconds)

    async def poll(self) -> None:
        """Take the pool's due runs, up to the worker's limit."""
        if self._full():
            return
        before = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.options.prefetch_seconds)
        items = await self.api.scheduled_runs(self.options.pool, list(self.options.work_queues), before)
        for item in items:
            run = item["flow_run"]
            if run["id"] in self.in_flight:
                continue
            if self._full():
                break
            flight = InFlight(run=run)
            self.in_flight[run["id"]] = flight
            flight.task = asyncio.create_task(self._submit(flight))

    def _full(self) -> bool:
        return self.options.limit is not None and len(self.in_flight) >= self.options.limit

    async def check_cancellations(self) -> None:
        """Terminate the process of each of this worker's runs that went Cancelling, then mark it Cancelled."""
        started = [run_id for run_id, flight in self.in_flight.items() if flight.process and not flight.cancelling]
        if not started:
            return
        for run in await self.api.cancelling_runs(started):
            flight = self.in_flight.get(run["id"])
            if flight is None or flight.cancelling:
                continue
            flight.cancelling = True
            asyncio.create_task(self._cancel(flight, run))

    # --- one run -------------------------------------------------------------------------------------------------

    async def _submit(self, flight: InFlight) -> None:
        run = flight.run
        run_id = run["id"]
        try:
            deployment: JsonObject = {}
            if run.get("deployment_id"):
                try:
                    deployment = await self.api.read_deployment(run["deployment_id"])
                except ObjectNotFound:
                    message = f"Deployment {run['deployment_id']} no longer exists; the run was cancelled."
                    await self.api.set_state(run_id, {"type": "CANCELLED", "message": message}, force=True)
                    return
            if not await self._propose_pending(run_id):
                return
            await self.api.update_labels(run_id, self._labels())
            process = await self._start(run, deployment)
            flight.process = process
            await self.api.update_flow_run(run_id, infrastructure_pid=str(process.pid))
            logger.info("Flow run %s (%s) started as process %d", run["name"], run_id, process.pid)
            code = await process.wait()
            if not flight.cancelling and code != 0:
                await self._report_crash(run_id, f"Flow run process exited with code {code}.")
            logger.info("Flow run %s (%s) process exited with code %d", run["name"], run_id, code)
        except BatonError as exc:
            logger.warning("Flow run %s: %s", run_id, exc.message)
        except OSError as exc:
            await self._report_crash(run_id, f"The flow run process could not start: {exc}")
        finally:
            flight.done.set()
            self.control.forget(run_id)
            if not flight.cancelling:
                self.in_flight.pop(run_id, None)

    async def _propose_pending(self, run_id: str) -> bool:
        """True when the run is now Pending for this worker; False when the server refused (the run is left)."""
        for _ in range(MAX_PENDING_WAITS):
            result = await self.api.set_state(run_id, {"type": "PENDING"})
            status = result["status"]
            if status == "ACCEPT":
                return True
            if status == "WAIT":
                await asyncio.sleep(float(result["details"].get("delay_seconds") or 1))
                continue
            state = result.get("state") or {}
            reason = result["details"].get("reason")
            logger.info("Flow run %s not submitted: %s %s (%s)", run_id, status, state.get("name"), reason)
            return status == "REJECT" and state.get("type") == "PENDING"
        return False

    def _labels(self) -> dict[str, str]:
        assert self.pool is not None
        return {
            "prefect.worker.name": self.options.name,
            "prefect.worker.type": WORKER_TYPE,
            "prefect.work-pool.name": self.pool["name"],
            "prefect.work-pool.id": str(self.pool["id"]),
        }

    async def _start(self, run: JsonObject, deployment: JsonObject) -> asyncio.subprocess.Process:
        variables = job_variables(self.pool or {}, deployment, run)
        env = {**os.environ}
        env.update({key: str(value) for key, value in (variables.get("env") or {}).items() if value is not None})
        env.update(PREFECT_API_URL=self.options.api_url, PREFECT__FLOW_RUN_ID=str(run["id"]))
        env.update(self.control.register(str(run["id"])))
        if deployment.get("name"):
            env["PREFECT__DEPLOYMENT_NAME"] = deployment["name"]
        command = variables.get("command")
        argv = command.split() if isinstance(command, str) and command else [sys.executable, "-m", "prefect.engine"]
        cwd = variables.get("working_dir") or tempfile.mkdtemp(prefix="baton-run-")
        # Its own session, so that cancelling kills the engine and whatever it started, and nothing else.
        return await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env, start_new_session=True)

    async def _report_crash(self, run_id: str, message: str) -> None:
        """Crashed, unless the run already reached a final state (the engine reported its own outcome)."""
        try:
            current = await self.api.read_flow_run(run_id)
            if current["state_type"] in TERMINAL_STATE_TYPES:
                return
            target = "CANCELLED" if current["state_type"] == "CANCELLING" else "CRASHED"
            await self.api.set_state(run_id, {"type": target, "message": message})
            logger.warning("Flow run %s reported %s: %s", run_id, target.title(), message)
        except BatonError as exc:
            logger.warning("Could not report flow run %s as crashed: %s", run_id, exc.message)

    async def _cancel(self, flight: InFlight, run: JsonObject) -> None:
        run_id = run["id"]
        try:
            # Told first, the engine takes the SIGTERM as a cancellation and reports Cancelled itself.
            told = await self.control.request_cancel(run_id)
            if flight.process is not None:
                await terminate(flight.process, KILL_GRACE_SECONDS)
            await flight.done.wait()
            # An engine that was not told reports Crashed (forced) on SIGTERM; the run was cancelled on purpose.
            current = await self.api.read_flow_run(run_id)
            if current["state_type"] in ("CANCELLING", "CRASHED"):
                message = f"Cancelled by worker {self.options.name!r}: its process was stopped."
                await self.api.set_state(run_id, {"type": "CANCELLED", "message": message}, force=True)
            logger.info("Flow run %s cancelled (its engine %s)", run_id, "was told" if told else "was not told")
        except BatonError as exc:
            logger.warning("Could not mark flow run %s cancelled: %s", run_id, exc.message)
        finally:
            self.in_flight.pop(run_id, None)

    async def shut_down(self) -> None:
        """Terminate the runs still going (they get `shutdown_grace_seconds`), and report those left unfinished."""
        flights = list(self.in_flight.values())
        if not flights:
            return
        logger.info("Stopping %d flow runs", len(flights))
        for flight in flights:
            if flight.process is not None:
                signal_group(flight.process, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(flight.done.wait() for flight in flights)), self.options.shutdown_grace_seconds
            )
        for flight in flights:
            if flight.process is not None and flight.process.returncode is None:
                signal_group(flight.process, signal.SIGKILL)
            if flight.task is not None and not flight.task.done():
                flight.task.cancel()
        await asyncio.gather(*(flight.task for flight in flights if flight.task), return_exceptions=True)
        for flight in flights:
            await self._report_crash(flight.run["id"], f"Worker {self.options.name!r} stopped while the run was going.")


def run_worker(options: WorkerOptions) -> None:
    """Run a worker in this process until SIGINT or SIGTERM, then wind its runs down."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await ProcessWorker(options).run(stop)

    asyncio.run(main())


def job_variables(pool: JsonObject, deployment: JsonObject, run: JsonObject) -> dict[str, Any]:
    """The job variables of a run: the pool template's defaults, then the deployment's, then the run's own."""
    defaults = {
        name: spec["default"]
        for name, spec in ((pool.get("base_job_template") or {}).get("variables", {}).get("properties", {})).items()
        if isinstance(spec, dict) and "default" in spec
    }
    return {**defaults, **(deployment.get("job_variables") or {}), **(run.get("job_variables") or {})}


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
