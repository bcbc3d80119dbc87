"""Event ingestion: Prefect 3 clients streaming task-run events over `/api/events/in`, and how fast Baton stores them.

Starts Baton as a user would (`baton server start`, plus `baton server services` in Redis mode) on a scratch database,
creates one flow and `--clients` Running flow runs over the REST API, then opens one websocket per flow run (the
`prefect` subprotocol and its auth handshake) and streams task runs the way the Prefect 3.9.1 engine reports them:
each task run is three `prefect.task-run.<State>` events (Pending, Running, Completed) of the exact shape of
`prefect.utilities.engine.emit_task_run_state_change_event`, with the flow-run and flow related resources the
client's EventsWorker adds. Like the Prefect client, each socket checkpoints with a ping every 700 events.

Measured:

* accepted events/s: events sent / wall time from the first send until every socket's last ping is answered (the
  server handles a socket's frames in order, so the pong means it has taken every event before it);
* persisted events/s: events sent / wall time from the first send until `SELECT count(*) FROM task_run_state`
  (polled read-only on the database itself) has grown by all of them: each event is one task-run state, written in
  the same transaction as the event row, and the events are counted again at the end (`events_stored`);
* event-to-row lag: for 1 event in `--sample-every`, the time from its send to the first poll that sees its task
  run's row at that state or a later one (`task_run.state_id`), one SQL query over the pending samples per poll;
* server RSS (peak; the API process, plus every services process in Redis mode) and the CPU seconds used during the
  measurement by the API process, the services processes, PostgreSQL, Redis and the benchmark itself.

Prints a summary and, on its last line, one JSON object. Everything it starts (processes, the scratch PostgreSQL
database, the Redis keys under a per-run namespace, the temporary BATON_HOME) is removed at the end, also on Ctrl+C.

    .venv/bin/python benchmarks/events_ingest.py --mode embedded --database sqlite
    .venv/bin/python benchmarks/events_ingest.py --mode redis --database postgresql --services-processes 2
    .venv/bin/python benchmarks/events_ingest.py --mode redis --database postgresql --rate 100   # 32 x 100 ev/s
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

BATON = str(Path(sys.executable).with_name("baton"))
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
REDIS_URL = "redis://127.0.0.1:6379/0"
# The Prefect client checkpoints (ping, wait for the pong) every 700 events.
CHECKPOINT_EVERY = 700
# How often the database is polled; slower when one poll takes longer than a fifth of this, so that polling never
# takes more than about a fifth of a core (count(*) over a large PostgreSQL table is a sequential scan).
POLL_SECONDS = 0.05
# Progress is polled on the task-run states: every event sent is a task-run state, stored in the same transaction as
# the event, and a state row is an eighth of the size of an event row, so counting them costs PostgreSQL an eighth of
# the time (counting events took 34-40 ms per poll at 30,000 events: a fifth of a core, out of the server's two).
# The events themselves are counted once at the end (`check.events_stored`).
PROGRESS_TABLE = "task_run_state"
POLL_BUSY_FACTOR = 5
# The states are counted at every poll only once every sampled event is stored (until then not all are), and at most
# once a second before that, for the progress figure: each count(*) scans a table that grows by every event, on the
# PostgreSQL server whose CPU the server under test shares.
COUNT_SECONDS = 1.0
# Lag samples in a run, by default. Each poll looks the pending ones up on PostgreSQL, whose CPU the server shares:
# 4,500 samples (1 in 20 of 90,000 events) took 87-135 ms per poll, 900 took 35-40 ms; 1,000 give a p99 from their ten
# slowest.
LAG_SAMPLES = 1000
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


# --- the events, as the Prefect 3.9.1 client builds them -------------------------------------------------------------


def iso_z(moment: dt.datetime) -> str:
    """A UTC time as Pydantic's JSON mode writes it (what the client sends)."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class FlowRunRef:
    id: str
    name: str
    flow_id: str
    flow_name: str


