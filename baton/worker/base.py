"""What every worker does, whatever its runs execute on: poll a work pool, submit each run, report its state, and
stop it when it is cancelled or the worker shuts down. A subclass says how a run's job starts (`start_job`); the
`Job` it returns says how to wait for it and how to stop it.

For each run the worker takes: read the deployment, propose Pending (the server may answer WAIT, or REJECT when a
deployment concurrency limit is full: then the run is left alone), label the run with the worker, start the job with
PREFECT__FLOW_RUN_ID and PREFECT_API_URL, record the job's id as the run's infrastructure_pid, and report Crashed
when the job exits non-zero without the run reaching a final state. A run that goes Cancelling has its engine told
over the control channel when it can be reached (so that it reports Cancelled itself), then its job stopped; it ends
Cancelled either way. Stopping the worker stops the jobs still going and reports their runs Crashed.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from baton.errors import BatonError, ObjectNotFound
from baton.states import TERMINAL_STATE_TYPES
from baton.worker.api import JsonObject, WorkerApi
from baton.worker.control_channel import ControlChannel

logger = logging.getLogger("baton.worker")

# A WAIT answer to Pending is re-proposed this many times before the run is left for a later poll.
MAX_PENDING_WAITS = 5
# A job asked to stop gets this long to exit before it is killed.
KILL_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerOptions:
    pool: str
    name: str
    api_url: str
    #: Sent as a Bearer token (BATON_API_KEY), and given to each run's engine as its Prefect credential.
    api_key: str | None = field(default=None, repr=False)
    work_queues: tuple[str, ...] = ()
    limit: int | None = None
    pool_type: str = "process"
    heartbeat_seconds: float = 30.0
    query_seconds: float = 10.0
    prefetch_seconds: float = 10.0
    cancellation_poll_seconds: float = 2.0
    shutdown_grace_seconds: float = KILL_GRACE_SECONDS


class Job(Protocol):
    """One run's execution: a process, a container."""

    @property
    def infrastructure_pid(self) -> str:
        """What the run records as its `infrastructure_pid`."""
        ...

    async def wait(self) -> int | None:
        """The job's exit code once it ended; None when it is gone without one (removed, say)."""
        ...

    async def stop(self, grace_seconds: float) -> None:
        """Ask the job to stop, kill it after `grace_seconds`; returns once it is stopped (nothing if already)."""
        ...


