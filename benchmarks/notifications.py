"""Notifications: a burst of failed flow runs, each matching several Slack-webhook policies, and how fast the messages
reach the webhook.

Starts Baton as a user would (`baton server start`, plus `baton server services` in Redis mode) on a scratch database,
with the default throttle (`BATON_NOTIFICATIONS_THROTTLE_SECONDS=60`). A webhook receiver (Tornado, in its own
process, so the load of the benchmark's clients does not delay its clock) listens on loopback with one path per policy,
and records each request's arrival time and body. Over the REST API the benchmark then creates, like a user would:

* `--policies` `slack-webhook` block documents (`/block_types/slug/slack-webhook`, `/block_schemas/filter`,
  `POST /block_documents/`), each pointing at its own path of the receiver;
* one policy per document (`POST /flow_run_notification_policies/`: state_names ["Failed"], tags ["bench"], and the
  template "bench {flow_run_notification_policy_id} {flow_run_id}", so that every message names its policy and run);
* one flow and `--runs` flow runs tagged "bench", each moved to Running (`set_state`), then waits until the server
  has recorded every Running event (its actors are idle again).

One warm-up run fails first and its `--policies` messages must arrive (it proves the actors run and warms them up;
it is left out of the figures). Then the burst: `--concurrency` clients, each with its own connection, move every run
to Failed (`POST /flow_runs/{id}/set_state`) as fast as the server answers.

Measured, for each message: the latency from the state change (the moment the client has the 201 answer of its
FAILED `set_state`, when the state is committed) to its arrival at the receiver, p50 / p90 / p99 / max; the same from
the state's own timestamp (set by the server); deliveries/s over the burst (first FAILED request to last message);
duplicates by (policy, run); the statuses of the deliveries as `POST /api/notification_deliveries/filter` shows them
(all must be SENT, none FOLDED: each run fails once, so the throttle must not hold anything back); peak RSS and the CPU
seconds used during the burst by the API process, the services processes, PostgreSQL, Redis, the receiver and the
benchmark itself.

Prints a summary and, on its last line, one JSON object. Everything it starts (processes, the scratch PostgreSQL
database, the Redis keys under a per-run namespace, the temporary BATON_HOME) is removed at the end, also on Ctrl+C.

    .venv/bin/python benchmarks/notifications.py --mode embedded --database sqlite
    .venv/bin/python benchmarks/notifications.py --mode embedded --database postgresql
    .venv/bin/python benchmarks/notifications.py --mode redis --database postgresql --services-processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import queue
import re
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import psutil

# The scratch environment, process accounting and database polling of the events benchmark (run as a script, this
# file's folder is on sys.path).
from events_ingest import (
    Database,
    Environment,
    cpu_seconds,
    free_port,
    percentile,
    process_trees,
    rss,
    wait_healthy,
)

THROTTLE_SECONDS = "60"  # the server's default, set explicitly: a run that fails once must never be folded
MESSAGE_TEMPLATE = "bench {flow_run_notification_policy_id} {flow_run_id}"
MESSAGE_PATTERN = re.compile(r"bench ([0-9a-f-]{36}) ([0-9a-f-]{36})")
TARGET_P99_SECONDS = 1.0
PAGE = 200  # the server's default page size of filter endpoints
SETUP_TIMEOUT = 120.0
WAITING_STATUSES = ("PENDING", "SENDING", "RETRYING")


# --- the webhook receiver, in its own process ------------------------------------------------------------------------


def run_receiver(port: int, records: multiprocessing.Queue[Any], ready: Any) -> None:
    """Serve POST /hook/<index> on 127.0.0.1:`port`, answering 200 "ok" (as Slack does) and putting
    (arrival wall time, index, body) on `records` for each request."""
    import tornado.httpserver
    import tornado.ioloop
    import tornado.web

    class Hook(tornado.web.RequestHandler):
        def post(self, index: str) -> None:
            records.put((time.time(), int(index), self.request.body))
            self.write("ok")

    async def serve() -> None:
        app = tornado.web.Application([(r"/hook/(\d+)", Hook)], log_function=lambda handler: None)
        server = tornado.httpserver.HTTPServer(app)
        server.listen(port, address="127.0.0.1")
        ready.set()
        await asyncio.Event().wait()

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it, after its own cleanup
    asyncio.run(serve())


@dataclass
class Receipt:
    arrived: float
    index: int
    policy_id: str | None
    flow_run_id: str | None


class Receiver:
    """The receiver process and a thread collecting its records as they come."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.records: multiprocessing.Queue[Any] = context.Queue()
        ready = context.Event()
        self.process = context.Process(target=run_receiver, args=(self.port, self.records, ready), daemon=True)
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the webhook receiver did not start")
        self.receipts: list[Receipt] = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, name="receipts", daemon=True)
        self._thread.start()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{index}"

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                arrived, index, body = self.records.get(timeout=0.1)
            except queue.Empty:
                continue
            text = json.loads(body).get("text", "")
            found = MESSAGE_PATTERN.search(text)
            receipt = Receipt(arrived, index, *(found.groups() if found else (None, None)))
            with self.lock:
                self.receipts.append(receipt)

    def snapshot(self) -> list[Receipt]:
        with self.lock:
            return list(self.receipts)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)