@dataclass
class TaskRunStream:
    """One simulated task run: its id, and the ids of its three states (the event ids)."""

    id: str
    index: int
    state_ids: list[str] = field(default_factory=lambda: [str(uuid.uuid4()) for _ in range(3)])


STATES = (("PENDING", "Pending"), ("RUNNING", "Running"), ("COMPLETED", "Completed"))


def task_run_event(
    flow_run: FlowRunRef, task: TaskRunStream, step: int, moment: dt.datetime, times: dict[str, dt.datetime]
) -> dict[str, Any]:
    """The event of `task`'s state number `step` (0 Pending, 1 Running, 2 Completed), occurring at `moment`."""
    state_type, state_name = STATES[step]
    initial = STATES[step - 1] if step else None
    name = f"process_item-{task.index}"
    run: dict[str, Any] = {
        "name": name,
        "task_key": "process_item-4a9f1c2e",
        "dynamic_key": str(task.index),
        "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0},
        "tags": ["bench"],
        "labels": {},
        "task_inputs": {"item": [], "config": []},
        "run_count": 0 if step == 0 else 1,
        "flow_run_run_count": 1,
        "expected_start_time": iso_z(times["pending"]),
        "total_run_time": 0.0,
    }
    if step >= 1:
        run["start_time"] = iso_z(times["running"])
    if step == 2:
        run["end_time"] = iso_z(moment)
        run["total_run_time"] = (moment - times["running"]).total_seconds()
    occurred = iso_z(moment)
    return {
        "id": task.state_ids[step],
        "occurred": occurred,
        "event": f"prefect.task-run.{state_name}",
        "resource": {
            "prefect.resource.id": f"prefect.task-run.{task.id}",
            "prefect.resource.name": name,
            "prefect.run-count": str(run["run_count"]),
            "prefect.state-message": "",
            "prefect.state-name": state_name,
            "prefect.state-timestamp": moment.isoformat(),
            "prefect.state-type": state_type,
            "prefect.orchestration": "client",
        },
        "related": [
            {"prefect.resource.id": "prefect.tag.bench", "prefect.resource.role": "tag"},
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                "prefect.resource.role": "flow-run",
                "prefect.resource.name": flow_run.name,
            },
            {
                "prefect.resource.id": f"prefect.flow.{flow_run.flow_id}",
                "prefect.resource.role": "flow",
                "prefect.resource.name": flow_run.flow_name,
            },
        ],
        "payload": {
            "intended": {"from": initial[0] if initial else None, "to": state_type},
            "initial_state": (
                {"type": initial[0], "name": initial[1], "message": "", "state_details": {}} if initial else None
            ),
            "validated_state": {
                "type": state_type,
                "name": state_name,
                "message": "",
                "state_details": {},
                "data": None,
            },
            "task_run": run,
        },
        "follows": task.state_ids[step - 1] if step else None,
    }


# --- measurements -------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    task_run_id: uuid.UUID
    visible_ids: frozenset[uuid.UUID]  # this state and the later ones of the same task run
    sent: float
    seen: float | None = None


@dataclass
class Figures:
    sent: int = 0
    sockets_open: int = 0
    first_send: float | None = None
    senders_done: float | None = None
    persisted_done: float | None = None
    persisted: int = 0
    samples: list[Sample] = field(default_factory=list)
    polls: int = 0
    poll_seconds: float = 0.0
    peak_api_rss: int = 0
    peak_services_rss: int = 0
    client_errors: list[str] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


# --- processes, database, Redis -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def named_processes(name: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == name]


def cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    times = {}
    for process in processes:
        try:
            used = process.cpu_times()
            times[process.pid] = used.user + used.system
        except psutil.Error:
            pass
    return times


def rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


