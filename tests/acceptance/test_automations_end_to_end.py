"""Automations end to end, as issue 24's acceptance states them: real flows through the official client 3.9.1, real
workers, real HTTP on loopback. A failing flow run fires run-deployment of a clean-up deployment that a worker
executes to Completed; a proactive trigger fires when the expected event does not come in its window and not when it
does; call-webhook and send-notification reach a local receiver with the rendered template, byte for byte; a compound
trigger fires only once both children have; `prefect events emit` runs a deployment made by `prefect deploy` with
`triggers:`; and in Redis mode on PostgreSQL, killing `baton server services --processes 2` with SIGKILL in the
middle of a burst loses no action, makes exactly one flow run per firing, and sends a webhook again only when the
kill interrupted its run (a request sent just before the process died is not known to have arrived: README, "Exactly
once").

The embedded-mode tests share one server per database (each makes its own automations, pools and resources); the
Redis test starts its own server and services, since it kills one and counts every row."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa

from baton.server.automations.loaded import MAX_AGE_SECONDS
from baton.server.database.engine import Database
from tests.acceptance.conftest import (
    SERVER_KIND,
    ApiServer,
    FlowRunner,
    baton_server,
    baton_server_on_fresh_database,
    clean_environ,
    created,
    tail,
)
from tests.acceptance.prefect_cli import run_cli
from tests.acceptance.test_prefect_automations import FLOW_FILE, PREFECT_YAML
from tests.acceptance.test_redis_mode import Services
from tests.acceptance.worker_runs import (
    RUN_TIMEOUT_SECONDS,
    baton_worker,
    create_deployment,
    state_is,
    stop_worker,
    wait_for_run,
)
from tests.databases import ENABLED_DIALECTS, TemplateDatabases
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SERVER_KIND != "baton", reason="firing history, Redis mode and timings are Baton's own"),
]

# The proactive sweep runs this often here (default 5 s), so that a closed window fires within about a second.
# One database for this module (tests/databases.py on_one_database): these scenarios drive whole processes (the
# official client, workers, services in Redis mode); the trigger engine's and actions' SQL runs on both databases in
# tests/actors/test_automation_triggers.py, test_automation_actions.py and tests/server/api/test_automations.py.
ONE_DATABASE = "postgresql"
PROACTIVE_LOOP_SECONDS = 1.0
# The shortest window Prefect allows a proactive trigger.
PROACTIVE_WINDOW_SECONDS = 10
# An action runs within a second of its event on an idle server; leave room for a loaded 2-CPU host.
FIRING_TIMEOUT_SECONDS = 20.0
POLL_SECONDS = 0.1

T = TypeVar("T")


@pytest.fixture(scope="module", params=ENABLED_DIALECTS)
def api_server(
    request: pytest.FixtureRequest, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """One embedded-mode server per database for the module's tests, its proactive sweep every second."""
    yield from baton_server_on_fresh_database(
        request.param,
        template_databases,
        tmp_path_factory,
        BATON_SERVICES_AUTOMATIONS_PROACTIVE_LOOP_SECONDS=str(PROACTIVE_LOOP_SECONDS),
    )


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout: float, what: str) -> T:
    """`read()` every POLL_SECONDS until `done` holds for its value; fail naming `what` and the last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s; last seen: {value!r}")
        time.sleep(POLL_SECONDS)
        value = read()
    return value


@dataclass
class Request:
    method: str
    path: str
    content_type: str | None
    body: bytes


@dataclass
class Receiver:
    """A local HTTP endpoint standing in for Slack, a webhook service and so on: every request it got."""

    url: str
    requests: list[Request] = field(default_factory=list)

    def to(self, path: str) -> list[Request]:
        return [request for request in list(self.requests) if request.path == path]


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    """A threaded HTTP server on loopback answering 200 to any POST, keeping each request."""
    receiver = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(Request("POST", self.path, self.headers.get("Content-Type"), body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture
def token() -> str:
    """A name part no other test of the shared server uses."""
    return uuid.uuid4().hex[:8]


def block_document(api: httpx.Client, slug: str, name: str, data: dict[str, Any]) -> str:
    """A block document of type `slug` (the server's catalog) holding `data`; its id."""
    block_type = api.get(f"/block_types/slug/{slug}").json()
    (schema,) = api.post(
        "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    ).json()
    body = {"name": name, "block_type_id": block_type["id"], "block_schema_id": schema["id"], "data": data}
    return str(created(api, "/block_documents/", body)["id"])


def new_automation(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Create an automation and wait until the events pipeline sees it: its view of the enabled automations may be
    MAX_AGE_SECONDS old, and an event recorded earlier is not evaluated for a trigger it did not know of."""
    automation = created(api, "/automations/", body)
    time.sleep(MAX_AGE_SECONDS + 0.2)
    return automation


def firings(api: httpx.Client, automation_id: str) -> list[dict[str, Any]]:
    """The automation's firings, newest first, each with its action runs."""
    response = api.post(f"/automations/{automation_id}/firings", json={})
    assert response.status_code == 200, response.text
    return list(response.json())


def emit(api: httpx.Client, *events: dict[str, Any]) -> None:
    """Send events as the client's REST fallback does (ids and times filled in)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    body = [{"id": str(uuid.uuid4()), "occurred": now, "payload": {}, "related": [], **event} for event in events]
    response = api.post("/events", json=body)
    assert response.status_code == 204, response.text


def event_trigger(expect: str, resource: str, **fields: Any) -> dict[str, Any]:
    """A reactive trigger firing on each `expect` event of `resource` (a label glob)."""
    return {
        "type": "event",
        "match": {"prefect.resource.id": resource},
        "expect": [expect],
        "posture": "Reactive",
        "threshold": 1,
        "within": 0,
        **fields,
    }


def test_a_failing_run_fires_a_clean_up_deployment_a_worker_completes(
    api: httpx.Client, api_server: ApiServer, run_flow: FlowRunner, token: str, tmp_path: Path
) -> None:
    pool = f"cleanup-{token}"
    deployment_id = create_deployment(api, pool, "cleanup.py:cleanup", {"failed_run": "nothing"})
    automation = created(api, "/automations/", {
        "name": f"clean-up-{token}",
        "trigger": event_trigger(
            "prefect.flow-run.Failed",
            "prefect.flow-run.*",
            match_related={"prefect.resource.id": "prefect.tag.daily-etl"},
        ),
        "actions": [{
            "type": "run-deployment", "source": "selected", "deployment_id": deployment_id,
            "parameters": {"failed_run": "{{ flow_run.name }}"},
        }],
    })  # fmt: skip
    # The worker imports prefect while the failing flow runs.
    worker, log = baton_worker(api_server, pool, tmp_path)
    try:
        failed = run_flow("daily_etl_fails")
        failed_run = api.get(f"/flow_runs/{failed['flow_run_id']}").json()
        assert failed_run["state_type"] == "FAILED"
        (firing,) = poll(
            lambda: firings(api, automation["id"]),
            lambda found: bool(found and found[0]["action_runs"][0]["status"] == "SUCCEEDED"),
            FIRING_TIMEOUT_SECONDS,
            "the failed run did not fire a successful run-deployment",
        )
        assert firing["trigger_state"] == "Triggered"
        assert firing["triggering_event"]["resource"]["prefect.resource.id"] == f"prefect.flow-run.{failed_run['id']}"
        (action_run,) = firing["action_runs"]
        assert action_run["resulting_resource"].startswith("prefect.flow-run.")
        cleanup_run_id = action_run["resulting_resource"].removeprefix("prefect.flow-run.")
        finished = wait_for_run(
            api, cleanup_run_id, state_is("COMPLETED", "FAILED", "CRASHED"), [log], RUN_TIMEOUT_SECONDS
        )
    finally:
        stop_worker(worker, log)
    assert finished["state_type"] == "COMPLETED", tail(log)
    assert finished["deployment_id"] == deployment_id
    assert finished["parameters"] == {"failed_run": failed_run["name"]}
    # Exactly one clean-up run: the firing's, no other.
    runs = api.post("/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}).json()
    assert [run["id"] for run in runs] == [cleanup_run_id]


def test_a_proactive_trigger_fires_when_the_event_is_late_and_not_when_it_comes(api: httpx.Client, token: str) -> None:
    automation = new_automation(api, {
        "name": f"expect-finished-{token}",
        "trigger": {
            "type": "event", "posture": "Proactive",
            "match": {"prefect.resource.id": f"e2e.job.{token}.*"},
            "after": ["e2e.job.started"], "expect": ["e2e.job.finished"],
            "for_each": ["prefect.resource.id"], "threshold": 1, "within": PROACTIVE_WINDOW_SECONDS,
        },
        "actions": [{"type": "do-nothing"}],
    })  # fmt: skip
    late, punctual = f"e2e.job.{token}.late", f"e2e.job.{token}.punctual"
    started = time.monotonic()
    emit(
        api,
        {"event": "e2e.job.started", "resource": {"prefect.resource.id": late}},
        {"event": "e2e.job.started", "resource": {"prefect.resource.id": punctual}},
    )
    time.sleep(1)
    emit(api, {"event": "e2e.job.finished", "resource": {"prefect.resource.id": punctual}})

    (firing,) = poll(
        lambda: firings(api, automation["id"]),
        bool,
        PROACTIVE_WINDOW_SECONDS + FIRING_TIMEOUT_SECONDS,
        "the proactive trigger did not fire",
    )
    fired_after = time.monotonic() - started
    assert firing["trigger_state"] == "Triggered"
    assert firing["triggering_labels"] == {"prefect.resource.id": late}
    # Not before its window closed, and within a few sweeps after.
    assert PROACTIVE_WINDOW_SECONDS <= fired_after < PROACTIVE_WINDOW_SECONDS + 5 * PROACTIVE_LOOP_SECONDS + 3
    # The punctual job's window closed at the same time: two more sweeps have passed it, and it did not fire.
    time.sleep(2 * PROACTIVE_LOOP_SECONDS + 0.5)
    assert [each["triggering_labels"] for each in firings(api, automation["id"])] == [{"prefect.resource.id": late}]


WEBHOOK_PAYLOAD = '{"backup": "{{ event.resource.name }}", "size": {{ event.payload.size }}, "id": "{{ event.id }}"}'


def test_call_webhook_and_send_notification_deliver_the_rendered_templates(
    api: httpx.Client, receiver: Receiver, token: str
) -> None:
    webhook = block_document(api, "webhook", f"hook-{token}", {"url": f"{receiver.url}/webhook", "method": "POST"})
    custom = block_document(api, "custom-webhook", f"custom-{token}", {
        "name": "ops", "url": f"{receiver.url}/custom", "method": "POST",
        "form_data": "{{subject}}|{{body}}|{{name}}", "headers": {"Content-Type": "text/plain"},
    })  # fmt: skip
    slack = block_document(api, "slack-webhook", f"slack-{token}", {"url": f"{receiver.url}/slack"})
    resource = f"e2e.backup.{token}"
    subject, body = (
        "{{ event.event }} on {{ event.resource.name }}",
        "{{ event.payload.size }} bytes by {{ automation.name }}",
    )
    automation = new_automation(api, {
        "name": f"deliver-{token}",
        "trigger": event_trigger("e2e.backup.done", resource),
        "actions": [
            {"type": "call-webhook", "block_document_id": webhook,
             "payload": WEBHOOK_PAYLOAD},
            {"type": "send-notification", "block_document_id": custom, "subject": subject, "body": body},
            {"type": "send-notification", "block_document_id": slack, "subject": subject, "body": body},
        ],
    })  # fmt: skip
    event_id = str(uuid.uuid4())
    emit(
        api,
        {
            "id": event_id,
            "event": "e2e.backup.done",
            "resource": {"prefect.resource.id": resource, "prefect.resource.name": "nightly"},
            "payload": {"size": 4096},
        },
    )
    poll(
        lambda: {request.path for request in receiver.requests},
        lambda paths: paths == {"/webhook", "/custom", "/slack"},
        FIRING_TIMEOUT_SECONDS,
        "the three requests did not arrive",
    )
    (hook,) = receiver.to("/webhook")
    assert hook.body == f'{{"backup": "nightly", "size": 4096, "id": "{event_id}"}}'.encode()
    (custom_request,) = receiver.to("/custom")
    assert custom_request.content_type == "text/plain"
    assert custom_request.body == f"e2e.backup.done on nightly|4096 bytes by deliver-{token}|ops".encode()
    (slack_request,) = receiver.to("/slack")
    assert slack_request.content_type == "application/json"
    assert slack_request.body == f'{{"text":"e2e.backup.done on nightly\\n4096 bytes by deliver-{token}"}}'.encode()
    (firing,) = poll(
        lambda: firings(api, automation["id"]),
        lambda found: bool(found) and all(run["status"] == "SUCCEEDED" for run in found[0]["action_runs"]),
        FIRING_TIMEOUT_SECONDS,
        "the three actions were not recorded as succeeded",
    )
    assert [run["action"]["type"] for run in firing["action_runs"]] == [
        "call-webhook",
        "send-notification",
        "send-notification",
    ]
    time.sleep(0.5)  # a second request, if any, would have arrived by now
    assert len(receiver.requests) == 3


def test_a_compound_trigger_fires_only_when_all_children_have(api: httpx.Client, token: str) -> None:
    resource = f"e2e.pipeline.{token}"
    compound = created(api, "/automations/", {
        "name": f"both-done-{token}",
        "trigger": {
            "type": "compound", "require": "all", "within": 60,
            "triggers": [event_trigger("e2e.extract.done", resource), event_trigger("e2e.load.done", resource)],
        },
        "actions": [{"type": "do-nothing"}],
    })  # fmt: skip
    # A plain trigger on the first child's event: once it fired, the engine has evaluated that event for every
    # automation, so the compound's silence then is a decision, not a delay.
    sentinel = new_automation(api, {
        "name": f"extract-seen-{token}", "trigger": event_trigger("e2e.extract.done", resource),
        "actions": [{"type": "do-nothing"}],
    })  # fmt: skip
    emit(api, {"event": "e2e.extract.done", "resource": {"prefect.resource.id": resource}})
    poll(lambda: firings(api, sentinel["id"]), bool, FIRING_TIMEOUT_SECONDS, "the extract event was not evaluated")
    assert firings(api, compound["id"]) == []

    emit(api, {"event": "e2e.load.done", "resource": {"prefect.resource.id": resource}})
    (firing,) = poll(
        lambda: firings(api, compound["id"]), bool, FIRING_TIMEOUT_SECONDS, "the compound trigger did not fire"
    )
    assert firing["trigger_state"] == "Triggered"
    assert firing["trigger_id"] == compound["trigger"]["id"]
    time.sleep(0.5)
    assert len(firings(api, compound["id"])) == 1


def test_an_emitted_event_runs_a_deployment_with_triggers_through_a_worker(
    api: httpx.Client, api_server: ApiServer, tmp_path: Path
) -> None:
    created(api, "/work_pools/", {"name": "automations-pool", "type": "process"})
    project = tmp_path / "project"
    project.mkdir()
    (project / "flows.py").write_text(FLOW_FILE)
    (project / "prefect.yaml").write_text(PREFECT_YAML.format(directory=project))
    worker, log = baton_worker(api_server, "automations-pool", tmp_path)
    try:
        resource = json.dumps({"prefect.resource.id": "my.external.resource", "prefect.resource.name": "bob"})
        (deployed,) = run_cli(api_server, tmp_path, [["deploy", "-n", "on-event"]], cwd=project)
        deployed.ok("Deployment 'triggered/on-event' successfully created with id")
        # A second process, as a user's next command: it starts well after the pipeline's view of the automations
        # (MAX_AGE_SECONDS) took in the new ones.
        (emitted,) = run_cli(
            api_server, tmp_path, [["events", "emit", "external.resource.pinged", "--resource", resource]]
        )
        emitted.ok("Successfully emitted event 'external.resource.pinged' with ID")
        deployment = api.get("/deployments/name/triggered/on-event").json()
        body = {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]}}}
        (run,) = poll(
            lambda: api.post("/flow_runs/filter", json=body).json(),
            bool,
            FIRING_TIMEOUT_SECONDS,
            "the emitted event made no run of the deployment",
        )
        finished = wait_for_run(api, run["id"], state_is("COMPLETED", "FAILED", "CRASHED"), [log], RUN_TIMEOUT_SECONDS)
    finally:
        stop_worker(worker, log)
    assert finished["state_type"] == "COMPLETED", tail(log)
    assert finished["parameters"] == {"who": "bob"}
    assert len(api.post("/flow_runs/filter", json=body).json()) == 1


# Redis mode: events in a burst, one services command killed with SIGKILL in the middle and started again.
BURST_EVENTS = 100
# Events per POST and POSTs per second: the burst takes about two seconds, long enough to kill in the middle of it.
BURST_BATCH = 10
BURST_BATCHES_PER_SECOND = 5
# The kill comes once this many webhooks arrived: actions are being run, and most firings are still to come.
KILL_AFTER_ARRIVALS = 25
# A dead services process's messages are handed on after this many seconds (production default: 60).
HEARTBEAT_TIMEOUT = "2"
# Action runs the killed process left RUNNING are taken again after this many seconds (production default: 300),
# found by a sweep every second (default: 30).
STALE_ACTION_SECONDS = "3"
STALLED_ACTIONS_LOOP_SECONDS = "1"
# Redelivery after the heartbeat timeout, the rest of the burst, the stale runs; a services command boots in 3 to 15 s
# on a loaded 2-CPU host. A kill between a firing's commit and the queueing of its action runs leaves them PENDING
# until the sweep takes them, a minute later (automation_actions.STALLED_AFTER): rare, and covered.
RECOVERY_TIMEOUT_SECONDS = 120.0
STATUS_COUNTS = "SELECT status, count(*) FROM automation_action_run GROUP BY status ORDER BY status"


@contextmanager
def redis_namespace() -> Iterator[dict[str, str]]:
    namespace = new_namespace()
    try:
        yield {"BATON_REDIS_URL": REDIS_URL, "BATON_REDIS_NAMESPACE": namespace}
    finally:
        delete_namespace(namespace)


def rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    async def run() -> list[tuple[Any, ...]]:
        database = Database(database_url)
        try:
            async with database.read() as connection:
                return [tuple(row) for row in await connection.execute(sa.text(query))]
        finally:
            await database.dispose()

    return asyncio.run(run())


def send_burst(api_url: str, events: list[dict[str, Any]], errors: list[BaseException]) -> None:
    """POST `events` in batches of BURST_BATCH at BURST_BATCHES_PER_SECOND, as clients falling back to REST do."""
    try:
        with httpx.Client(base_url=api_url, timeout=10.0) as client:
            started = time.monotonic()
            for number, start in enumerate(range(0, len(events), BURST_BATCH)):
                response = client.post("/events", json=events[start : start + BURST_BATCH])
                assert response.status_code == 204, response.text
                ahead = (number + 1) / BURST_BATCHES_PER_SECOND - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


# PostgreSQL: Redis mode is the compose deployment, which runs on it; the claims and firing keys behind exactly once
# run on both databases in tests/actors and tests/server.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_killing_services_mid_burst_loses_no_action_and_repeats_only_interrupted_webhooks(
    database_url: str, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with redis_namespace() as redis_settings:
        home = tmp_path_factory.mktemp("services")
        env = clean_environ(
            BATON_HOME=str(home),
            BATON_API_DATABASE_CONNECTION_URL=database_url,
            BATON_QUEUE_WORKER_HEARTBEAT_TIMEOUT=HEARTBEAT_TIMEOUT,
            BATON_SERVICES_AUTOMATIONS_STALE_ACTION_SECONDS=STALE_ACTION_SECONDS,
            BATON_SERVICES_AUTOMATIONS_STALLED_ACTIONS_LOOP_SECONDS=STALLED_ACTIONS_LOOP_SECONDS,
            **redis_settings,
        )
        services = Services(env, home)
        try:
            for server in baton_server(tmp_path_factory.mktemp("baton-home"), database_url, **redis_settings):
                check_burst_with_a_kill(server, services, receiver)
        finally:
            services.stop_all()


def check_burst_with_a_kill(server: ApiServer, services: Services, receiver: Receiver) -> None:
    """Each of BURST_EVENTS events fires an automation with a webhook and a run-deployment; the services command is
    killed once KILL_AFTER_ARRIVALS webhooks arrived, then started again."""
    with httpx.Client(base_url=server.api_url, timeout=10.0) as api:
        webhook = block_document(api, "webhook", "burst-hook", {"url": f"{receiver.url}/burst"})
        deployment_id = create_deployment(api, "burst-pool", "add.py:add", {"x": 0, "y": 0})
        automation = new_automation(api, {
            "name": "burst",
            "trigger": event_trigger("e2e.burst.ping", "e2e.burst.*"),
            "actions": [
                {"type": "call-webhook", "block_document_id": webhook, "payload": "{{ event.id }}"},
                {"type": "run-deployment", "source": "selected", "deployment_id": deployment_id,
                 "parameters": {"x": "{{ event.payload.number }}", "y": 0}},
            ],
        })  # fmt: skip
    now = dt.datetime.now(dt.UTC).isoformat()
    events = [
        {"id": str(uuid.uuid4()), "occurred": now, "event": "e2e.burst.ping",
         "resource": {"prefect.resource.id": f"e2e.burst.{number}"}, "payload": {"number": number}, "related": []}
        for number in range(BURST_EVENTS)
    ]  # fmt: skip
    first, first_log = services.start("--processes", "2", "--threads", "4")
    poll(
        lambda: first_log.read_text(errors="replace").count("Worker process is ready for action"),
        lambda ready: ready == 2,
        RECOVERY_TIMEOUT_SECONDS,
        "the services did not start",
    )
    errors: list[BaseException] = []
    sender = threading.Thread(target=send_burst, args=(server.api_url, events, errors))
    started = time.monotonic()
    sender.start()
    poll(
        lambda: len(receiver.to("/burst")),
        lambda arrived: arrived >= KILL_AFTER_ARRIVALS,
        RECOVERY_TIMEOUT_SECONDS,
        f"{KILL_AFTER_ARRIVALS} webhooks did not arrive ({tail(first_log)})",
    )
    services.kill(first)
    at_kill = len(receiver.to("/burst"))
    killed_after = time.monotonic() - started
    sender.join(timeout=30)
    assert not errors, errors
    assert at_kill < BURST_EVENTS, "the burst was over before the kill: nothing was interrupted"
    _, second_log = services.start("--processes", "2", "--threads", "4")

    done = [("SUCCEEDED", 2 * BURST_EVENTS)]
    poll(
        lambda: rows(server.database_url, STATUS_COUNTS),
        lambda statuses: statuses == done,
        RECOVERY_TIMEOUT_SECONDS,
        f"not every action succeeded ({at_kill} webhooks when killed)\n{tail(second_log)}",
    )
    finished_after = time.monotonic() - started
    # One firing per event, one run of each action per firing.
    firings_per_event = rows(
        server.database_url,
        "SELECT count(*), count(DISTINCT triggering_event->>'id') FROM automation_firing "
        f"WHERE automation_id = '{automation['id']}'",
    )
    assert firings_per_event == [(BURST_EVENTS, BURST_EVENTS)]
    # The run-deployment commits with its record: exactly one flow run per event, whatever the kill interrupted.
    made = rows(server.database_url, f"SELECT parameters->>'x' FROM flow_run WHERE deployment_id = '{deployment_id}'")
    assert sorted(int(x) for (x,) in made) == list(range(BURST_EVENTS))

    time.sleep(0.5)  # a webhook sent again would have arrived by now
    arrivals = collections.Counter(request.body.decode() for request in receiver.to("/burst"))
    assert set(arrivals) == {event["id"] for event in events}, "a webhook never arrived"
    # A webhook is sent between two transactions: one in flight when its process died may have reached the receiver
    # unrecorded, and is sent again when its run is taken again (README, "Exactly once"). Only those.
    retried = {
        triggering_id
        for (triggering_id,) in rows(
            server.database_url,
            "SELECT f.triggering_event->>'id' FROM automation_action_run r JOIN automation_firing f "
            "ON f.id = r.firing_id WHERE r.action_index = 0 AND r.attempts > 1",
        )
    }
    sent_twice = {event_id for event_id, count in arrivals.items() if count > 1}
    assert sent_twice <= retried, f"webhooks sent twice without a retried run: {sent_twice - retried}"
    assert max(arrivals.values()) <= 2
    print(
        f"\nkilled after {killed_after:.1f} s with {at_kill} webhooks in; {len(retried)} webhook runs taken again, "
        f"{len(sent_twice)} webhooks sent twice; all {2 * BURST_EVENTS} actions done after {finished_after:.1f} s"
    )