# --- setup over the REST API -----------------------------------------------------------------------------------------


async def create_policies(client: httpx.AsyncClient, receiver: Receiver, count: int) -> list[str]:
    """`count` Slack-webhook block documents, one receiver path each, and one policy per document; the policy ids."""
    block_type = (await client.get("/block_types/slug/slack-webhook")).raise_for_status().json()
    body = {"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    schemas = (await client.post("/block_schemas/filter", json=body)).raise_for_status().json()
    policy_ids = []
    for index in range(count):
        document = {
            "name": f"bench-slack-{index}",
            "block_type_id": block_type["id"],
            "block_schema_id": schemas[0]["id"],
            "data": {"url": receiver.url(index), "notify_type": "failure"},
        }
        created = (await client.post("/block_documents/", json=document)).raise_for_status().json()
        policy = {
            "name": f"bench-{index}",
            "state_names": ["Failed"],
            "tags": ["bench"],
            "block_document_id": created["id"],
            "message_template": MESSAGE_TEMPLATE,
        }
        policy_ids.append(
            (await client.post("/flow_run_notification_policies/", json=policy)).raise_for_status().json()["id"]
        )
    return policy_ids


async def each_concurrently(api_url: str, items: list[Any], concurrency: int, step: Any) -> None:
    """`await step(client, item)` for every item, over `concurrency` clients with a connection each."""
    pending = iter(items)

    async def work() -> None:
        async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
            for item in pending:
                await step(client, item)

    await asyncio.gather(*(work() for _ in range(concurrency)))


async def set_state(client: httpx.AsyncClient, run_id: str, state_type: str) -> httpx.Response:
    answer = await client.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type}})
    answer.raise_for_status()
    if answer.json()["status"] != "ACCEPT":
        raise RuntimeError(f"set_state {state_type} of {run_id} was not accepted: {answer.text}")
    return answer


async def create_running_runs(api_url: str, flow_id: str, count: int, concurrency: int) -> list[str]:
    run_ids: list[str] = []

    async def one(client: httpx.AsyncClient, index: int) -> None:
        body = {"flow_id": flow_id, "name": f"bench-notify-{index}", "tags": ["bench"]}
        run = (await client.post("/flow_runs/", json=body)).raise_for_status().json()
        await set_state(client, run["id"], "RUNNING")
        run_ids.append(run["id"])

    await each_concurrently(api_url, list(range(count)), concurrency, one)
    return run_ids


async def wait_for_events(environment: Environment, database: Database, event: str, count: int) -> None:
    """Until the server has stored `count` events named `event` (its actors have worked off those state changes)."""
    deadline = time.perf_counter() + SETUP_TIMEOUT
    where = f"WHERE event = '{event}'"
    while await database.count("events", where) < count:
        environment.check_alive()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the server did not record {count} {event} events within {SETUP_TIMEOUT} s")
        await asyncio.sleep(0.1)