class Environment:
    """What one run starts and must remove: a temporary BATON_HOME, a scratch database, Redis keys, processes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        tag = uuid.uuid4().hex[:10]
        self.home = Path(tempfile.mkdtemp(prefix="baton-events-"))
        self.port = free_port()
        self.database_name = f"baton_events_{tag}" if args.database == "postgresql" else None
        self.namespace = f"baton-events-{tag}" if args.mode == "redis" else None
        self.server: subprocess.Popen[bytes] | None = None
        self.services: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "BATON_HOME": str(self.home), "BATON_LOGGING_LEVEL": "WARNING"}
        for name in list(self.env):
            if name in ("BATON_API_DATABASE_CONNECTION_URL", "BATON_REDIS_URL", "BATON_REDIS_NAMESPACE"):
                del self.env[name]
        if self.database_name:
            self.env["BATON_API_DATABASE_CONNECTION_URL"] = PG_URL.format(name=self.database_name)
        if self.namespace:
            self.env["BATON_REDIS_URL"] = args.redis_url
            self.env["BATON_REDIS_NAMESPACE"] = self.namespace
        for assignment in args.env:
            key, _, value = assignment.partition("=")
            self.env[key] = value

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def sqlite_path(self) -> Path:
        return self.home / "baton.db"

    def start(self) -> None:
        if self.database_name:
            asyncio.run(self._create_database())
        self.server = self._spawn("server", [BATON, "server", "start", "--port", str(self.port), "--no-ui"])
        if self.namespace:
            command = [BATON, "server", "services", "--processes", str(self.args.services_processes)]
            command += ["--threads", str(self.args.services_threads)]
            self.services = self._spawn("services", command)

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        # Its own session, so a Ctrl+C in the terminal reaches only the benchmark, which then stops it in order.
        with open(self.home / f"{name}.log", "wb") as log:
            return subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.home / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def check_alive(self) -> None:
        for name, process in (("server", self.server), ("services", self.services)):
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"`baton {name}` exited with {process.returncode}:\n{self.log_tail(name)}")

    def stop_processes(self) -> None:
        for process in (self.services, self.server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.services, self.server):
            if process is None:
                continue
            children = process_tree(process.pid)[1:]
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for child in children:  # Dramatiq's workers, should one outlive its parent
                try:
                    child.kill()
                except psutil.Error:
                    pass

    def cleanup(self) -> None:
        try:
            self.stop_processes()
        finally:
            try:
                if self.database_name:
                    asyncio.run(self._drop_database())
                if self.namespace:
                    self._delete_redis_keys()
            finally:
                shutil.rmtree(self.home, ignore_errors=True)

    async def _create_database(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(f'CREATE DATABASE "{self.database_name}"')
        finally:
            await connection.close()

    async def _drop_database(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        finally:
            await connection.close()

    def _delete_redis_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(self.args.redis_url)
        try:
            keys = list(client.scan_iter(match=f"{self.namespace}:*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        finally:
            client.close()


class Database:
    """Read-only polling of the run's database: the events count and the task runs' current state ids."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.pg: Any = None
        self.lite: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self.environment.database_name:
            import asyncpg

            self.pg = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.environment.database_name}")
            await self.pg.execute("SET default_transaction_read_only = on")
        else:
            path = self.environment.sqlite_path
            self.lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.lite is not None:
            self.lite.close()

    async def count(self, table: str, where: str = "") -> int:
        query = f"SELECT count(*) FROM {table} {where}"
        if self.pg is not None:
            return int(await self.pg.fetchval(query))
        return int((await asyncio.to_thread(self._lite_all, query, ()))[0][0])

    async def state_ids(self, task_run_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
        """The current state id of each of these task runs that has a row."""
        if self.pg is not None:
            rows = await self.pg.fetch("SELECT id, state_id FROM task_run WHERE id = ANY($1::uuid[])", task_run_ids)
            return {row["id"]: row["state_id"] for row in rows}
        found: dict[uuid.UUID, uuid.UUID | None] = {}
        for start in range(0, len(task_run_ids), 900):
            chunk = task_run_ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
            rows = await asyncio.to_thread(
                self._lite_all, f"SELECT id, state_id FROM task_run WHERE id IN ({marks})", [u.hex for u in chunk]
            )
            found.update({uuid.UUID(str(i)): uuid.UUID(str(s)) if s else None for i, s in rows})
        return found

    def _lite_all(self, query: str, parameters: Any) -> list[Any]:
        assert self.lite is not None
        return self.lite.execute(query, parameters).fetchall()


# --- the run --------------------------------------------------------------------------------------------------------


async def wait_healthy(environment: Environment, client: httpx.AsyncClient) -> float:
    started = time.perf_counter()
    while True:
        environment.check_alive()
        try:
            if (await client.get("/health")).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > START_TIMEOUT:
            raise RuntimeError(
                f"the server was not healthy within {START_TIMEOUT} s:\n{environment.log_tail('server')}"
            )
        await asyncio.sleep(0.05)


async def create_flow_runs(client: httpx.AsyncClient, count: int) -> list[FlowRunRef]:
    """One flow and `count` flow runs in state Running (task runs reference their flow run)."""
    flow = (await client.post("/flows/", json={"name": "bench-events-flow"})).raise_for_status().json()

    async def one(index: int) -> FlowRunRef:
        body = {"flow_id": flow["id"], "name": f"bench-events-{index}", "state": {"type": "RUNNING"}}
        run = (await client.post("/flow_runs/", json=body)).raise_for_status().json()
        return FlowRunRef(run["id"], run["name"], flow["id"], flow["name"])

    return list(await asyncio.gather(*(one(index) for index in range(count))))


def ws_url(environment: Environment) -> str:
    return environment.api_url.replace("http://", "ws://") + "/events/in"


async def open_socket(environment: Environment) -> Any:
    socket_ = await connect(
        ws_url(environment), subprotocols=[Subprotocol("prefect")], ping_interval=None, max_size=None
    )
    await socket_.send(orjson.dumps({"type": "auth", "token": None}).decode())
    answer = orjson.loads(await asyncio.wait_for(socket_.recv(), 10))
    if answer.get("type") != "auth_success":
        raise RuntimeError(f"the auth handshake failed: {answer}")
    return socket_


def utc_now(after: dt.datetime | None) -> dt.datetime:
    """Now, strictly after `after` (state timestamps of one task run must increase)."""
    moment = dt.datetime.now(dt.UTC)
    if after is not None and moment <= after:
        moment = after + dt.timedelta(microseconds=1)
    return moment


def build_frames(flow_run: FlowRunRef, tasks: int, first_index: int) -> Iterator[tuple[str, TaskRunStream, int]]:
    """The frames of `tasks` task runs of `flow_run` (three each: Pending, Running, Completed), with the task run and
    step of each; state times increase along each task run."""
    last: dt.datetime | None = None
    for index in range(first_index, first_index + tasks):
        task = TaskRunStream(str(uuid.uuid4()), index)
        times: dict[str, dt.datetime] = {}
        for step in range(3):
            last = utc_now(last)
            times[("pending", "running", "completed")[step]] = last
            yield orjson.dumps(task_run_event(flow_run, task, step, last, times)).decode(), task, step


async def stream_flow_run(
    environment: Environment,
    flow_run: FlowRunRef,
    tasks: int,
    first_index: int,
    args: argparse.Namespace,
    figures: Figures,
    started: asyncio.Event,
) -> None:
    """One flow run's events socket: `tasks` task runs, Pending -> Running -> Completed, one after another.

    The frames are built before the clock starts: in production the clients run on other machines, and here every
    microsecond they spend is taken from the server's two cores (building them as they go cost about 12 us per event,
    a twentieth of the machine's time per event)."""
    frames = list(build_frames(flow_run, tasks, first_index))
    socket_ = await open_socket(environment)
    figures.sockets_open += 1
    try:
        await started.wait()
        begin = time.perf_counter()
        since_checkpoint = 0
        for sent_here, (frame, task, step) in enumerate(frames):
            if args.rate:
                delay = begin + sent_here / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent = time.perf_counter()
            await socket_.send(frame)
            if figures.first_send is None:
                figures.first_send = sent
            figures.sent += 1
            if figures.sent % args.sample_every == 0:
                later = frozenset(uuid.UUID(state_id) for state_id in task.state_ids[step:])
                figures.samples.append(Sample(uuid.UUID(task.id), later, sent))
            since_checkpoint += 1
            if since_checkpoint >= CHECKPOINT_EVERY:
                await (await socket_.ping())
                since_checkpoint = 0
        await (await socket_.ping())
    finally:
        await socket_.close()


async def warm_up(environment: Environment, database: Database, flow_run: FlowRunRef) -> None:
    """One task-run event end to end (proves the actors run), then wait for the setup's own events to settle."""
    socket_ = await open_socket(environment)
    task = TaskRunStream(str(uuid.uuid4()), 10**9)
    moment = utc_now(None)
    await socket_.send(orjson.dumps(task_run_event(flow_run, task, 0, moment, {"pending": moment})).decode())
    await (await socket_.ping())
    await socket_.close()
    deadline = time.perf_counter() + START_TIMEOUT
    while not await database.state_ids([uuid.UUID(task.id)]):
        environment.check_alive()
        if time.perf_counter() > deadline:
            raise RuntimeError("the warm-up event never became a task run; are the actors running?")
        await asyncio.sleep(0.05)
    stable_since, last = time.perf_counter(), await database.count("events")
    while time.perf_counter() - stable_since < 1.0 and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
        now = await database.count("events")
        if now != last:
            stable_since, last = time.perf_counter(), now


async def poll(
    environment: Environment,
    database: Database,
    figures: Figures,
    baseline: int,
    expected: int,
    deadline: float,
    trees: dict[str, list[psutil.Process]],
    stop: threading.Event | None = None,
) -> None:
    """Until every event is stored and every sample seen (or the deadline, or `stop`): count, look up samples, read
    RSS."""
    next_rss = next_count = 0.0
    while time.perf_counter() < deadline and not (stop is not None and stop.is_set()):
        environment.check_alive()
        begin = time.perf_counter()
        pending = [sample for sample in figures.samples if sample.seen is None]
        if pending:
            current = await database.state_ids(list({sample.task_run_id for sample in pending}))
            for sample in pending:
                if current.get(sample.task_run_id) in sample.visible_ids:
                    sample.seen = begin
            pending = [sample for sample in pending if sample.seen is None]
        # While a sampled event is not stored, not every event is: counting can wait (see COUNT_SECONDS).
        if figures.persisted_done is None and (not pending or begin >= next_count):
            figures.persisted = await database.count(PROGRESS_TABLE) - baseline
            next_count = begin + COUNT_SECONDS
            if figures.persisted >= expected:
                figures.persisted_done = begin
        if begin >= next_rss:
            figures.peak_api_rss = max(figures.peak_api_rss, rss(trees["api"]))
            figures.peak_services_rss = max(figures.peak_services_rss, rss(trees["services"]))
            next_rss = begin + 0.5
        spent = time.perf_counter() - begin
        figures.polls += 1
        figures.poll_seconds += spent
        if figures.persisted_done is not None and not pending:
            return
        await asyncio.sleep(max(POLL_SECONDS - spent, spent * (POLL_BUSY_FACTOR - 1)))


def poll_in_thread(
    environment: Environment,
    figures: Figures,
    baseline: int,
    expected: int,
    deadline: float,
    trees: dict[str, list[psutil.Process]],
    stop: threading.Event,
) -> None:
    """`poll` on an event loop and a database connection of its own. On the benchmark's loop, busy with 32 senders,
    a poll's wall time was mostly waiting for the loop (seconds under load), which the interval backoff then
    multiplied: the end of persisting and the lags were seen up to several seconds late."""

    async def run() -> None:
        database = Database(environment)
        await database.open()
        try:
            await poll(environment, database, figures, baseline, expected, deadline, trees, stop)
        finally:
            await database.close()

    asyncio.run(run())


def process_trees(environment: Environment) -> dict[str, list[psutil.Process]]:
    """The processes whose CPU time is reported, by role."""
    return {
        "api": process_tree(environment.server.pid if environment.server else None),
        "services": process_tree(environment.services.pid if environment.services else None),
        "postgres": named_processes("postgres"),
        "redis": named_processes("redis-server"),
        "benchmark": [psutil.Process()],
    }


def split(total: int, parts: int) -> Iterator[tuple[int, int]]:
    """(count, first index) of each part of `total` items over `parts`."""
    first = 0
    for part in range(parts):
        count = total // parts + (1 if part < total % parts else 0)
        yield count, first
        first += count


class Load:
    """Work another benchmark adds around the ingest workload (benchmarks/automations.py): `prepare` runs once the
    server is healthy and before the clock starts, `during` runs while the events stream and is cancelled after."""

    async def prepare(self, client: httpx.AsyncClient) -> None:
        return None

    async def during(self, client: httpx.AsyncClient) -> None:
        return None

    async def finish(self, client: httpx.AsyncClient) -> None:
        """After the measurement, while the server still runs."""
        return None


async def measure(environment: Environment, args: argparse.Namespace, load: Load | None = None) -> dict[str, Any]:
    load = load or Load()
    tasks_total = args.events // 3
    expected = tasks_total * 3
    figures = Figures()
    async with httpx.AsyncClient(base_url=environment.api_url, timeout=30) as client:
        healthy_seconds = await wait_healthy(environment, client)
        flow_runs = await create_flow_runs(client, args.clients)
        await load.prepare(client)
        database = Database(environment)
        await database.open()
        try:
            await warm_up(environment, database, flow_runs[0])
            baseline = await database.count(PROGRESS_TABLE)
            events_baseline = await database.count("events")
            trees = process_trees(environment)
            cpu_before = {name: cpu_seconds(tree) for name, tree in trees.items()}
            machine_before = psutil.cpu_times()
            started = asyncio.Event()
            senders = [
                asyncio.ensure_future(stream_flow_run(environment, run, count, first, args, figures, started))
                for run, (count, first) in zip(flow_runs, split(tasks_total, args.clients), strict=True)
            ]
            # Every socket has built its frames and finished its handshake (or failed) before the clock starts.
            ready_by = time.perf_counter() + START_TIMEOUT
            while figures.sockets_open < len(senders) and not any(sender.done() for sender in senders):
                if time.perf_counter() > ready_by:
                    raise RuntimeError(f"only {figures.sockets_open} of {len(senders)} sockets opened")
                await asyncio.sleep(0.05)
            wall_start = time.perf_counter()
            deadline = wall_start + args.duration_cap
            started.set()

            async def send_all() -> None:
                results = await asyncio.gather(*senders, return_exceptions=True)
                figures.client_errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
                figures.senders_done = time.perf_counter()

            sending = asyncio.ensure_future(send_all())
            side_load = asyncio.ensure_future(load.during(client))
            stop = threading.Event()
            try:
                await asyncio.to_thread(poll_in_thread, environment, figures, baseline, expected, deadline, trees, stop)
            finally:
                stop.set()
                side_load.cancel()
                await asyncio.gather(side_load, return_exceptions=True)
                if not sending.done():
                    for sender in senders:
                        sender.cancel()
                    await sending
            wall_end = time.perf_counter()
            await load.finish(client)
            # Listed again: the services' database connections (PostgreSQL backends) open on first use.
            cpu_after = {name: cpu_seconds(tree) for name, tree in process_trees(environment).items()}
            machine_after = psutil.cpu_times()
            task_runs_completed = await database.count("task_run", "WHERE state_type = 'COMPLETED'")
            task_run_states = await database.count("task_run_state")
            events_stored = await database.count("events") - events_baseline
            # The same rows through the API: a sampled task run as GET /api/task_runs/{id} shows it.
            api_state = None
            if figures.samples:
                answer = await client.get(f"/task_runs/{figures.samples[-1].task_run_id}")
                api_state = (
                    answer.json().get("state", {}).get("type") if answer.status_code == 200 else answer.status_code
                )
        finally:
            await database.close()
    cpu = {
        name: round(sum(after - cpu_before[name].get(pid, 0.0) for pid, after in cpu_after[name].items()), 2)
        for name in cpu_after
    }
    # The whole machine, kernel included (loopback networking is softirq time): idle and steal are not busy.
    machine = {
        name: round(getattr(machine_after, name) - getattr(machine_before, name), 2)
        for name in machine_after._fields
        if name in ("user", "system", "softirq", "iowait", "idle", "steal")
    }
    tracked = sum(cpu.values())
    cpu["machine_busy"] = round(sum(v for k, v in machine.items() if k not in ("idle", "iowait", "steal")), 2)
    # Whatever else ran meanwhile (other users' processes, short-lived backends, the kernel's own threads).
    cpu["other"] = round(cpu["machine_busy"] - tracked, 2)
    cpu["machine_softirq"] = machine.get("softirq", 0.0)
    cpu["machine_idle"] = machine["idle"]
    # The warm-up task run added one state.
    check = {
        "task_runs_completed": task_runs_completed,
        "task_run_states": task_run_states - 1,
        "events_stored": events_stored,
        "api_state": api_state,
    }
    return build_report(args, figures, expected, tasks_total, wall_start, wall_end, cpu, healthy_seconds, check)


def build_report(
    args: argparse.Namespace,
    figures: Figures,
    expected: int,
    tasks_total: int,
    wall_start: float,
    wall_end: float,
    cpu: dict[str, float],
    healthy_seconds: float,
    check: dict[str, Any],
) -> dict[str, Any]:
    first = figures.first_send or wall_start
    send_seconds = (figures.senders_done - first) if figures.senders_done else None
    persist_seconds = (figures.persisted_done - first) if figures.persisted_done else None
    lags = [sample.seen - sample.sent for sample in figures.samples if sample.seen is not None]
    wall = wall_end - wall_start

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "mode": args.mode,
        "database": args.database,
        "clients": args.clients,
        "services_processes": args.services_processes if args.mode == "redis" else None,
        "services_threads": args.services_threads if args.mode == "redis" else None,
        "rate_per_client": args.rate,
        "events": expected,
        "task_runs": tasks_total,
        "events_sent": figures.sent,
        "events_persisted": figures.persisted if figures.persisted_done is None else expected,
        "completed": figures.persisted_done is not None,
        "send_seconds": round(send_seconds, 3) if send_seconds else None,
        "persist_seconds": round(persist_seconds, 3) if persist_seconds else None,
        "accepted_per_second": round(figures.sent / send_seconds) if send_seconds else None,
        "persisted_per_second": round(expected / persist_seconds) if persist_seconds else None,
        "drain_seconds_after_send": (
            round(figures.persisted_done - figures.senders_done, 3)
            if figures.persisted_done and figures.senders_done
            else None
        ),
        "lag_samples": len(figures.samples),
        "lag_seen": len(lags),
        "lag_p50_ms": ms(percentile(lags, 0.50)),
        "lag_p90_ms": ms(percentile(lags, 0.90)),
        "lag_p99_ms": ms(percentile(lags, 0.99)),
        "lag_max_ms": ms(max(lags) if lags else None),
        "poll_interval_mean_ms": ms(wall / figures.polls if figures.polls else None),
        "poll_query_mean_ms": ms(figures.poll_seconds / figures.polls if figures.polls else None),
        "wall_seconds": round(wall, 3),
        "cpu_seconds": cpu,
        "cpu_cores_busy": round(cpu["machine_busy"] / wall, 2) if wall > 0 else None,
        "peak_rss_mb": {
            "api": round(figures.peak_api_rss / 2**20, 1),
            "services": round(figures.peak_services_rss / 2**20, 1) if args.mode == "redis" else None,
        },
        "server_healthy_seconds": round(healthy_seconds, 2),
        "check": {
            **check,
            "ok": check["task_runs_completed"] == tasks_total
            and check["task_run_states"] == expected
            and check["events_stored"] == expected,
        },
        "client_errors": figures.client_errors[:5],
    }


