"""Redis mode: the API server only publishes; `baton server services` processes record events and run the beat.

Real Redis, real Dramatiq worker processes, real databases. Each server uses its own Redis namespace, so tests (and
two Baton installs) can share one Redis. The flow tests share one server and services group per database (each reads
back only what its flow made); the kill and beat tests start their own, since they kill services processes and count
every row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.sync.client import connect

from baton.server.database.engine import Database
from baton.server.workspaces import DEFAULT_ACCOUNT_ID
from tests.acceptance.conftest import (
    SERVER_KIND,
    ApiServer,
    FlowRunner,
    baton_server,
    baton_server_on_fresh_database,
    clean_environ,
    tail,
)
from tests.acceptance.notifications_check import check_failing_tagged_flow_notifies_once
from tests.acceptance.process_groups import ProcessGroup
from tests.acceptance.task_runs import check_fifty_task_flow
from tests.databases import ENABLED_DIALECTS, SINGLE_DIALECT, TemplateDatabases
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace
from tests.server.api.test_metrics import closed_port, parsed_samples, value

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SERVER_KIND != "baton", reason="Redis mode is Baton's own deployment shape"),
]

# One database for this module (tests/databases.py on_one_database): Redis mode is the compose deployment, which runs
# on PostgreSQL; the SQL its actors write runs on both databases in tests/actors.
ONE_DATABASE = "postgresql"

# A dead services process's messages are handed on after this many seconds (production default: 60).
HEARTBEAT_TIMEOUT = "2"


class Services(ProcessGroup):
    """`baton server services` subprocesses sharing one environment; each in its own session so that a kill takes
    its Dramatiq worker processes with it."""

    def start(self, *options: str) -> tuple[subprocess.Popen[bytes], Path]:
        return self.launch([sys.executable, "-m", "baton", "server", "services", *options], "services")

    def stop_all(self) -> None:
        for process, log in self.processes:
            if process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                pytest.fail(f"baton server services did not stop on SIGTERM.\n{tail(log)}")
            assert process.returncode == 0, f"services exited with {process.returncode}\n{tail(log)}"


@contextmanager
def _redis_namespace() -> Iterator[dict[str, str]]:
    """The settings of a Redis namespace of its own, deleted at the end."""
    namespace = new_namespace()
    try:
        yield {"BATON_REDIS_URL": REDIS_URL, "BATON_REDIS_NAMESPACE": namespace}
    finally:
        delete_namespace(namespace)


def _services_env(database_url: str, redis_settings: dict[str, str], home: Path) -> dict[str, str]:
    return clean_environ(
        BATON_HOME=str(home),
        BATON_API_DATABASE_CONNECTION_URL=database_url,
        BATON_QUEUE_WORKER_HEARTBEAT_TIMEOUT=HEARTBEAT_TIMEOUT,
        **redis_settings,
    )


@pytest.fixture(scope="module")
def services_metrics_port() -> int:
    """The port the shared services serve their metrics on."""
    return closed_port()


@pytest.fixture(scope="module", params=ENABLED_DIALECTS)
def api_server(
    request: pytest.FixtureRequest,
    template_databases: TemplateDatabases,
    tmp_path_factory: pytest.TempPathFactory,
    services_metrics_port: int,
) -> Iterator[ApiServer]:
    """A Baton API server in Redis mode (it publishes; it runs no actors) for the flow tests on one database, and one
    `baton server services --processes 1 --threads 4 --metrics-port PORT` beside it that records what they send."""
    with _redis_namespace() as settings:
        for server in baton_server_on_fresh_database(request.param, template_databases, tmp_path_factory, **settings):
            workdir = tmp_path_factory.mktemp("services")
            group = Services(_services_env(server.database_url, settings, workdir), workdir)
            group.start("--processes", "1", "--threads", "4", "--metrics-port", str(services_metrics_port))
            try:
                yield server
            finally:
                group.stop_all()


@pytest.fixture
def redis_settings() -> Iterator[dict[str, str]]:
    with _redis_namespace() as settings:
        yield settings


@pytest.fixture
def services_env(database_url: str, redis_settings: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return _services_env(database_url, redis_settings, tmp_path)


@pytest.fixture
def services(services_env: dict[str, str], tmp_path: Path) -> Iterator[Services]:
    group = Services(services_env, tmp_path)
    yield group
    group.stop_all()


@pytest.fixture
def own_server(
    database_url: str, redis_settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """A Baton API server in Redis mode on the test's own database and namespace, for the tests that kill services
    processes or count every row."""
    yield from baton_server(tmp_path_factory.mktemp("baton-home"), database_url, **redis_settings)


@pytest.fixture
def own_api(own_server: ApiServer) -> Iterator[httpx.Client]:
    """An HTTP client for `own_server`'s API."""
    with httpx.Client(base_url=own_server.api_url, timeout=10.0) as client:
        yield client


