"""Benchmark concurrency slots: acquire + release pairs per second, many clients against one global limit.

What it measures: ``--concurrency`` async clients (each with its own HTTP connection, as separate flow processes
would have) share ``--pairs`` acquisitions of one slot of a global concurrency limit of size ``--limit``. A pair is

1. ``POST /v2/concurrency_limits/increment-with-lease`` (1 slot, 60 s lease, a flow-run holder). A 423 (limit
   full) is not an error: the client sleeps about ``--retry-sleep`` seconds (0.5x to 1.5x, not the Retry-After,
   which is sized for real work) and asks again; the 423s are counted. With a limit smaller than the number of
   clients, a very short sleep turns the benchmark into a flood of refused requests that measures nothing useful;
2. then yields to the event loop once (so that other clients' answers are seen while it holds the slot), and
3. ``POST /v2/concurrency_limits/decrement-with-lease`` with the lease id (must answer 204).

Every other status and every exception is an error. Clients also count how many of them hold a slot at once (a
client holds one from the 200 until it sends the release), which must never exceed ``--limit``. At the end the
limit is read back: any ``active_slots`` or holder left over is a lost slot. The limit is created at the start
(with a unique name) and deleted at the end.

The output is a table on stdout and, as the last line, one JSON object with every figure. The exit code is 0
even when calls fail (errors are results); it is 1 only if the server is unreachable at the start.

Run it (server already running)::

    .venv/bin/python benchmarks/concurrency.py --api-url http://127.0.0.1:4200/api --pairs 3000 --concurrency 32

Options: --pairs, --concurrency, --limit, --retry-sleep, --server-pid, --label. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

API_VERSION_HEADER = {"X-PREFECT-API-VERSION": "0.8.4"}
V2 = "/v2/concurrency_limits"
LEASE_SECONDS = 60


@dataclass
class Results:
    acquire_latencies: list[float] = field(default_factory=list)
    release_latencies: list[float] = field(default_factory=list)
    pairs: int = 0
    refused: int = 0
    holding: int = 0
    max_holding: int = 0
    errors_by_reason: Counter[str] = field(default_factory=Counter)
    errors_5xx: int = 0

    def error(self, reason: str, status: int | None = None) -> None:
        self.errors_by_reason[reason] += 1
        if status is not None and status >= 500:
            self.errors_5xx += 1


def percentile_ms(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * 1000.0, 2)


def make_client(api_url: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=api_url, headers=API_VERSION_HEADER, timeout=httpx.Timeout(30.0), limits=limits)


async def one_pair(client: httpx.AsyncClient, name: str, args: argparse.Namespace, results: Results) -> None:
    body = {
        "names": [name],
        "slots": 1,
        "mode": "concurrency",
        "lease_duration": LEASE_SECONDS,
        "holder": {"type": "flow_run", "id": str(uuid.uuid4())},
    }
    while True:
        started = time.perf_counter()
        try:
            response = await client.post(f"{V2}/increment-with-lease", json=body)
        except httpx.HTTPError as exc:
            results.error(f"acquire: {type(exc).__name__}")
            return
        results.acquire_latencies.append(time.perf_counter() - started)
        if response.status_code == 423:
            results.refused += 1
            await asyncio.sleep(args.retry_sleep * random.uniform(0.5, 1.5))
            continue
        if response.status_code != 200:
            results.error(f"acquire: HTTP {response.status_code} {response.text[:80]}", response.status_code)
            return
        lease_id = response.json()["lease_id"]
        break
    results.holding += 1
    results.max_holding = max(results.max_holding, results.holding)
    await asyncio.sleep(0)
    results.holding -= 1
    started = time.perf_counter()
    try:
        response = await client.post(f"{V2}/decrement-with-lease", json={"lease_id": lease_id})
    except httpx.HTTPError as exc:
        results.error(f"release: {type(exc).__name__}")
        return
    results.release_latencies.append(time.perf_counter() - started)
    if response.status_code != 204:
        results.error(f"release: HTTP {response.status_code} {response.text[:80]}", response.status_code)
        return
    results.pairs += 1


async def worker(args: argparse.Namespace, name: str, remaining: list[int], results: Results) -> None:
    async with make_client(args.api_url, 1) as client:
        while remaining[0] > 0:
            remaining[0] -= 1
            await one_pair(client, name, args, results)


def server_rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        import psutil

        process = psutil.Process(pid)
        return round(
            (process.memory_info().rss + sum(child.memory_info().rss for child in process.children(recursive=True)))
            / (1024 * 1024),
            1,
        )
    except Exception as exc:  # psutil missing or the process gone: the figure is optional
        print(f"cannot read the RSS of pid {pid}: {exc}", file=sys.stderr)
        return None


async def run(args: argparse.Namespace) -> dict[str, Any] | None:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    async with make_client(args.api_url, 2) as admin:
        try:
            health = await admin.get("/health")
        except httpx.HTTPError as exc:
            print(f"error: cannot reach {args.api_url}/health: {exc}", file=sys.stderr)
            return None
        if health.status_code != 200:
            print(f"error: {args.api_url}/health answered {health.status_code}", file=sys.stderr)
            return None
        created = await admin.post(f"{V2}/", json={"name": name, "limit": args.limit})
        if created.status_code != 201:
            print(f"error: cannot create the limit: {created.status_code} {created.text}", file=sys.stderr)
            return None
        results = Results()
        remaining = [args.pairs]
        started = time.perf_counter()
        await asyncio.gather(*(worker(args, name, remaining, results) for _ in range(args.concurrency)))
        wall = time.perf_counter() - started
        final = (await admin.get(f"{V2}/{name}")).json()
        await admin.delete(f"{V2}/{name}")
    lost = int(final.get("active_slots", 0)) + len(final.get("holders", []))
    errors = sum(results.errors_by_reason.values())
    return {
        "label": args.label,
        "api_url": args.api_url,
        "pairs_requested": args.pairs,
        "concurrency": args.concurrency,
        "limit": args.limit,
        "retry_sleep": args.retry_sleep,
        "wall_seconds": round(wall, 3),
        "pairs": results.pairs,
        "pairs_per_second": round(results.pairs / wall, 1) if wall > 0 else None,
        "refusals_423": results.refused,
        "requests_per_second": round((len(results.acquire_latencies) + len(results.release_latencies)) / wall, 1)
        if wall > 0
        else None,
        "max_holders_seen": results.max_holding,
        "lost_slots": lost,
        "errors": errors,
        "errors_5xx": results.errors_5xx,
        "errors_by_reason": dict(results.errors_by_reason.most_common()),
        "acquire_ms": {
            "p50": percentile_ms(results.acquire_latencies, 0.5),
            "p95": percentile_ms(results.acquire_latencies, 0.95),
            "p99": percentile_ms(results.acquire_latencies, 0.99),
        },
        "release_ms": {
            "p50": percentile_ms(results.release_latencies, 0.5),
            "p95": percentile_ms(results.release_latencies, 0.95),
            "p99": percentile_ms(results.release_latencies, 0.99),
        },
        "server_rss_mb": server_rss_mb(args.server_pid),
    }


def print_report(report: dict[str, Any]) -> None:
    label = f" [{report['label']}]" if report["label"] else ""
    print(f"Concurrency slots benchmark{label}: {report['api_url']}")
    print(
        f"pairs={report['pairs_requested']} concurrency={report['concurrency']} limit={report['limit']} "
        f"retry_sleep={report['retry_sleep']}s"
    )
    print()
    print(f"pairs completed:    {report['pairs']} in {report['wall_seconds']:.2f} s")
    print(f"throughput:         {report['pairs_per_second']} pairs/s ({report['requests_per_second']} requests/s)")
    print(f"423 refusals:       {report['refusals_423']}")
    print(
        f"acquire ms:         p50 {report['acquire_ms']['p50']}  p95 {report['acquire_ms']['p95']}  "
        f"p99 {report['acquire_ms']['p99']}"
    )
    print(
        f"release ms:         p50 {report['release_ms']['p50']}  p95 {report['release_ms']['p95']}  "
        f"p99 {report['release_ms']['p99']}"
    )
    print(f"max holders seen:   {report['max_holders_seen']} (limit {report['limit']})")
    print(f"lost slots:         {report['lost_slots']}")
    print(f"errors:             {report['errors']} (5xx: {report['errors_5xx']})")
    for reason, count in report["errors_by_reason"].items():
        print(f"  {count:>6}  {reason}")
    if report["server_rss_mb"] is not None:
        print(f"server RSS:         {report['server_rss_mb']} MiB")
    print(json.dumps(report), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Measure acquire + release pairs per second on one global limit.")
    parser.add_argument("--api-url", default="http://127.0.0.1:4200/api", help="base URL of the API")
    parser.add_argument("--pairs", type=int, default=3000, help="acquire + release pairs in all (default 3000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--limit", type=int, default=32, help="size of the limit (default 32)")
    parser.add_argument(
        "--retry-sleep", type=float, default=0.2, help="seconds a refused client waits, on average (default 0.2)"
    )
    parser.add_argument("--server-pid", type=int, default=None, help="report this process's RSS (and its children's)")
    parser.add_argument("--label", default="", help="free text echoed in the output")
    args = parser.parse_args(argv)
    for option in ("pairs", "concurrency", "limit"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be at least 1")
    args.api_url = args.api_url.rstrip("/")
    return args


def main(argv: list[str] | None = None) -> int:
    report = asyncio.run(run(parse_args(argv)))
    if report is None:
        return 1
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