class JobNotStarted(Exception):
    """The run's job could not start (no such image, no such command); `message` is written for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class InFlight:
    """A run this worker took: its submission task and, once started, its job."""

    run: JsonObject
    task: asyncio.Task[None] | None = None
    job: Job | None = None
    cancelling: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Worker(abc.ABC):
    """One worker process polling one pool. `run(stop)` returns after `stop` is set and its runs are wound down."""

    worker_type: str = ""

    def __init__(self, options: WorkerOptions, api: WorkerApi | None = None) -> None:
        self.options = options
        self.api = api or WorkerApi(options.api_url, api_key=options.api_key)
        self.pool: JsonObject | None = None
        self.in_flight: dict[str, InFlight] = {}
        self.control = ControlChannel()

    @abc.abstractmethod
    async def start_job(self, run: JsonObject, deployment: JsonObject, variables: dict[str, Any]) -> Job:
        """Start the run's job with its job variables; JobNotStarted when it cannot."""

    def new_pool_template(self) -> JsonObject | None:
        """The base job template of a pool this worker creates; None for the server's default."""
        return None

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
            pool = await self.api.create_work_pool(self.options.pool, self.options.pool_type, self.new_pool_template())
            logger.info("Created work pool %r of type %r", self.options.pool, self.options.pool_type)
        if pool["type"] != self.options.pool_type:
            logger.warning(
                "Work pool %r is of type %r; this worker runs %r jobs", pool["name"], pool["type"], self.worker_type
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
        """Stop the job of each of this worker's runs that went Cancelling, then mark the run Cancelled."""
        started = [run_id for run_id, flight in self.in_flight.items() if flight.job and not flight.cancelling]
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
            job = await self.start_job(run, deployment, job_variables(self.pool or {}, deployment, run))
            flight.job = job
            await self.api.update_flow_run(run_id, infrastructure_pid=job.infrastructure_pid)
            logger.info(
                "Flow run %s (%s) started as %s %s", run["name"], run_id, self.worker_type, job.infrastructure_pid
            )
            code = await job.wait()
            if not flight.cancelling and code != 0:
                ended = f"exited with code {code}" if code is not None else "is gone without an exit code"
                await self._report_crash(run_id, f"The flow run's {self.worker_type} job {ended}.")
            logger.info("Flow run %s (%s) job ended with code %s", run["name"], run_id, code)
        except BatonError as exc:
            logger.warning("Flow run %s: %s", run_id, exc.message)
        except JobNotStarted as exc:
            await self._report_crash(run_id, f"The flow run's {self.worker_type} job could not start: {exc.message}")
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
            "prefect.worker.type": self.worker_type,
            "prefect.work-pool.name": self.pool["name"],
            "prefect.work-pool.id": str(self.pool["id"]),
        }

    def run_environment(self, run: JsonObject, deployment: JsonObject, variables: dict[str, Any]) -> dict[str, str]:
        """The environment the run's engine needs: the job variables' env, then where the API is and which run."""
        env = {key: str(value) for key, value in (variables.get("env") or {}).items() if value is not None}
        env.update(PREFECT_API_URL=self.options.api_url, PREFECT__FLOW_RUN_ID=str(run["id"]))
        if self.options.api_key and not {"PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"} & env.keys():
            # The auth string as well: outside Prefect Cloud the client sends only the auth string on the events
            # websocket, which carries the run's task runs (PREFECT_API_KEY alone loses them).
            env.update(PREFECT_API_KEY=self.options.api_key, PREFECT_API_AUTH_STRING=self.options.api_key)
        if deployment.get("name"):
            env["PREFECT__DEPLOYMENT_NAME"] = deployment["name"]
        return env

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
            if flight.job is not None:
                await flight.job.stop(KILL_GRACE_SECONDS)
            await flight.done.wait()
            # An engine that was not told reports Crashed (forced) on SIGTERM; the run was cancelled on purpose.
            current = await self.api.read_flow_run(run_id)
            if current["state_type"] in ("CANCELLING", "CRASHED"):
                message = f"Cancelled by worker {self.options.name!r}: its {self.worker_type} job was stopped."
                await self.api.set_state(run_id, {"type": "CANCELLED", "message": message}, force=True)
            logger.info("Flow run %s cancelled (its engine %s)", run_id, "was told" if told else "was not told")
        except BatonError as exc:
            logger.warning("Could not mark flow run %s cancelled: %s", run_id, exc.message)
        finally:
            self.in_flight.pop(run_id, None)

    async def shut_down(self) -> None:
        """Stop the jobs still going (each gets `shutdown_grace_seconds`), and report those left unfinished."""
        flights = list(self.in_flight.values())
        if not flights:
            return
        logger.info("Stopping %d flow runs", len(flights))
        grace = self.options.shutdown_grace_seconds
        await asyncio.gather(
            *(flight.job.stop(grace) for flight in flights if flight.job is not None), return_exceptions=True
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(flight.done.wait() for flight in flights)), grace)
        for flight in flights:
            if flight.task is not None and not flight.task.done():
                flight.task.cancel()
        await asyncio.gather(*(flight.task for flight in flights if flight.task), return_exceptions=True)
        for flight in flights:
            await self._report_crash(flight.run["id"], f"Worker {self.options.name!r} stopped while the run was going.")


def job_variables(pool: JsonObject, deployment: JsonObject, run: JsonObject) -> dict[str, Any]:
    """The job variables of a run: the pool template's defaults, then the deployment's, then the run's own."""
    defaults = {
        name: spec["default"]
        for name, spec in ((pool.get("base_job_template") or {}).get("variables", {}).get("properties", {})).items()
        if isinstance(spec, dict) and "default" in spec
    }
    return {**defaults, **(deployment.get("job_variables") or {}), **(run.get("job_variables") or {})}
