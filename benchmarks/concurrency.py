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

The clients speak HTTP/1.1 over plain asyncio streams, one keep-alive connection each (on uvloop when it is
installed): httpx cost more CPU per request than the server, so on a 2-core machine the benchmark measured itself.
The report gives the CPU time of the benchmark process and, with ``--server-pid`` or ``--database``, of the server
per request: figures that move less than the wall-clock ones when other work shares the machine.

The output is a table on stdout and, as the last line, one JSON object with every figure. The exit code is 0
even when calls fail (errors are results); it is 1 only if the server is unreachable at the start.

Run it against a server of its own (a fresh SQLite file, or a fresh PostgreSQL database made and dropped through
``--postgres-admin-dsn``), started with ``baton server start --no-ui`` on a free port and stopped at the end::

    .venv/bin/python benchmarks/concurrency.py --database sqlite --pairs 3000 --concurrency 32
    .venv/bin/python benchmarks/concurrency.py --database postgresql --pairs 3000 --concurrency 32

or against a server already running::

    .venv/bin/python benchmarks/concurrency.py --api-url http://127.0.0.1:4200/api --pairs 3000 --concurrency 32

Options: --database, --postgres-admin-dsn, --api-url, --pairs, --concurrency, --limit, --retry-sleep, --server-pid,
--label. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

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


class HttpError(Exception):
    """The connection broke, or the answer was not HTTP/1.1 as this client reads it."""


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status and body (Content-Length only)."""

    def __init__(self, api_url: str) -> None:
        parts = urlsplit(api_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode()
        head = (
            f"POST {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nX-PREFECT-API-VERSION: {API_VERSION_HEADER['X-PREFECT-API-VERSION']}"
            f"\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + payload)
            header = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30.0)
            lines = header.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "transfer-encoding":
                    raise HttpError(f"unexpected Transfer-Encoding: {value.strip()}")
            content = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
            await self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


async def one_pair(client: Connection, name: str, args: argparse.Namespace, results: Results) -> None:
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
            status, content = await client.post(f"{V2}/increment-with-lease", body)
        except HttpError as exc:
            results.error(f"acquire: {exc}")
            return
        results.acquire_latencies.append(time.perf_counter() - started)
        if status == 423:
            results.refused += 1
            await asyncio.sleep(args.retry_sleep * random.uniform(0.5, 1.5))
            continue
        if status != 200:
            results.error(f"acquire: HTTP {status} {content[:80].decode(errors='replace')}", status)
            return
        lease_id = json.loads(content)["lease_id"]
        break
    results.holding += 1
    results.max_holding = max(results.max_holding, results.holding)
    await asyncio.sleep(0)
    results.holding -= 1
    started = time.perf_counter()
    try:
        status, content = await client.post(f"{V2}/decrement-with-lease", {"lease_id": lease_id})
    except HttpError as exc:
        results.error(f"release: {exc}")
        return
    results.release_latencies.append(time.perf_counter() - started)
    if status != 204:
        results.error(f"release: HTTP {status} {content[:80].decode(errors='replace')}", status)
        return
    results.pairs += 1


async def worker(args: argparse.Namespace, name: str, remaining: list[int], results: Results) -> None:
    client = Connection(args.api_url)
    try:
        while remaining[0] > 0:
            remaining[0] -= 1
            await one_pair(client, name, args, results)
    finally:
        await client.close()


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


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) of the process `pid` and its threads so far, from /proc (Linux); None elsewhere."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def postgres_admin(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def own_server(args: argparse.Namespace) -> Iterator[None]:
    """Start `baton server start --no-ui` on a fresh database and a free port (setting args.api_url and
    args.server_pid), and stop it (and drop its database) at the end."""
    home = tempfile.mkdtemp(prefix="baton-bench-")
    environment = {**os.environ, "BATON_HOME": home}
    environment.pop("BATON_API_DATABASE_CONNECTION_URL", None)
    database = f"baton_bench_{uuid.uuid4().hex[:8]}"
    if args.database == "postgresql":
        asyncio.run(postgres_admin(args.postgres_admin_dsn, f'CREATE DATABASE "{database}"'))
        admin = urlsplit(args.postgres_admin_dsn)
        environment["BATON_API_DATABASE_CONNECTION_URL"] = admin._replace(
            scheme="postgresql+asyncpg", path=f"/{database}"
        ).geturl()
    port = free_port()
    baton = os.path.join(os.path.dirname(sys.executable), "baton")
    command = [baton, "server", "start", "--no-ui", "--port", str(port), "--log-level", "warning"]
    with open(os.path.join(home, "server.log"), "wb") as log:
        server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    args.api_url, args.server_pid = f"http://127.0.0.1:{port}/api", server.pid
    try:
        yield
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if args.database == "postgresql":
            asyncio.run(postgres_admin(args.postgres_admin_dsn, f'DROP DATABASE IF EXISTS "{database}"'))
        shutil.rmtree(home, ignore_errors=True)


async def wait_for_health(admin: httpx.AsyncClient, seconds: float) -> httpx.Response | httpx.HTTPError:
    """The first answer of GET /health, retried for up to `seconds` (a server of our own is still starting)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await admin.get("/health")
        except httpx.HTTPError as exc:
            if time.monotonic() > deadline:
                return exc
        await asyncio.sleep(0.25)


