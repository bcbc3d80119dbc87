"""Start-to-healthy time and memory (RSS) of Baton's server processes, idle and after a small workload.

Starts the processes as a user would (subprocesses of the `baton` console script) and, per round:

* `--mode embedded` (the default): `baton server start` without Redis (API, actors and beat in one process). It is
  started twice on the same database, first empty (the schema is migrated on start), then migrated (the usual
  restart); the restart is the one given the workload.
* `--mode redis`: `BATON_REDIS_URL` set (`--redis-url`, a scratch namespace), the schema migrated first, then
  `baton server start` (API only) and `baton server services --processes 1` beside it; both are measured.

Each process's RSS is read after `--idle-seconds` idle, then the official Prefect client runs `--flows` flows of
`--tasks` tasks each against the API (a separate process), and RSS is read again after the same idle time. A services
command is a watcher process plus its worker processes: its RSS is the sum, its "healthy" the time until its worker
has declared its queues in Redis. Prints a table and, on its last line, one JSON object.

    python benchmarks/server_startup.py [--mode embedded|redis] [--rounds 3] [--idle-seconds 10] [--flows 5]
        [--database-url URL] [--ui/--no-ui]

Without `--database-url` each round uses a fresh SQLite database in a temporary BATON_HOME. A PostgreSQL URL is
used as given (`baton server database reset -y` empties it before each round, so point it at a scratch database).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api_lifecycle import compile_baton  # noqa: E402  (a sibling script)

BATON = str(Path(sys.executable).with_name("baton"))

# The workload: the official client, as a user's flow script would use it.
FLOWS = """
import sys
from prefect import flow, task

@task
def double(x: int) -> int:
    return 2 * x

@flow
def small(tasks: int) -> int:
    return sum(double(i) for i in range(tasks))

