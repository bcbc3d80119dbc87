"""`/metrics` in Prometheus' text format, read back with prometheus_client's own parser, and `/api/ready`.

The gauges are read afresh at each scrape here (`server_metrics_cache_seconds=0`); the request and actor counters
are process-wide, so each check compares a scrape after an action with one before it.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import dramatiq
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from baton.queue.broker import make_broker
from baton.queue.publisher import Publisher
from baton.server.context import ServerContext
from baton.server.database import migrate
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.databases import SINGLE_DIALECT
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace
from tests.server.conftest import served
from tests.server.identities import service_account_key

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, server_metrics_cache_seconds=0)


async def scrape(base_url: str, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of `/metrics`, by name and labels, parsed as Prometheus would."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base_url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parsed_samples(response.text)


def parsed_samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by name and labels, parsed as Prometheus would."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when there is none (a labelled counter not yet counted)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def labelled(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (sample, labels) in samples if sample == name]


async def test_a_request_is_counted_by_handler_method_and_status(client: httpx.AsyncClient, base_url: str) -> None:
    before = await scrape(base_url)
    assert (await client.post("/flows/", json={"name": "counted"})).status_code == 201
    assert (await client.get("/flows/00000000-0000-4000-8000-000000000001")).status_code == 404
    after = await scrape(base_url)

    created = {"handler": "FlowsHandler", "method": "POST", "status": "201"}
    missing = {"handler": "FlowHandler", "method": "GET", "status": "404"}
    for labels in (created, missing):
        assert (
            value(after, "baton_http_requests_total", **labels)
            == value(before, "baton_http_requests_total", **labels) + 1
        )
    timed = {"handler": "FlowsHandler", "method": "POST"}
    count = "baton_http_request_duration_seconds_count"
    assert value(after, count, **timed) == value(before, count, **timed) + 1
    assert value(after, "baton_http_request_duration_seconds_bucket", **timed, le="+Inf") >= 1
    # The raw path never becomes a label: no id appears among the handler labels.
    assert all("0000" not in labels["handler"] for labels in labelled(after, "baton_http_requests_total"))


async def test_runs_late_runs_workers_and_slots_show_as_they_change(client: httpx.AsyncClient, base_url: str) -> None:
    flow = (await client.post("/flows/", json={"name": "gauged"})).json()
    for state in ({"type": "RUNNING"}, {"type": "RUNNING"}, {"type": "SCHEDULED", "name": "Late"}):
        response = await client.post("/flow_runs/", json={"flow_id": flow["id"], "state": state})
        assert response.status_code == 201, response.text
    assert (await client.post("/work_pools/", json={"name": "pool-a"})).status_code == 201
    heartbeat = await client.post("/work_pools/pool-a/workers/heartbeat", json={"name": "worker-1"})
    assert heartbeat.status_code == 204, heartbeat.text
    assert (await client.post("/v2/concurrency_limits/", json={"name": "db", "limit": 3})).status_code == 201
    assert (
        await client.post("/v2/concurrency_limits/increment", json={"names": ["db"], "slots": 2})
    ).status_code == 200

    samples = await scrape(base_url)

    assert value(samples, "baton_flow_runs", state="RUNNING") == 2
    assert value(samples, "baton_flow_runs", state="SCHEDULED") == 1
    assert ("baton_flow_runs", frozenset({("state", "COMPLETED")})) in samples  # every state type, 0 included
    assert value(samples, "baton_flow_runs_late") == 1
    last_heartbeat = value(
        samples, "baton_worker_last_heartbeat_timestamp_seconds", work_pool="pool-a", worker="worker-1"
    )
    assert abs(last_heartbeat - dt.datetime.now(dt.UTC).timestamp()) < 60
    assert value(samples, "baton_workers", work_pool="pool-a", status="ONLINE") == 1
    assert value(samples, "baton_concurrency_slots_in_use", limit="db") == 2
    assert value(samples, "baton_concurrency_slots_limit", limit="db") == 3
    assert value(samples, "baton_notification_deliveries", status="FAILED") == 0
    assert value(samples, "baton_automation_action_runs", status="FAILED") == 0
    assert value(samples, "baton_database_pool_size") >= 1
    assert value(samples, "baton_database_pool_checked_out") >= 0
    # No queue in this server: the queue answered (there is nothing to ask), with no queue to report.
    assert value(samples, "baton_queue_up") == 1
    assert labelled(samples, "baton_queue_messages") == []


async def test_ready_is_503_naming_the_schema_when_the_database_is_behind(
    client: httpx.AsyncClient, database: Database
) -> None:
    assert (await client.get("/ready")).status_code == 200
    await migrate.downgrade(database, "-1")

    response = await client.get("/ready")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "schema" in response.json()["detail"] and "baton server database upgrade" in response.json()["detail"]
    assert (await client.get("/health")).json() is True


@pytest.fixture
def auth_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, auth_enabled=True)


async def test_with_authentication_metrics_need_the_metrics_permission(
    database: Database, auth_settings: Settings
) -> None:
    context = ServerContext(settings=auth_settings, database=database)
    async with database.write() as connection:
        viewer = await service_account_key(connection, "viewer")
        worker = await service_account_key(connection, "worker")
    async with served(context, ui=False) as base_url, httpx.AsyncClient() as http:
        assert (await http.get(f"{base_url}/metrics")).status_code == 401
        refused = await http.get(f"{base_url}/metrics", headers=worker.headers)
        assert refused.status_code == 403 and "metrics:read" in refused.text
        samples = await scrape(base_url, viewer.headers)
    assert value(samples, "baton_flow_runs", state="RUNNING") == 0
    await context.close()


# --- Redis mode ------------------------------------------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def redis_context(database: Database, database_url: str, tmp_path: Path) -> AsyncIterator[ServerContext]:
    """A server context publishing to Redis under a namespace of its own, with no services consuming it."""
    namespace = new_namespace()
    settings = Settings(
        home=tmp_path,
        api_database_connection_url=database_url,
        redis_url=REDIS_URL,
        redis_namespace=namespace,
        server_metrics_cache_seconds=0,
    )
    publisher = Publisher.from_settings(make_broker(settings), settings)
    context = ServerContext(settings=settings, database=database, publisher=publisher)
    yield context
    await context.close()
    await publisher.close()
    delete_namespace(namespace)


# One database: the queue is Redis's whatever the database.
@pytest.mark.parametrize("database_url", [SINGLE_DIALECT], indirect=True)
async def test_queue_depth_and_oldest_age_come_from_redis_and_ready_checks_it(redis_context: ServerContext) -> None:
    broker = redis_context.publisher.broker
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    for age_ms in (30_000, 1_000):
        broker.enqueue(
            dramatiq.Message(
                queue_name="notifications",
                actor_name="deliver_notifications",
                args=([],),
                kwargs={},
                options={},
                message_timestamp=now_ms - age_ms,
            )
        )

    async with served(redis_context, ui=False) as base_url, httpx.AsyncClient() as http:
        samples = await scrape(base_url)
        assert (await http.get(f"{base_url}/api/ready")).status_code == 200

    assert value(samples, "baton_queue_up") == 1
    assert value(samples, "baton_queue_messages", queue="notifications") == 2
    assert value(samples, "baton_queue_messages", queue="events") == 0
    assert 29 < value(samples, "baton_queue_oldest_message_age_seconds", queue="notifications") < 60
    assert value(samples, "baton_queue_oldest_message_age_seconds", queue="events") == 0


@pytest.mark.parametrize("database_url", [SINGLE_DIALECT], indirect=True)
async def test_ready_is_503_naming_redis_when_it_does_not_answer(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path,
        api_database_connection_url=database_url,
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
        server_metrics_cache_seconds=0,
    )
    publisher = Publisher.from_settings(make_broker(settings), settings)
    context = ServerContext(settings=settings, database=database, publisher=publisher)
    async with served(context, ui=False) as base_url, httpx.AsyncClient() as http:
        response = await http.get(f"{base_url}/api/ready")
        samples = await scrape(base_url)
    await context.close()
    await publisher.close()

    assert response.status_code == 503
    assert "redis: Redis does not answer" in response.json()["detail"]
    assert "schema" not in response.json()["detail"]
    assert value(samples, "baton_queue_up") == 0