def _scalar(database_url: str, query: str) -> Any:
    async def run() -> Any:
        database = Database(database_url)
        try:
            async with database.read() as connection:
                return await connection.scalar(sa.text(query))
        finally:
            await database.dispose()

    return asyncio.run(run())


def test_fifty_task_runs_are_recorded_by_services(api: httpx.Client, run_flow: FlowRunner, tmp_path: Path) -> None:
    check_fifty_task_flow(api, run_flow, tmp_path / "markers")


def _task_run_events(flow_run_id: str, runs: int) -> list[dict[str, Any]]:
    """`runs` task runs, each Pending -> Running -> AwaitingRetry -> Retrying -> Completed (five events)."""
    states = [
        ("Pending", "PENDING"),
        ("Running", "RUNNING"),
        ("AwaitingRetry", "SCHEDULED"),
        ("Retrying", "RUNNING"),
        ("Completed", "COMPLETED"),
    ]
    start = dt.datetime.now(dt.UTC)
    events = []
    for number in range(runs):
        task_run_id = uuid.uuid4()
        for step, (name, state_type) in enumerate(states):
            occurred = (start + dt.timedelta(milliseconds=10 * step)).isoformat()
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "occurred": occurred,
                    "event": f"prefect.task-run.{name}",
                    "resource": {
                        "prefect.resource.id": f"prefect.task-run.{task_run_id}",
                        "prefect.resource.name": f"task-{number}",
                        "prefect.state-name": name,
                        "prefect.state-type": state_type,
                        "prefect.orchestration": "client",
                    },
                    "related": [
                        {"prefect.resource.id": f"prefect.flow-run.{flow_run_id}", "prefect.resource.role": "flow-run"}
                    ],
                    "payload": {
                        "validated_state": {"type": state_type, "name": name, "message": "", "state_details": {}},
                        "task_run": {
                            "name": f"task-{number}",
                            "task_key": "task-key",
                            "dynamic_key": str(number),
                            "run_count": 1 + (step >= 3),
                            "flow_run_run_count": 1,
                            "tags": [],
                        },
                    },
                }
            )
    return events