async def run(args: argparse.Namespace) -> dict[str, Any] | None:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    async with make_client(args.api_url, 2) as admin:
        health = await wait_for_health(admin, 60.0 if args.database else 0.0)
        if isinstance(health, httpx.HTTPError):
            print(f"error: cannot reach {args.api_url}/health: {health}", file=sys.stderr)
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
        server_cpu, client_cpu = cpu_seconds(args.server_pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(args, name, remaining, results) for _ in range(args.concurrency)))
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_end = cpu_seconds(args.server_pid)
        server_cpu = server_end - server_cpu if server_cpu is not None and server_end is not None else None
        final = (await admin.get(f"{V2}/{name}")).json()
        await admin.delete(f"{V2}/{name}")
    lost = int(final.get("active_slots", 0)) + len(final.get("holders", []))
    errors = sum(results.errors_by_reason.values())
    requests = len(results.acquire_latencies) + len(results.release_latencies)
    return {
        "label": args.label,
        "api_url": args.api_url,
        "database": args.database,
        "pairs_requested": args.pairs,
        "concurrency": args.concurrency,
        "limit": args.limit,
        "retry_sleep": args.retry_sleep,
        "wall_seconds": round(wall, 3),
        "pairs": results.pairs,
        "pairs_per_second": round(results.pairs / wall, 1) if wall > 0 else None,
        "refusals_423": results.refused,
        "requests_per_second": round(requests / wall, 1) if wall > 0 else None,
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
        "server_cpu_ms_per_request": round(server_cpu * 1000 / requests, 3) if server_cpu and requests else None,
        "client_cpu_ms_per_request": round(client_cpu * 1000 / requests, 3) if requests else None,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def print_report(report: dict[str, Any]) -> None:
    label = f" [{report['label']}]" if report["label"] else ""
    database = f" ({report['database']}, own server)" if report["database"] else ""
    print(f"Concurrency slots benchmark{label}: {report['api_url']}{database}")
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
    if report["server_cpu_ms_per_request"] is not None:
        print(f"server CPU:         {report['server_cpu_ms_per_request']} ms per request")
    print(f"benchmark CPU:      {report['client_cpu_ms_per_request']} ms per request")
    if report["load_average"] is not None:
        print(f"load average:       {' '.join(f'{value:.2f}' for value in report['load_average'])} (at the end)")
    print(json.dumps(report), flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Measure acquire + release pairs per second on one global limit.")
    parser.add_argument("--api-url", default="http://127.0.0.1:4200/api", help="base URL of the API")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default=None,
        help="start a Baton server of its own on a fresh database of this kind (instead of using --api-url)",
    )
    parser.add_argument(
        "--postgres-admin-dsn",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="where to create and drop the database for --database postgresql",
    )
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
    args = parse_args(argv)
    with own_server(args) if args.database else contextlib.nullcontext():
        try:
            import uvloop
        except ImportError:
            report = asyncio.run(run(args))
        else:
            report = uvloop.run(run(args))
    if report is None:
        return 1
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