def print_report(report: dict[str, Any]) -> None:
    rate = f", {report['rate_per_client']} ev/s per client" if report["rate_per_client"] else ""
    services = ""
    if report["mode"] == "redis":
        services = f", {report['services_processes']} services processes x {report['services_threads']} threads"
    incomplete = "" if report["completed"] else "  (INCOMPLETE)"
    cpu = ", ".join(f"{name} {value}" for name, value in report["cpu_seconds"].items())
    check = report["check"]
    lines = [
        f"Events ingest: {report['mode']} + {report['database']}, {report['clients']} clients{rate}{services}",
        f"  events:            {report['events_sent']} sent, {report['events_persisted']} persisted of "
        f"{report['events']} ({report['task_runs']} task runs){incomplete}",
        f"  accepted:          {report['accepted_per_second']} events/s ({report['send_seconds']} s)",
        f"  persisted:         {report['persisted_per_second']} events/s ({report['persist_seconds']} s, "
        f"{report['drain_seconds_after_send']} s after the last send)",
        f"  event -> row lag:  p50 {report['lag_p50_ms']} ms, p90 {report['lag_p90_ms']} ms, "
        f"p99 {report['lag_p99_ms']} ms, max {report['lag_max_ms']} ms ({report['lag_seen']}/{report['lag_samples']} "
        f"samples; polls every {report['poll_interval_mean_ms']} ms, {report['poll_query_mean_ms']} ms each)",
        f"  CPU seconds:       {cpu} over {report['wall_seconds']} s ({report['cpu_cores_busy']} cores busy)",
        f"  peak RSS MiB:      api {report['peak_rss_mb']['api']}, services {report['peak_rss_mb']['services']}",
        f"  check:             {check['events_stored']} events, {check['task_runs_completed']} task runs Completed, "
        f"{check['task_run_states']} task-run states, API shows {check['api_state']}: "
        f"{'ok' if check['ok'] else 'MISMATCH'}",
        *(f"  client error:      {error}" for error in report["client_errors"]),
    ]
    print("\n".join(lines))
    print(json.dumps(report), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=("embedded", "redis"),
        default="embedded",
        help="actors in the API process (embedded) or in `baton server services` processes over Redis (redis)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=32, help="websockets, one per flow run (default 32)")
    parser.add_argument("--events", type=int, default=30_000, help="events in all, 3 per task run (default 30000)")
    parser.add_argument("--services-processes", type=int, default=2, help="redis mode (default 2)")
    parser.add_argument("--services-threads", type=int, default=4, help="redis mode (default 4, as the CLI)")
    parser.add_argument("--rate", type=float, default=None, help="events/s cap per client (default: unlimited)")
    parser.add_argument("--duration-cap", type=float, default=120.0, help="stop measuring after this many seconds")
    parser.add_argument(
        "--sample-every",
        type=int,
        default=None,
        help=f"measure the lag of 1 event in this many (default: about {LAG_SAMPLES} samples in all)",
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--env", action="append", default=[], metavar="BATON_X=V", help="extra server setting")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.events < 3 * args.clients:
        parser.error("need at least one client and 3 events (one task run) per client")
    if args.sample_every is None:
        args.sample_every = max(1, args.events // LAG_SAMPLES)
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    environment = Environment(args)
    try:
        environment.start()
        report = asyncio.run(measure(environment, args))
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        environment.cleanup()
    print_report(report)
    return 0 if report["completed"] else 1


if __name__ == "__main__":
    sys.exit(main())