def _stream(url: str, events: list[dict[str, Any]], per_second: float, errors: list[BaseException]) -> None:
    """Send `events` over the events websocket at about `per_second`, as the Prefect client does."""
    try:
        with connect(url, subprotocols=["prefect"]) as socket:
            socket.send(json.dumps({"type": "auth", "token": None}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "auth_success"}
            started = time.monotonic()
            for sent, event in enumerate(events):
                socket.send(json.dumps(event))
                ahead = sent / per_second - (time.monotonic() - started)
                if ahead > 0.01:
                    time.sleep(ahead)
            socket.ping().wait(timeout=30)
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


# One database: redelivery after a kill is Redis's and Dramatiq's, and a batch recorded twice is stored once on both
# databases in tests/server/models/events/test_event_writes.py.
@pytest.mark.parametrize("database_url", [SINGLE_DIALECT], indirect=True)
def test_killing_services_mid_stream_loses_and_doubles_nothing(
    own_server: ApiServer, own_api: httpx.Client, services: Services
) -> None:
    api_server, api = own_server, own_api
    flow = api.post("/flows/", json={"name": "kill-test"}).json()
    flow_run_id = api.post("/flow_runs/", json={"flow_id": flow["id"]}).json()["id"]
    events = _task_run_events(flow_run_id, 2_000)
    assert len(events) == 10_000
    task_events = "SELECT count(*) FROM events WHERE event LIKE 'prefect.task-run.%'"

    first, _ = services.start("--processes", "2", "--threads", "4")
    errors: list[BaseException] = []
    socket_url = api_server.api_url.replace("http://", "ws://") + "/events/in"
    sender = threading.Thread(target=_stream, args=(socket_url, events, 2_500, errors))
    sender.start()

    deadline = time.monotonic() + 60
    recorded = 0
    while recorded < 2_000 and time.monotonic() < deadline:
        time.sleep(0.05)
        recorded = _scalar(api_server.database_url, task_events)
    assert 2_000 <= recorded < 10_000, f"{recorded} events recorded when the kill was due"
    services.kill(first)
    at_kill = _scalar(api_server.database_url, task_events)

    sender.join(timeout=60)
    assert not errors, errors
    services.start("--processes", "2", "--threads", "4")
    while recorded < 10_000 and time.monotonic() < deadline + 30:
        time.sleep(0.1)
        recorded = _scalar(api_server.database_url, task_events)

    assert recorded == 10_000, f"{recorded} of 10,000 events recorded ({at_kill} when the services were killed)"
    assert at_kill < 10_000
    stored_ids = _scalar(api_server.database_url, "SELECT count(DISTINCT id) FROM events")
    assert stored_ids == _scalar(api_server.database_url, "SELECT count(*) FROM events")
    assert _scalar(api_server.database_url, "SELECT count(*) FROM task_run") == 2_000
    assert _scalar(api_server.database_url, "SELECT count(*) FROM task_run WHERE state_name = 'Completed'") == 2_000
    assert _scalar(api_server.database_url, "SELECT count(*) FROM task_run WHERE run_count = 2") == 2_000
    assert _scalar(api_server.database_url, "SELECT count(*) FROM task_run_state") == 10_000


BEAT_LINE = re.compile(r"Beat sent mark_late_runs for period (\d+)")


def _beat_periods(log: Path) -> list[int]:
    return [int(match) for match in BEAT_LINE.findall(log.read_text(errors="replace"))]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_services_run_the_beat_once_and_the_survivor_takes_over(
    own_api: httpx.Client, services: Services, services_env: dict[str, str]
) -> None:
    api = own_api
    services.env = {
        **services_env,
        "BATON_SERVICES_LATE_RUNS_LOOP_SECONDS": "0.5",
        "BATON_SERVICES_LATE_RUNS_AFTER_SECONDS": "1",
        "BATON_QUEUE_BEAT_LEASE_SECONDS": "2",
    }
    one, one_log = services.start("--processes", "1", "--threads", "2", "--log-level", "debug")
    two, two_log = services.start("--processes", "1", "--threads", "2", "--log-level", "debug")
    deadline = time.monotonic() + 30  # two processes boot (imports, Dramatiq workers) before the first beat
    while len(_beat_periods(one_log) + _beat_periods(two_log)) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    periods_one, periods_two = _beat_periods(one_log), _beat_periods(two_log)
    sent = periods_one + periods_two
    assert len(sent) >= 6, (tail(one_log), tail(two_log))
    assert len(sent) == len(set(sent)), "a period was sent twice"

    leader, leader_log, survivor_log = (one, one_log, two_log) if periods_one else (two, two_log, one_log)
    assert not (periods_one and periods_two) or max(sent) in _beat_periods(leader_log)
    services.kill(leader)
    killed_at = time.time()
    before = set(_beat_periods(survivor_log))
    deadline = time.monotonic() + 10
    while not set(_beat_periods(survivor_log)) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    taken_over = set(_beat_periods(survivor_log)) - before
    assert taken_over, f"the survivor did not take over.\n{tail(survivor_log)}"
    first_new_period = min(taken_over)
    # Periods are 0.5 s long and aligned to the epoch: the first one the survivor sends starts within one lease (2 s)
    # plus one period of the kill.
    assert first_new_period * 0.5 - killed_at <= 2.5

    # The beat's job does its work: an overdue scheduled run becomes Late.
    flow = api.post("/flows/", json={"name": "late-test"}).json()
    overdue = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    run = api.post(
        "/flow_runs/",
        json={"flow_id": flow["id"], "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": overdue}}},
    ).json()
    deadline = time.monotonic() + 10
    while api.get(f"/flow_runs/{run['id']}").json()["state_name"] != "Late" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert api.get(f"/flow_runs/{run['id']}").json()["state_name"] == "Late"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_services_work_in_a_workspace_on_its_own_data(
    own_api: httpx.Client, own_server: ApiServer, services: Services, services_env: dict[str, str]
) -> None:
    """A workspace's events are recorded by the services into its store, and the beat's periodic jobs reach it (an
    overdue run there becomes Late); the default workspace sees none of it."""
    services.env = {
        **services_env,
        "BATON_SERVICES_LATE_RUNS_LOOP_SECONDS": "0.5",
        "BATON_SERVICES_LATE_RUNS_AFTER_SECONDS": "1",
        "BATON_SERVICES_UNPUBLISHED_STATE_CHANGES_LOOP_SECONDS": "0.5",
    }
    _, log = services.start("--processes", "1", "--threads", "2")
    workspace_id = own_api.post("/workspaces/", json={"name": "redis-team"}).raise_for_status().json()["id"]
    url = f"{own_server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"
    with httpx.Client(base_url=url, timeout=10.0) as api:
        now = dt.datetime.now(dt.UTC).isoformat()
        event = {
            "id": str(uuid.uuid4()),
            "occurred": now,
            "event": "team.happened",
            "resource": {"prefect.resource.id": "x"},
        }
        assert api.post("/events", json=[event]).status_code == 204
        flow = api.post("/flows/", json={"name": "late-in-a-workspace"}).json()
        overdue = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
        run = api.post(
            "/flow_runs/",
            json={"flow_id": flow["id"], "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": overdue}}},
        ).json()

        def names() -> list[str]:
            return [each["event"] for each in api.post("/events/filter", json={}).json()["events"]]

        deadline = time.monotonic() + 30  # the services process boots before it records anything
        while not {"team.happened", "prefect.flow-run.Late"} <= set(names()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert {"team.happened", "prefect.flow-run.Late"} <= set(names()), tail(log)
        assert api.get(f"/flow_runs/{run['id']}").json()["state_name"] == "Late"
    default_names = [each["event"] for each in own_api.post("/events/filter", json={}).json()["events"]]
    assert "team.happened" not in default_names and "prefect.flow-run.Late" not in default_names
    # Every periodic job ran in the workspace too, none of them failing.
    assert "Traceback" not in log.read_text(errors="replace"), tail(log)


def test_a_failing_tagged_flow_notifies_once_through_services(api: httpx.Client, run_flow: FlowRunner) -> None:
    check_failing_tagged_flow_notifies_once(api, run_flow)


def test_services_serve_their_actors_metrics_and_the_api_the_queues(
    api_server: ApiServer, api: httpx.Client, services_metrics_port: int
) -> None:
    recorded = {"actor": "record_events", "queue": "events", "outcome": "succeeded"}
    event = {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": "metrics.test",
        "resource": {"prefect.resource.id": "metrics.test"},
    }
    assert api.post("/events", json=[event]).status_code == 204
    deadline = time.monotonic() + 15
    text = ""
    while time.monotonic() < deadline:
        # The services' worker processes write their counts to files; the metrics process (started once the workers
        # are up) sums them.
        try:
            text = httpx.get(f"http://127.0.0.1:{services_metrics_port}/metrics", timeout=5).text
        except httpx.ConnectError:
            text = ""
        if value(parsed_samples(text), "baton_actor_messages_total", **recorded) >= 1:
            break
        time.sleep(0.1)
    samples = parsed_samples(text)
    assert value(samples, "baton_actor_messages_total", **recorded) >= 1, text
    assert value(samples, "baton_actor_duration_seconds_count", actor="record_events", queue="events") >= 1

    api_metrics = httpx.get(api_server.api_url.removesuffix("/api") + "/metrics", timeout=5)
    assert api_metrics.status_code == 200
    queues = parsed_samples(api_metrics.text)
    assert value(queues, "baton_queue_up") == 1
    assert ("baton_queue_messages", frozenset({("queue", "events")})) in queues