async def read_deliveries(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every delivery, as POST /notification_deliveries/filter pages them."""
    rows: list[dict[str, Any]] = []
    while True:
        body = {"limit": PAGE, "offset": len(rows)}
        page = (await client.post("/notification_deliveries/filter", json=body)).raise_for_status().json()
        rows.extend(page)
        if len(page) < PAGE:
            return rows


# --- the burst -------------------------------------------------------------------------------------------------------


@dataclass
class Failure:
    requested: float
    answered: float
    state_timestamp: float


@dataclass
class Burst:
    failures: dict[str, Failure] = field(default_factory=dict)
    started: float = 0.0
    requests_done: float = 0.0
    completed_at: float | None = None
    peak_api_rss: int = 0
    peak_services_rss: int = 0


async def fail_all(api_url: str, run_ids: list[str], concurrency: int, burst: Burst) -> None:
    async def one(client: httpx.AsyncClient, run_id: str) -> None:
        requested = time.time()
        answer = await set_state(client, run_id, "FAILED")
        answered = time.time()
        stamp = datetime.fromisoformat(answer.json()["state"]["timestamp"]).timestamp()
        burst.failures[run_id] = Failure(requested, answered, stamp)

    await each_concurrently(api_url, run_ids, concurrency, one)
    burst.requests_done = time.time()


async def wait_for_receipts(
    environment: Environment,
    receiver: Receiver,
    expected: set[tuple[str, str]],
    deadline: float,
    burst: Burst,
    trees: dict[str, list[psutil.Process]],
) -> None:
    """Until every expected (policy, run) message has arrived, or the deadline; samples RSS meanwhile."""
    next_rss = 0.0
    while time.perf_counter() < deadline:
        environment.check_alive()
        seen = {(r.policy_id, r.flow_run_id) for r in receiver.snapshot()}
        if expected <= seen:
            burst.completed_at = time.time()
            return
        if time.perf_counter() >= next_rss:
            burst.peak_api_rss = max(burst.peak_api_rss, rss(trees["api"]))
            burst.peak_services_rss = max(burst.peak_services_rss, rss(trees["services"]))
            next_rss = time.perf_counter() + 0.5
        await asyncio.sleep(0.01)


async def wait_for_statuses(client: httpx.AsyncClient, within: float) -> list[dict[str, Any]]:
    """The deliveries once none is waiting any more (a message arrives just before its SENT is written)."""
    deadline = time.perf_counter() + within
    while True:
        rows = await read_deliveries(client)
        if not any(row["status"] in WAITING_STATUSES for row in rows) or time.perf_counter() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def measure(environment: Environment, receiver: Receiver, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=environment.api_url, timeout=60) as client:
        healthy_seconds = await wait_healthy(environment, client)
        policy_ids = await create_policies(client, receiver, args.policies)
        flow = (await client.post("/flows/", json={"name": "bench-notify-flow"})).raise_for_status().json()
        database = Database(environment)
        await database.open()
        try:
            warm_ids = await create_running_runs(environment.api_url, flow["id"], 1, 1)
            setup_started = time.perf_counter()
            run_ids = await create_running_runs(environment.api_url, flow["id"], args.runs, args.concurrency)
            setup_seconds = time.perf_counter() - setup_started
            await wait_for_events(environment, database, "prefect.flow-run.Running", args.runs + 1)

            # Warm-up: one failed run, whose messages must all arrive before the burst.
            await each_concurrently(environment.api_url, warm_ids, 1, lambda c, r: set_state(c, r, "FAILED"))
            warm = {(policy, warm_ids[0]) for policy in policy_ids}
            warm_burst = Burst()
            trees = process_trees(environment)
            await wait_for_receipts(environment, receiver, warm, time.perf_counter() + SETUP_TIMEOUT, warm_burst, trees)
            if warm_burst.completed_at is None:
                raise RuntimeError(f"the warm-up messages never arrived:\n{environment.log_tail('server')}")
            await wait_for_events(environment, database, "prefect.flow-run.Failed", 1)
            receipts_before = len(receiver.snapshot())

            expected = {(policy, run) for policy in policy_ids for run in run_ids}
            burst = Burst()
            trees = process_trees(environment)
            trees["receiver"] = [psutil.Process(receiver.process.pid)]
            cpu_before = {name: cpu_seconds(tree) for name, tree in trees.items()}
            machine_before = psutil.cpu_times()
            burst.started = time.time()
            wall_start = time.perf_counter()
            sending = asyncio.ensure_future(fail_all(environment.api_url, run_ids, args.concurrency, burst))
            try:
                await wait_for_receipts(environment, receiver, expected, wall_start + args.duration_cap, burst, trees)
            finally:
                await sending
            wall = time.perf_counter() - wall_start
            cpu_trees = process_trees(environment)  # again: PostgreSQL backends opened meanwhile
            cpu_trees["receiver"] = trees["receiver"]
            cpu_after = {name: cpu_seconds(tree) for name, tree in cpu_trees.items()}
            machine_after = psutil.cpu_times()
            await asyncio.sleep(args.settle)  # late duplicates, if any, arrive meanwhile
            deliveries = await wait_for_statuses(client, args.settle + 30)
        finally:
            await database.close()
    receipts = receiver.snapshot()[receipts_before:]
    cpu = {
        name: round(sum(after - cpu_before[name].get(pid, 0.0) for pid, after in cpu_after[name].items()), 2)
        for name in cpu_after
    }
    busy = sum(
        getattr(machine_after, name) - getattr(machine_before, name)
        for name in machine_after._fields
        if name not in ("idle", "iowait", "steal", "guest", "guest_nice")
    )
    cpu["machine_busy"] = round(busy, 2)
    cpu["other"] = round(busy - sum(v for k, v in cpu.items() if k != "machine_busy"), 2)
    return build_report(
        args, burst, receipts, expected, set(run_ids), deliveries, cpu, wall, setup_seconds, healthy_seconds
    )


def build_report(
    args: argparse.Namespace,
    burst: Burst,
    receipts: list[Receipt],
    expected: set[tuple[str, str]],
    run_ids: set[str],
    deliveries: list[dict[str, Any]],
    cpu: dict[str, float],
    wall: float,
    setup_seconds: float,
    healthy_seconds: float,
) -> dict[str, Any]:
    pairs = Counter((r.policy_id, r.flow_run_id) for r in receipts)
    measured = [r for r in receipts if (r.policy_id, r.flow_run_id) in expected]
    first_of_pair: dict[tuple[str | None, str | None], Receipt] = {}
    for receipt in sorted(measured, key=lambda r: r.arrived):
        first_of_pair.setdefault((receipt.policy_id, receipt.flow_run_id), receipt)
    from_answer, from_stamp = [], []
    for (_, run), receipt in first_of_pair.items():
        failure = burst.failures.get(str(run))
        if failure is not None:
            from_answer.append(receipt.arrived - failure.answered)
            from_stamp.append(receipt.arrived - failure.state_timestamp)
    arrivals = sorted(r.arrived for r in first_of_pair.values())
    statuses = Counter(row["status"] for row in deliveries if row["flow_run_id"] in run_ids)
    expected_count = len(expected)
    burst_seconds = (arrivals[-1] - burst.started) if arrivals else None

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    def stats(values: list[float]) -> dict[str, float | None]:
        return {
            "p50_ms": ms(percentile(values, 0.50)),
            "p90_ms": ms(percentile(values, 0.90)),
            "p99_ms": ms(percentile(values, 0.99)),
            "max_ms": ms(max(values) if values else None),
        }

    latency = stats(from_answer)
    duplicates = sum(count - 1 for count in pairs.values() if count > 1)
    unexpected = sum(count for pair, count in pairs.items() if pair not in expected)
    check = {
        "received": len(first_of_pair),
        "expected": expected_count,
        "duplicates": duplicates,
        "unexpected": unexpected,
        "wrong_path": sum(1 for r in measured if r.policy_id is None),
        "api_statuses": dict(statuses),
    }
    check["ok"] = (
        check["received"] == expected_count
        and duplicates == 0
        and unexpected == 0
        and statuses == Counter({"SENT": expected_count})
    )
    p99 = latency["p99_ms"]
    return {
        "mode": args.mode,
        "database": args.database,
        "runs": args.runs,
        "policies": args.policies,
        "concurrency": args.concurrency,
        "services_processes": args.services_processes if args.mode == "redis" else None,
        "services_threads": args.services_threads if args.mode == "redis" else None,
        "throttle_seconds": float(THROTTLE_SECONDS),
        "completed": burst.completed_at is not None,
        "latency_from_answer": latency,
        "latency_from_state_timestamp": stats(from_stamp),
        "failed_requests_seconds": round(burst.requests_done - burst.started, 3) if burst.requests_done else None,
        "failed_requests_per_second": (
            round(len(burst.failures) / (burst.requests_done - burst.started)) if burst.requests_done else None
        ),
        "burst_seconds": round(burst_seconds, 3) if burst_seconds else None,
        "deliveries_per_second": round(len(first_of_pair) / burst_seconds) if burst_seconds else None,
        "first_delivery_ms": ms(arrivals[0] - burst.started) if arrivals else None,
        "target_p99_ms": TARGET_P99_SECONDS * 1000,
        "target_met": p99 is not None and p99 < TARGET_P99_SECONDS * 1000 and check["ok"],
        "wall_seconds": round(wall, 3),
        "cpu_seconds": cpu,
        "cpu_cores_busy": round(cpu["machine_busy"] / wall, 2) if wall > 0 else None,
        "peak_rss_mb": {
            "api": round(burst.peak_api_rss / 2**20, 1),
            "services": round(burst.peak_services_rss / 2**20, 1) if args.mode == "redis" else None,
        },
        "setup_seconds": round(setup_seconds, 2),
        "server_healthy_seconds": round(healthy_seconds, 2),
        "check": check,
    }


def print_report(report: dict[str, Any]) -> None:
    services = ""
    if report["mode"] == "redis":
        services = f", {report['services_processes']} services processes x {report['services_threads']} threads"
    check = report["check"]
    cpu = ", ".join(f"{name} {value}" for name, value in report["cpu_seconds"].items())

    def line(stats: dict[str, Any]) -> str:
        return f"p50 {stats['p50_ms']} ms, p90 {stats['p90_ms']} ms, p99 {stats['p99_ms']} ms, max {stats['max_ms']} ms"

    incomplete = "" if report["completed"] else "  (INCOMPLETE)"
    verdict = "met" if report["target_met"] else "MISSED"
    lines = [
        f"Notifications: {report['mode']} + {report['database']}, {report['runs']} runs x {report['policies']} "
        f"policies, {report['concurrency']} clients{services}, throttle {report['throttle_seconds']:g} s",
        f"  FAILED requests:   {report['failed_requests_per_second']}/s ({report['failed_requests_seconds']} s)",
        f"  deliveries:        {check['received']}/{check['expected']} received{incomplete}, "
        f"{report['deliveries_per_second']}/s (first after {report['first_delivery_ms']} ms, "
        f"last after {report['burst_seconds']} s)",
        f"  state -> receipt:  {line(report['latency_from_answer'])}  (target p99 < "
        f"{report['target_p99_ms']:g} ms: {verdict})",
        f"  from state stamp:  {line(report['latency_from_state_timestamp'])}",
        f"  check:             {check['duplicates']} duplicates, {check['unexpected']} unexpected, API statuses "
        f"{check['api_statuses']}: {'ok' if check['ok'] else 'MISMATCH'}",
        f"  CPU seconds:       {cpu} over {report['wall_seconds']} s ({report['cpu_cores_busy']} cores busy)",
        f"  peak RSS MiB:      api {report['peak_rss_mb']['api']}, services {report['peak_rss_mb']['services']}",
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
    parser.add_argument("--runs", type=int, default=1000, help="flow runs that fail in the burst (default 1000)")
    parser.add_argument("--policies", type=int, default=3, help="matching policies, one webhook each (default 3)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients sending set_state (default 32)")
    parser.add_argument("--services-processes", type=int, default=2, help="redis mode (default 2)")
    parser.add_argument("--services-threads", type=int, default=4, help="redis mode (default 4, as the CLI)")
    parser.add_argument("--duration-cap", type=float, default=180.0, help="give up waiting after this many seconds")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait for late duplicates (default 2)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--env", action="append", default=[], metavar="BATON_X=V", help="extra server setting")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.policies < 1 or args.concurrency < 1:
        parser.error("--runs, --policies and --concurrency must be at least 1")
    args.env = [f"BATON_NOTIFICATIONS_THROTTLE_SECONDS={THROTTLE_SECONDS}", *args.env]
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    environment = Environment(args)
    receiver: Receiver | None = None
    try:
        receiver = Receiver()
        environment.start()
        report = asyncio.run(measure(environment, receiver, args))
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        try:
            environment.cleanup()
        finally:
            if receiver is not None:
                receiver.stop()
    print_report(report)
    return 0 if report["completed"] and report["check"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
