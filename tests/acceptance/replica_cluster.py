"""Several Baton API processes behind nginx plus several services processes, and the workload the replica test and
`benchmarks/replicas.py` run against them at once.

The cluster: N `baton server start` processes on one PostgreSQL database (migrated once beforehand) and one Redis
namespace, an nginx in front of them (tests/nginx_proxy.py: round robin, websocket upgrades, idempotent requests
retried on another process), and M `baton server services` processes. `kill_api` and `kill_services` SIGKILL one.

The workload, all through nginx:
- `LifecycleLoad`: the API life cycle of benchmarks/api_lifecycle.py (flow runs and task runs through their states,
  logs, reads), which remembers every state change it was answered ACCEPT for;
- `EventPublisher`: an events websocket client (`/api/events/in`) sending events with known ids the way Prefect's
  client does: a ping every `CHECKPOINT_EVERY` events, and after a lost connection it reconnects and sends again
  everything not confirmed by a pong;
- `EventSubscriber`: an `/api/events/out` websocket client that reconnects when its API process dies;
- a notification policy whose custom webhook posts to a local receiver (tests/acceptance/notifications_check.py);
- a deployment with an interval schedule that the services' scheduler keeps filling.

About retries: nginx passes a request to another API process when it could not connect (any method: nothing was
sent) and, for idempotent methods only, when the process failed mid-request (`proxy_next_upstream error timeout
http_502`, nginx's rule for non-idempotent methods). A POST whose process died after receiving it gets a 502: it
may or may not have been committed, so the load does not retry it; it is counted as a failed call, and the checks
only require that what was answered 2xx is stored exactly once and that nothing is stored twice.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from baton.server.database.engine import Database
from benchmarks.api_lifecycle import Bench, StepFailed, make_client
from tests.acceptance.process_groups import ProcessGroup
from tests.nginx_proxy import NginxProxy, free_port

# A server process starts in 2 to 5 s on a loaded 2-CPU machine; anything near this is a failure.
STARTUP_TIMEOUT_SECONDS = 60.0
# The Prefect client confirms its events with a ping every this many (PREFECT's checkpoint_every default is 700;
# fewer here so that a kill leaves a small unconfirmed tail to send again).
CHECKPOINT_EVERY = 50
# The beat lease of the cluster's services (production default 10 s): short, so a takeover fits in a short test.
BEAT_LEASE_SECONDS = 2.0
# The name of benchmarks/api_lifecycle.py's flow, and of the events the publisher sends.
LIFECYCLE_FLOW = "bench-flow"
TICK = "replicas.test.tick"
NOTIFIED_STATES = ("Running", "Completed")
HOUR = dt.timedelta(hours=1)
# Round robin over three processes puts a new socket on a given one within a few tries.
FIRST_UPSTREAM_ATTEMPTS = 30


def cluster_settings(database_url: str, redis_url: str, namespace: str, home: Path) -> dict[str, str]:
    """The BATON_ settings every process of a cluster shares: one database, one Redis namespace, short loops."""
    return {
        "BATON_HOME": str(home),
        "BATON_API_DATABASE_CONNECTION_URL": database_url,
        "BATON_REDIS_URL": redis_url,
        "BATON_REDIS_NAMESPACE": namespace,
        "BATON_LOGGING_LEVEL": "WARNING",
        # A dead services process's messages go to another after this many seconds (production default 60).
        "BATON_QUEUE_WORKER_HEARTBEAT_TIMEOUT": "2",
        "BATON_QUEUE_BEAT_LEASE_SECONDS": str(BEAT_LEASE_SECONDS),
        "BATON_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
        "BATON_SERVICES_SCHEDULER_MIN_RUNS": "3",
        "BATON_SERVICES_SCHEDULER_MAX_RUNS": "5",
        "BATON_SERVICES_SCHEDULER_MIN_SCHEDULED_TIME_SECONDS": "5",
        "BATON_NOTIFICATIONS_THROTTLE_SECONDS": "0",
        # States whose message died with a killed API process get their events within seconds, not minutes.
        "BATON_SERVICES_UNPUBLISHED_STATE_CHANGES_LOOP_SECONDS": "1",
        "BATON_SERVICES_UNPUBLISHED_STATE_CHANGES_GRACE_SECONDS": "3",
        "BATON_NOTIFICATIONS_RETRY_BACKOFF_SECONDS": "0.5",
    }


@dataclass
class ApiProcess:
    port: int
    process: subprocess.Popen[bytes]
    log: Path


class Cluster:
    """API and services processes sharing `env`, behind nginx; `stop()` ends them all."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.group = ProcessGroup(env, workdir)
        self.workdir = workdir
        self.apis: list[ApiProcess] = []
        self.services: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.proxy: NginxProxy | None = None

    @property
    def api_url(self) -> str:
        assert self.proxy is not None
        return f"{self.proxy.url}/api"

    @property
    def ws_url(self) -> str:
        return self.api_url.replace("http://", "ws://")

    def start(self, api_processes: int, services_processes: int) -> None:
        for _ in range(api_processes):
            port = free_port()
            command = [sys.executable, "-m", "baton", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
            process, log = self.group.launch(command, "api")
            self.apis.append(ApiProcess(port, process, log))
        for _ in range(services_processes):
            self.start_services()
        for api in self.apis:
            self._wait_healthy(api)
        self.proxy = NginxProxy(self.workdir / "nginx", [api.port for api in self.apis])

    def start_services(self) -> tuple[subprocess.Popen[bytes], Path]:
        command = [sys.executable, "-m", "baton", "server", "services", "--processes", "1", "--threads", "4"]
        started = self.group.launch(command, "services")
        self.services.append(started)
        return started

    def _wait_healthy(self, api: ApiProcess) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if api.process.poll() is not None:
                raise RuntimeError(f"API process on {api.port} exited: {api.log.read_text(errors='replace')[-4000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{api.port}/api/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"API process on {api.port} did not become healthy in {STARTUP_TIMEOUT_SECONDS} s")

    def kill_api(self, port: int) -> None:
        """SIGKILL the API process listening on `port`."""
        api = next(api for api in self.apis if api.port == port)
        self.group.kill(api.process)

    def kill_services(self, process: subprocess.Popen[bytes]) -> None:
        self.group.kill(process)

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for process, _ in self.group.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.group.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.group.kill(process)


@contextmanager
def running_cluster(
    env: dict[str, str], workdir: Path, api_processes: int, services_processes: int
) -> Iterator[Cluster]:
    cluster = Cluster(env, workdir)
    try:
        cluster.start(api_processes, services_processes)
        yield cluster
    finally:
        cluster.stop()


# --- the API life cycle -------------------------------------------------------------------------------------------


class LifecycleLoad(Bench):
    """benchmarks/api_lifecycle.py's workload, remembering each state change answered ACCEPT as (kind, run id,
    state type)."""

    def __init__(self, api_url: str, runs: int, concurrency: int, tasks_per_run: int = 3, logs_per_run: int = 5):
        args = argparse.Namespace(
            api_url=api_url,
            api_key=None,
            runs=runs,
            concurrency=concurrency,
            tasks_per_run=tasks_per_run,
            logs_per_run=logs_per_run,
        )
        super().__init__(make_client(args, 4), args)
        self.accepted: list[tuple[str, str, str]] = []
        self.wall_seconds = 0.0

    async def set_state(self, kind: str, run_id: str, state_type: str) -> None:
        await super().set_state(kind, run_id, state_type)
        self.accepted.append((kind, run_id, state_type))

    @property
    def calls(self) -> int:
        return sum(len(stats.latencies) for stats in self.results.operations.values())

    @property
    def ops_per_second(self) -> float:
        succeeded = self.calls - self.results.failed_calls
        return succeeded / self.wall_seconds if self.wall_seconds else 0.0

    def run_in_thread(self) -> threading.Thread:
        def run() -> None:
            async def main() -> None:
                async with self.shared_client:
                    try:
                        self.wall_seconds = await self.run()
                    except StepFailed:
                        self.wall_seconds = 0.0

            asyncio.run(main())

        thread = threading.Thread(target=run, name="lifecycle-load", daemon=True)
        thread.start()
        return thread


# --- events in and out --------------------------------------------------------------------------------------------


def open_prefect_socket(url: str, *, within: float = 20.0) -> ClientConnection:
    """A websocket to `url` after the `prefect` auth handshake, trying again for `within` seconds while nginx has no
    process to pass it to."""
    deadline = time.monotonic() + within
    while True:
        try:
            socket = connect(url, subprotocols=["prefect"], open_timeout=5)  # type: ignore[list-item]
            socket.send(json.dumps({"type": "auth", "token": None}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "auth_success"}
            return socket
        except (OSError, ConnectionClosed, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def upstream_of(socket: ClientConnection) -> str:
    """The API process (host:port) nginx passed the websocket to (its X-Upstream header)."""
    assert socket.response is not None
    return str(socket.response.headers.get("X-Upstream", ""))


def flow_run_event(flow_run_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": TICK,
        "resource": {"prefect.resource.id": f"prefect.flow-run.{flow_run_id}"},
        "payload": {},
    }


@dataclass
class EventPublisher:
    """Sends `total` events (or fewer, if stopped) at about `per_second` over `/api/events/in` in a thread; see the
    module docstring."""

    ws_url: str
    flow_run_id: str
    total: int
    per_second: float
    sent_ids: list[str] = field(default_factory=list)
    upstreams: list[str] = field(default_factory=list)
    confirmed: int = 0
    reconnects: int = 0
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        thread.start()
        return thread

    @property
    def done(self) -> bool:
        return len(self.sent_ids) >= self.total or self._stop.is_set()

    def stop(self) -> None:
        """Send no new events; the thread ends once those sent are confirmed."""
        self._stop.set()

    def _connect(self) -> ClientConnection:
        socket = open_prefect_socket(f"{self.ws_url}/events/in")
        self.upstreams.append(upstream_of(socket))
        return socket

    def _run(self) -> None:
        try:
            unconfirmed: list[str] = []
            events: dict[str, dict[str, Any]] = {}
            socket = self._connect()
            started = time.monotonic()
            while not self.done or unconfirmed:
                try:
                    if len(unconfirmed) >= CHECKPOINT_EVERY or self.done:
                        if not socket.ping().wait(timeout=10):
                            raise TimeoutError("no pong: the events since the last one are not confirmed")
                        self.confirmed += len(unconfirmed)
                        unconfirmed = []
                        continue
                    event = flow_run_event(self.flow_run_id)
                    events[event["id"]] = event
                    self.sent_ids.append(event["id"])
                    unconfirmed.append(event["id"])
                    socket.send(json.dumps(event))
                    ahead = len(self.sent_ids) / self.per_second - (time.monotonic() - started)
                    if ahead > 0.005:
                        time.sleep(ahead)
                except (ConnectionClosed, OSError, TimeoutError):
                    self.reconnects += 1
                    socket.close()
                    socket = self._connect()
                    for event_id in unconfirmed:
                        socket.send(json.dumps(events[event_id]))
            socket.close()
        except BaseException as exc:  # reported by the caller
            self.errors.append(exc)


@dataclass
class EventSubscriber:
    """An `/api/events/out` client in a thread, following `event_prefix`; reconnects when its socket closes."""

    ws_url: str
    event_prefix: str
    #: The first connection is made again until nginx puts it on this API process (host:port), if set.
    first_upstream: str | None = None
    upstreams: list[str] = field(default_factory=list)
    received: list[tuple[float, str]] = field(default_factory=list)
    disconnects: list[float] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="event-subscriber", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _subscribe(self) -> ClientConnection:
        socket = open_prefect_socket(f"{self.ws_url}/events/out")
        for _ in range(FIRST_UPSTREAM_ATTEMPTS):
            if self.upstreams or self.first_upstream in (None, upstream_of(socket)):
                break
            socket.close()
            socket = open_prefect_socket(f"{self.ws_url}/events/out")
        now = dt.datetime.now(dt.UTC)
        # The default `occurred.until` is the moment of subscribing (Prefect's): events after it never match.
        occurred = {"since": (now - HOUR).isoformat(), "until": (now + HOUR).isoformat()}
        spec = {"event": {"prefix": [self.event_prefix]}, "occurred": occurred}
        socket.send(json.dumps({"type": "filter", "filter": spec, "backfill": False}))
        self.upstreams.append(upstream_of(socket))
        return socket

    def _run(self) -> None:
        try:
            socket = self._subscribe()
            while not self._stop.is_set():
                try:
                    message = json.loads(socket.recv(timeout=0.5))
                    if message.get("type") == "event":
                        self.received.append((time.time(), message["event"]["id"]))
                except TimeoutError:
                    continue
                except (ConnectionClosed, OSError):
                    self.disconnects.append(time.time())
                    socket = self._subscribe()
            socket.close()
        except BaseException as exc:  # reported by the caller
            self.errors.append(exc)


# --- reading the outcome -------------------------------------------------------------------------------------------


def database_rows(database_url: str, query: str) -> list[Any]:
    async def run() -> list[Any]:
        database = Database(database_url)
        try:
            async with database.read() as connection:
                return list((await connection.execute(sa.text(query))).all())
        finally:
            await database.dispose()

    return asyncio.run(run())


def wait_until(check: Callable[[], Any], seconds: float) -> Any:
    """`check()` once it is truthy, or its last value after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def state_history(database_url: str) -> Counter[tuple[str, str, str]]:
    """How many history rows each (kind, run id, state type) of the life cycle's runs has."""
    history: Counter[tuple[str, str, str]] = Counter()
    for kind, run_id, state_type, count in database_rows(
        database_url,
        "SELECT 'flow_run', s.flow_run_id, s.type, count(*) FROM flow_run_state s JOIN flow_run r "
        f"ON r.id = s.flow_run_id JOIN flow f ON f.id = r.flow_id WHERE f.name = '{LIFECYCLE_FLOW}' GROUP BY 1, 2, 3 "
        "UNION ALL SELECT 'task_run', task_run_id, type, count(*) FROM task_run_state GROUP BY 1, 2, 3",
    ):
        history[(kind, str(run_id), state_type)] = count
    return history


def stored_tick_ids(database_url: str) -> list[str]:
    """The ids of the stored events the publisher sent (a list: an id twice would show)."""
    return [str(row[0]) for row in database_rows(database_url, f"SELECT id FROM events WHERE event = '{TICK}'")]


def notified_states(database_url: str) -> list[tuple[str, str, dt.datetime, bool]]:
    """(run id, state name, timestamp, whether its event was recorded) of each NOTIFIED_STATES state of the life
    cycle's runs (a state's event has the state's id)."""
    names = ", ".join(f"'{name}'" for name in NOTIFIED_STATES)
    return [
        (str(run_id), name, moment, bool(has_event))
        for run_id, name, moment, has_event in database_rows(
            database_url,
            "SELECT s.flow_run_id, s.name, s.timestamp, e.id IS NOT NULL FROM flow_run_state s "
            "JOIN flow_run r ON r.id = s.flow_run_id JOIN flow f ON f.id = r.flow_id "
            f"LEFT JOIN events e ON e.id = s.id WHERE f.name = '{LIFECYCLE_FLOW}' AND s.name IN ({names})",
        )
    ]


def recorded_notified_states(database_url: str, seconds: float) -> list[tuple[str, str, dt.datetime, bool]]:
    """`notified_states` once every state has its event recorded (those whose message died with a killed API process
    get it from the services' `resume_unpublished_state_changes` sweep); after `seconds`, as they are then."""

    def settled() -> list[tuple[str, str, dt.datetime, bool]] | None:
        states = notified_states(database_url)
        return states if all(has_event for _, _, _, has_event in states) else None

    return wait_until(settled, seconds) or notified_states(database_url)


def deliveries_in_flight_at(database_url: str, moment: dt.datetime) -> set[tuple[str, str]]:
    """(run id, state name) of the deliveries still SENDING with an attempt started by `moment`: claimed by a services
    process killed mid-send. The periodic `resume_stalled_deliveries` sends them again after its STALLED_AFTER (2
    minutes), so they arrive then, longer than a test waits."""
    rows = database_rows(
        database_url,
        "SELECT s.flow_run_id, s.name FROM notification_delivery d JOIN flow_run_state s ON s.id = d.flow_run_state_id "
        f"WHERE d.status = 'SENDING' AND d.last_attempt_at <= '{moment.isoformat()}'",
    )
    return {(str(run_id), name) for run_id, name in rows}


def duplicated_start_times(database_url: str) -> list[Any]:
    """(deployment, expected start time) pairs with more than one run."""
    return database_rows(
        database_url,
        "SELECT deployment_id, expected_start_time FROM flow_run WHERE deployment_id IS NOT NULL "
        "GROUP BY 1, 2 HAVING count(*) > 1",
    )


def scheduled_run_count(database_url: str, deployment_id: str) -> int:
    return int(
        database_rows(database_url, f"SELECT count(*) FROM flow_run WHERE deployment_id = '{deployment_id}'")[0][0]
    )


# --- notifications and the schedule -------------------------------------------------------------------------------


def notification_policy(api: httpx.Client, hook_url: str) -> str:
    """A custom webhook block posting `{"body": "<flow run id> <state name>"}` to `hook_url`, and a policy sending
    it for every flow run entering NOTIFIED_STATES; the policy's id."""
    block_type = api.get("/block_types/slug/custom-webhook").json()
    (schema,) = api.post(
        "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    ).json()
    document = api.post(
        "/block_documents/",
        json={
            "name": f"replicas-{uuid.uuid4().hex[:6]}",
            "block_type_id": block_type["id"],
            "block_schema_id": schema["id"],
            "data": {"name": "replicas", "url": hook_url, "method": "POST", "json_data": {"body": "{{body}}"}},
        },
    )
    assert document.status_code == 201, document.text
    policy = api.post(
        "/flow_run_notification_policies/",
        json={
            "state_names": list(NOTIFIED_STATES),
            "tags": [],
            "block_document_id": document.json()["id"],
            "message_template": "{flow_run_id} {flow_run_state_name}",
        },
    )
    assert policy.status_code == 201, policy.text
    return str(policy.json()["id"])


def scheduled_deployment(api: httpx.Client, flow_id: str) -> str:
    """A deployment of `flow_id` scheduled every second; its id."""
    response = api.post(
        "/deployments/",
        json={
            "name": f"every-second-{uuid.uuid4().hex[:6]}",
            "flow_id": flow_id,
            "schedules": [{"schedule": {"interval": 1.0}, "active": True}],
        },
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def deliveries(received: list[tuple[float, Any]]) -> Counter[tuple[str, str]]:
    """How many webhook requests arrived per (flow run id, state name)."""
    counts: Counter[tuple[str, str]] = Counter()
    for _, body in received:
        run_id, _, state = str(body["body"]).partition(" ")
        counts[(run_id, state)] += 1
    return counts