for _ in range(int(sys.argv[1])):
    small(int(sys.argv[2]))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """The RSS of `pid` plus its children's (a services command's worker processes), in MB."""
    total = 0.0
    for process in [pid, *children(pid)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) `pid` and its children have used so far: start-up cost on a loaded machine, where
    wall time mostly measures the neighbours."""
    total = 0
    for process in [pid, *children(pid)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(check: object, process: subprocess.Popen[str], started: float, what: str) -> float:
    """Seconds from `started` until `check()` holds; raises if the process exits or 120 s pass."""
    while not check():  # type: ignore[operator]
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {process.stderr.read() if process.stderr else ''}")
        if time.perf_counter() - started > 120:
            raise RuntimeError(f"{what} was not ready within 120 s")
        time.sleep(0.01)
    return time.perf_counter() - started


def start_api(env: dict[str, str], ui: bool) -> tuple[subprocess.Popen[str], str, float, float]:
    """(the process, its API URL, seconds from spawning it to a 200 from /api/health, CPU seconds it used by then)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [BATON, "server", "start", "--port", str(port), "--ui" if ui else "--no-ui"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    api_url = f"http://127.0.0.1:{port}/api"
    to_healthy = wait_until(lambda: healthy(f"{api_url}/health"), process, started, "the server")
    return process, api_url, to_healthy, cpu_seconds(process.pid)


def start_services(env: dict[str, str]) -> tuple[subprocess.Popen[str], float, float]:
    """(the services command, seconds until its worker has registered in Redis as a consumer, CPU seconds by then)."""
    import redis

    client = redis.Redis.from_url(env["BATON_REDIS_URL"])
    heartbeats = f"{env['BATON_REDIS_NAMESPACE']}:queue:__heartbeats__"
    started = time.perf_counter()
    process = subprocess.Popen(
        [BATON, "server", "services", "--processes", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = wait_until(lambda: client.zcard(heartbeats) > 0, process, started, "the services")
    return process, ready, cpu_seconds(process.pid)


def run_workload(api_url: str, flows: int, tasks: int) -> float:
    """Seconds the Prefect client took to run the flows (its own import and start included)."""
    home = tempfile.mkdtemp(prefix="baton-startup-client-")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "BATON_"))}
    env.update(PREFECT_API_URL=api_url, PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    started = time.perf_counter()
    try:
        subprocess.run(
            [sys.executable, "-c", FLOWS, str(flows), str(tasks)], env=env, check=True, capture_output=True, timeout=600
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return time.perf_counter() - started


def stop(*processes: subprocess.Popen[str]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.communicate(timeout=60)


def embedded_round(env: dict[str, str], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    process, _, first_healthy, first_cpu = start_api(env, args.ui)
    try:
        time.sleep(args.idle_seconds)
        first_rss = rss_mb(process.pid)
    finally:
        stop(process)
    process, api_url, restart_healthy, restart_cpu = start_api(env, args.ui)
    try:
        time.sleep(args.idle_seconds)
        idle = rss_mb(process.pid)
        run_workload(api_url, args.flows, args.tasks)
        time.sleep(args.idle_seconds)
        loaded = rss_mb(process.pid)
    finally:
        stop(process)
    return {
        "embedded, empty database": {"healthy_s": first_healthy, "cpu_s": first_cpu, "idle_mb": first_rss},
        "embedded": {"healthy_s": restart_healthy, "cpu_s": restart_cpu, "idle_mb": idle, "after_workload_mb": loaded},
    }


def redis_round(env: dict[str, str], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    env = {**env, "BATON_REDIS_URL": args.redis_url, "BATON_REDIS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"}
    subprocess.run([BATON, "server", "database", "upgrade", "-y"], env=env, check=True, capture_output=True)
    api, api_url, api_healthy, api_cpu = start_api(env, args.ui)
    try:
        services, services_ready, services_cpu = start_services(env)
        try:
            time.sleep(args.idle_seconds)
            api_idle, services_idle = rss_mb(api.pid), rss_mb(services.pid)
            run_workload(api_url, args.flows, args.tasks)
            time.sleep(args.idle_seconds)
            api_loaded, services_loaded = rss_mb(api.pid), rss_mb(services.pid)
        finally:
            stop(services)
    finally:
        stop(api)
        import redis

        client = redis.Redis.from_url(env["BATON_REDIS_URL"])
        keys = list(client.scan_iter(f"{env['BATON_REDIS_NAMESPACE']}:*"))
        if keys:
            client.delete(*keys)
    return {
        "API only (Redis mode)": {
            "healthy_s": api_healthy,
            "cpu_s": api_cpu,
            "idle_mb": api_idle,
            "after_workload_mb": api_loaded,
        },
        "services, 1 process (sum)": {
            "healthy_s": services_ready,
            "cpu_s": services_cpu,
            "idle_mb": services_idle,
            "after_workload_mb": services_loaded,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("embedded", "redis"), default="embedded")
    parser.add_argument("--database-url", default=None, help="a scratch database (default: fresh SQLite per round)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="with --mode redis")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--flows", type=int, default=5, help="flows the Prefect client runs (0: no workload)")
    parser.add_argument("--tasks", type=int, default=5, help="tasks per flow")
    parser.add_argument("--ui", action=argparse.BooleanOptionalAction, default=True, help="serve the web UI")
    args = parser.parse_args()
    compile_baton()

    samples: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.rounds):
        home = tempfile.mkdtemp(prefix="baton-startup-")
        env = {key: value for key, value in os.environ.items() if not key.startswith("BATON_")}
        env["BATON_HOME"] = home
        if args.database_url:
            env["BATON_API_DATABASE_CONNECTION_URL"] = args.database_url
            subprocess.run([BATON, "server", "database", "reset", "-y"], env=env, check=True, capture_output=True)
            subprocess.run(
                [BATON, "server", "database", "downgrade", "-y", "-r", "base"], env=env, check=True, capture_output=True
            )
        try:
            figures = embedded_round(env, args) if args.mode == "embedded" else redis_round(env, args)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        for process, row in figures.items():
            samples.setdefault(process, []).append(row)

    result: dict[str, object] = {
        "mode": args.mode,
        "database": args.database_url.split("://")[0] if args.database_url else "sqlite",
        "rounds": args.rounds,
        "ui": args.ui,
        "flows": args.flows,
        "tasks": args.tasks,
    }
    print(
        f"{'process (medians)':30s} {'healthy s':>10s} {'CPU s to healthy':>17s} {'idle MB':>8s} "
        f"{'after workload MB':>18s}"
    )
    for process, rows in samples.items():
        summary = {
            f"{key}_{kind}": round(pick(row[key] for row in rows), 1 if key.endswith("_mb") else 3)
            for key in rows[0]
            for kind, pick in (("median", statistics.median), ("max", max))
        }
        result[process] = summary
        loaded = summary.get("after_workload_mb_median")
        print(
            f"{process:30s} {summary['healthy_s_median']:10.3f} {summary['cpu_s_median']:17.2f} "
            f"{summary['idle_mb_median']:8.1f} {'-' if loaded is None else f'{loaded:.1f}':>18s}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
