"""Three API processes behind nginx and two services processes, one of each SIGKILLed in the middle of a workload.

Everything goes through nginx at once (tests/acceptance/replica_cluster.py): the API life cycle, an events websocket
publisher, an events-out subscriber, a notification policy with a webhook receiver, a deployment scheduled every
second. Then the API process the websockets are on and the services process holding the beat lease are killed.
Afterwards: every state change answered ACCEPT is in the history exactly once and none is there twice; every event
published is stored once; every (run, state) is notified once; no scheduled start time is run twice; the beat moved
to the other services process within one lease; the subscriber reconnected to another API process and kept
receiving.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.acceptance.conftest import SERVER_KIND, clean_environ
from tests.acceptance.notifications_check import webhook_receiver
from tests.acceptance.replica_cluster import (
    BEAT_LEASE_SECONDS,
    NOTIFIED_STATES,
    TICK,
    Cluster,
    EventPublisher,
    EventSubscriber,
    LifecycleLoad,
    cluster_settings,
    deliveries,
    deliveries_in_flight_at,
    duplicated_start_times,
    notification_policy,
    recorded_notified_states,
    running_cluster,
    scheduled_deployment,
    scheduled_run_count,
    state_history,
    stored_tick_ids,
    wait_until,
)
from tests.databases import TemplateDatabases
from tests.nginx_proxy import nginx_binary
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SERVER_KIND != "baton", reason="several API processes are Baton's own deployment shape"),
    pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (scripts/nginx.sh installs it)"),
]

ONE_DATABASE = "postgresql"
# How long the pipeline gets to catch up after the load: redelivery after the services kill waits for the
# heartbeat timeout (2 s), then retries.
SETTLE_SECONDS = 30.0
# The beat loop wakes every 0.25 s; the survivor takes the lease within one lease of the kill plus one tick, plus the
# test's polling and a busy machine's scheduling delays (measured: 1.5 to 2.3 s).
BEAT_TICK_SECONDS = 0.25
SLACK_SECONDS = 0.5


@pytest.fixture
def cluster(template_databases: TemplateDatabases, tmp_path: Path) -> Iterator[tuple[Cluster, str, str]]:
    """Three API processes behind nginx and one services process (a second is started by the test, so that the first
    holds the beat lease); the database URL and the Redis namespace."""
    (tmp_path / "db").mkdir()
    database_url = template_databases.clone("postgresql", tmp_path / "db")
    namespace = new_namespace()
    env = clean_environ(**cluster_settings(database_url, REDIS_URL, namespace, tmp_path))
    try:
        with running_cluster(env, tmp_path, api_processes=3, services_processes=1) as running:
            yield running, database_url, namespace
    finally:
        delete_namespace(namespace)
        template_databases.drop(database_url)


def test_killing_an_api_and_a_services_process_loses_and_doubles_nothing(
    cluster: tuple[Cluster, str, str],
) -> None:
    running, database_url, namespace = cluster
    leader_key = f"{namespace}:beat:leader"
    lease = redis.Redis.from_url(REDIS_URL)
    first_leader = wait_until(lambda: lease.get(leader_key), 30)
    assert first_leader, "the first services process never took the beat lease"
    first_services = running.services[0][0]
    running.start_services()
    # Each services process's Dramatiq broker beats in this sorted set once its workers consume.
    heartbeats = f"{namespace}:queue:__heartbeats__"
    assert wait_until(lambda: lease.zcard(heartbeats) >= 2, 30), "the second services process did not start"

    with webhook_receiver() as (hook_url, received), httpx.Client(base_url=running.api_url, timeout=10) as api:
        notification_policy(api, hook_url)
        scheduled_flow = api.post("/flows/", json={"name": "scheduled"}).json()
        deployment_id = scheduled_deployment(api, scheduled_flow["id"])
        target_run = api.post("/flow_runs/", json={"flow_id": scheduled_flow["id"]}).json()["id"]

        publisher = EventPublisher(running.ws_url, target_run, total=100_000, per_second=150)
        publisher_thread = publisher.start()
        wait_until(lambda: publisher.upstreams, 10)
        doomed = publisher.upstreams[0]
        subscriber = EventSubscriber(running.ws_url, TICK, first_upstream=doomed)
        subscriber.start()
        load = LifecycleLoad(running.api_url, runs=80, concurrency=8)
        load_thread = load.run_in_thread()

        assert wait_until(lambda: len(subscriber.received) >= 20 and len(load.accepted) >= 100, 30), (
            len(subscriber.received),
            subscriber.upstreams,
            subscriber.errors,
            len(load.accepted),
            dict(load.results.errors_by_reason),
            len(publisher.sent_ids),
            publisher.errors,
        )
        running.kill_api(int(doomed.rsplit(":", 1)[1]))
        running.kill_services(first_services)
        killed_at, killed_wall = time.monotonic(), time.time()
        new_leader = None
        while new_leader in (None, first_leader) and time.monotonic() - killed_at < 10:
            time.sleep(0.02)
            new_leader = lease.get(leader_key)
        takeover_seconds = time.monotonic() - killed_at
        received_at_kill = len(subscriber.received)

        load_thread.join(timeout=120)
        publisher.stop()
        publisher_thread.join(timeout=60)
        assert not load_thread.is_alive() and not publisher_thread.is_alive()
        assert not publisher.errors, publisher.errors
        assert wait_until(lambda: len(subscriber.received) > received_at_kill, SETTLE_SECONDS), (
            subscriber.upstreams,
            subscriber.errors,
        )
        subscriber.stop()
        assert not subscriber.errors, subscriber.errors

        # The beat: the survivor leads within one lease of the kill.
        assert new_leader not in (None, first_leader), "the surviving services process did not take the beat lease"
        assert takeover_seconds <= BEAT_LEASE_SECONDS + BEAT_TICK_SECONDS + SLACK_SECONDS, f"{takeover_seconds:.2f} s"

        # The websockets: both were on the killed process, and both carried on through another.
        assert subscriber.disconnects, "the subscriber's socket survived the kill of its API process"
        assert subscriber.upstreams[0] == doomed and doomed not in subscriber.upstreams[1:], subscriber.upstreams
        assert publisher.reconnects >= 1 and publisher.upstreams[-1] != doomed, publisher.upstreams

        # The life cycle: it went on through the other processes.
        assert load.results.runs_completed >= 40, load.results.errors_by_reason
        assert len(load.accepted) > 500

        # Every state change answered ACCEPT is in the history exactly once; none is there twice.
        history = state_history(database_url)
        missing = [change for change in load.accepted if history[change] != 1]
        assert not missing, missing[:10]
        assert max(history.values()) == 1, [key for key, count in history.items() if count > 1][:10]

        # Every event published is stored exactly once (events are keyed by id; a resent one is the same row).
        sent = set(publisher.sent_ids)

        wait_until(lambda: set(stored_tick_ids(database_url)) >= sent, SETTLE_SECONDS)
        stored = stored_tick_ids(database_url)
        assert len(stored) == len(set(stored))
        assert set(stored) == sent, f"{len(sent - set(stored))} of {len(sent)} events not stored"

        # Every notified state has its event, those committed by the killed API process just before it died included
        # (their message died with it; the services' sweep emits them), and each got exactly one webhook request.
        states = recorded_notified_states(database_url, SETTLE_SECONDS)
        evented = {(run_id, name) for run_id, name, _, has_event in states if has_event}
        unevented = [(run_id, name, moment) for run_id, name, moment, has_event in states if not has_event]
        assert not unevented, unevented[:10]
        assert len(evented) >= 2 * 40 and {name for _, name in evented} == set(NOTIFIED_STATES)
        # A delivery the killed services process had claimed waits for the stalled-deliveries sweep (2 minutes).
        in_flight = deliveries_in_flight_at(database_url, dt.datetime.fromtimestamp(killed_wall, dt.UTC))
        wait_until(lambda: set(deliveries(received)) >= evented - in_flight, SETTLE_SECONDS)
        time.sleep(1.0)  # a late duplicate, if any, would arrive by now
        delivered = deliveries(received)
        assert set(delivered) <= evented
        assert evented - set(delivered) <= in_flight, (len(evented - set(delivered)), len(in_flight))
        assert max(delivered.values()) == 1, [key for key, count in delivered.items() if count > 1]

        # The schedule: runs kept being made after the kill, and no start time twice.
        assert not duplicated_start_times(database_url)
        assert scheduled_run_count(database_url, deployment_id) >= 5
