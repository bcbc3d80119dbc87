"""Benchmark several API processes behind nginx: throughput with 1, 2 and 3 of them, and what a SIGKILL costs.

The set-up is tests/acceptance/test_replicas.py's (tests/acceptance/replica_cluster.py): N `baton server start`
processes on one PostgreSQL database and one Redis namespace behind Debian's nginx (round robin), two `baton server
services` processes, and at once, all through nginx: the API life cycle of benchmarks/api_lifecycle.py
(``--runs`` flow runs of ``--tasks-per-run`` task runs, ``--concurrency`` clients), an events websocket publisher
(``--events`` events at ``--events-per-second``, checkpointed with pings like the Prefect client), an events-out
subscriber, a notification policy (Running and Completed) posting to a local webhook receiver, and a deployment
scheduled every second.

Scenarios: ``api=1``, ``api=2``, ``api=3`` without kills, then ``api=3 + kills``: one API process (the one the
websockets are on) and the services process holding the beat lease are SIGKILLed once a third of the life cycle's
state changes are done. Each scenario gets a fresh database and Redis namespace.

Printed per scenario: life-cycle ops/s (successful calls per second of wall time) and calls, failed calls by reason,
state changes ACCEPTed and whether each is in the history exactly once, events sent / stored / lost / stored twice,
notifications expected (states whose event was recorded) / delivered / duplicated, states with no event (committed
by the killed process just before the kill), scheduled runs and duplicated start times, the beat takeover time and
the subscriber's reconnects. The last line is one JSON object with every figure.

Run it (PostgreSQL, Redis and nginx installed; scripts/nginx.sh installs nginx)::

    .venv/bin/python benchmarks/replicas.py --runs 200 --concurrency 16

Options: --runs, --tasks-per-run, --concurrency, --events, --events-per-second, --database (a PostgreSQL admin
DSN), --redis-url, --scenarios (comma-separated among api=1, api=2, api=3, kills). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

import httpx  # noqa: E402
import redis  # noqa: E402

from benchmarks.api_lifecycle import _postgres, _prepare_database  # noqa: E402
from tests.acceptance.notifications_check import webhook_receiver  # noqa: E402
from tests.acceptance.replica_cluster import (  # noqa: E402
    TICK,
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
from tests.nginx_proxy import nginx_binary  # noqa: E402

SCENARIOS = ("api=1", "api=2", "api=3", "kills")
SETTLE_SECONDS = 60.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Several Baton API processes behind nginx, with and without kills.")
    parser.add_argument("--runs", type=int, default=200, help="flow runs of the life cycle (default 200)")
    parser.add_argument("--tasks-per-run", type=int, default=3, help="task runs per flow run (default 3)")
    parser.add_argument("--concurrency", type=int, default=16, help="life-cycle clients (default 16)")
    parser.add_argument("--events", type=int, default=3000, help="events sent over the websocket (default 3000)")
    parser.add_argument("--events-per-second", type=float, default=200.0, help="their rate (default 200)")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated among " + ", ".join(SCENARIOS)
    )
    args = parser.parse_args(argv)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def scenario(args: argparse.Namespace, name: str, workdir: Path) -> dict[str, Any]:
    """Run one scenario on a fresh database and namespace; its figures."""
    api_processes = 3 if name == "kills" else int(name.split("=")[1])
    database_name = f"baton_bench_replicas_{uuid.uuid4().hex[:8]}"
    admin = args.database
    database_url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{database_name}"
    asyncio.run(_postgres(admin, f'CREATE DATABASE "{database_name}"'))
    namespace = f"baton-bench-{uuid.uuid4().hex[:8]}"
    lease = redis.Redis.from_url(args.redis_url)
    try:
        asyncio.run(_prepare_database(database_url, mint_key=False))
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))},
            **cluster_settings(database_url, args.redis_url, namespace, workdir),
            # The processes run this checkout's Baton, whatever the virtualenv has installed.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
        }
        with (
            running_cluster(env, workdir, api_processes, services_processes=1) as cluster,
            webhook_receiver() as (hook_url, received),
            httpx.Client(base_url=cluster.api_url, timeout=10) as api,
        ):
            leader_key = f"{namespace}:beat:leader"
            first_leader = wait_until(lambda: lease.get(leader_key), 60)
            leader_process = cluster.services[0][0]
            cluster.start_services()
            wait_until(lambda: lease.zcard(f"{namespace}:queue:__heartbeats__") >= 2, 60)
            notification_policy(api, hook_url)
            scheduled_flow = api.post("/flows/", json={"name": "scheduled"}).json()
            deployment_id = scheduled_deployment(api, scheduled_flow["id"])
            target_run = api.post("/flow_runs/", json={"flow_id": scheduled_flow["id"]}).json()["id"]

            publisher = EventPublisher(cluster.ws_url, target_run, args.events, args.events_per_second)
            publisher_thread = publisher.start()
            wait_until(lambda: publisher.upstreams, 10)
            subscriber = EventSubscriber(cluster.ws_url, TICK, first_upstream=publisher.upstreams[0])
            subscriber.start()
            load = LifecycleLoad(cluster.api_url, args.runs, args.concurrency, args.tasks_per_run)
            load_thread = load.run_in_thread()

            takeover_seconds = None
            killed_wall = None
            if name == "kills":
                expected_changes = args.runs * (3 + 2 * args.tasks_per_run)
                wait_until(lambda: len(load.accepted) >= expected_changes // 3, 600)
                cluster.kill_api(int(publisher.upstreams[0].rsplit(":", 1)[1]))
                cluster.kill_services(leader_process)
                killed_at, killed_wall = time.monotonic(), time.time()
                new_leader = None
                while new_leader in (None, first_leader) and time.monotonic() - killed_at < 30:
                    time.sleep(0.02)
                    new_leader = lease.get(leader_key)
                takeover_seconds = round(time.monotonic() - killed_at, 2)

            load_thread.join()
            publisher_thread.join()
            subscriber_received_before_end = len(subscriber.received)
            subscriber.stop()

            history = state_history(database_url)
            sent = set(publisher.sent_ids)
            wait_until(lambda: set(stored_tick_ids(database_url)) >= sent, SETTLE_SECONDS)
            stored = stored_tick_ids(database_url)
            states = recorded_notified_states(database_url, SETTLE_SECONDS)
            evented = {(run_id, state) for run_id, state, _, has_event in states if has_event}
            in_flight = (
                deliveries_in_flight_at(database_url, dt.datetime.fromtimestamp(killed_wall, dt.UTC))
                if killed_wall
                else set()
            )
            wait_until(lambda: set(deliveries(received)) >= evented - in_flight, SETTLE_SECONDS)
            time.sleep(1.0)
            delivered = deliveries(received)
            return {
                "scenario": name,
                "api_processes": api_processes,
                "lifecycle_ops_per_second": round(load.ops_per_second, 1),
                "lifecycle_calls": load.calls,
                "lifecycle_failed_calls": load.results.failed_calls,
                "lifecycle_failures": dict(load.results.errors_by_reason),
                "runs_completed": load.results.runs_completed,
                "wall_seconds": round(load.wall_seconds, 1),
                "accepted_state_changes": len(load.accepted),
                "accepted_not_once_in_history": sum(1 for change in load.accepted if history[change] != 1),
                "history_rows_twice": sum(1 for count in history.values() if count > 1),
                "events_sent": len(sent),
                "events_stored": len(set(stored)),
                "events_lost": len(sent - set(stored)),
                "events_stored_twice": len(stored) - len(set(stored)),
                "publisher_reconnects": publisher.reconnects,
                "notifications_expected": len(evented),
                "notifications_delivered": len(set(delivered) & evented),
                "notifications_duplicated": sum(1 for count in delivered.values() if count > 1),
                "notifications_claimed_by_killed_process": len((evented - set(delivered)) & in_flight),
                "states_without_event": len(states) - len(evented),
                "scheduled_runs": scheduled_run_count(database_url, deployment_id),
                "scheduled_start_times_twice": len(duplicated_start_times(database_url)),
                "beat_takeover_seconds": takeover_seconds,
                "subscriber_reconnects": len(subscriber.disconnects),
                "subscriber_events": subscriber_received_before_end,
                "subscriber_upstreams": len(set(subscriber.upstreams)),
                "killed_at": killed_wall,
            }
    finally:
        asyncio.run(_postgres(admin, f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)'))
        keys = list(lease.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            lease.delete(*keys)


def print_report(results: list[dict[str, Any]]) -> None:
    print(
        f"{'scenario':<10} {'ops/s':>8} {'calls':>7} {'failed':>7} {'accepted':>9} {'not once':>9} "
        f"{'ev lost':>8} {'ev twice':>9} {'notif':>11} {'dup':>4} {'no event':>9} {'sched':>6} {'takeover':>9}"
    )
    for result in results:
        notifications = f"{result['notifications_delivered']}/{result['notifications_expected']}"
        takeover = result["beat_takeover_seconds"]
        print(
            f"{result['scenario']:<10} {result['lifecycle_ops_per_second']:>8} {result['lifecycle_calls']:>7} "
            f"{result['lifecycle_failed_calls']:>7} {result['accepted_state_changes']:>9} "
            f"{result['accepted_not_once_in_history']:>9} {result['events_lost']:>8} "
            f"{result['events_stored_twice']:>9} {notifications:>11} {result['notifications_duplicated']:>4} "
            f"{result['states_without_event']:>9} {result['scheduled_runs']:>6} "
            f"{'-' if takeover is None else f'{takeover} s':>9}"
        )
        if result["lifecycle_failures"]:
            print(f"           failures: {result['lifecycle_failures']}")
    print(json.dumps(results))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if nginx_binary() is None:
        print("error: nginx is not installed (bash scripts/nginx.sh)", file=sys.stderr)
        return 1
    results = []
    for name in args.scenarios:
        with tempfile.TemporaryDirectory(prefix=f"baton-replicas-{name.replace('=', '')}-") as workdir:
            results.append(scenario(args, name, Path(workdir)))
            print(f"# {name}: {results[-1]['lifecycle_ops_per_second']} ops/s", file=sys.stderr, flush=True)
    print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
