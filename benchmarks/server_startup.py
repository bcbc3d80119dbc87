"""Start-to-healthy time and idle memory of `baton server start`.

Starts the server as a user would (a subprocess of the `baton` console script), polls `GET /api/health` until it
answers, and reads the process's resident memory (RSS) after it has been idle for a moment. Each round starts the
server twice on the same database: first on an empty one (the schema is migrated on start), then on the migrated one
(the usual restart). Prints a table and, on its last line, one JSON object.

    python benchmarks/server_startup.py [--database-url URL] [--rounds 3] [--idle-seconds 2]

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
from pathlib import Path

BATON = str(Path(sys.executable).with_name("baton"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return response.status == 200
    except OSError:
        return False


def start_once(env: dict[str, str], idle_seconds: float) -> tuple[float, float]:
    """(seconds from spawning the process to a 200 from /api/health, RSS in MB after `idle_seconds` idle)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [BATON, "server", "start", "--port", str(port), "--no-ui"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/health"
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {process.stderr.read() if process.stderr else ''}")
            if time.perf_counter() - started > 60:
                raise RuntimeError("the server was not healthy within 60 s")
            time.sleep(0.01)
        to_healthy = time.perf_counter() - started
        time.sleep(idle_seconds)
        return to_healthy, rss_mb(process.pid)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="a scratch database (default: fresh SQLite per round)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=2.0)
    args = parser.parse_args()

    first: list[tuple[float, float]] = []
    restart: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        home = tempfile.mkdtemp(prefix="baton-startup-")
        env = {**os.environ, "BATON_HOME": home}
        if args.database_url:
            env["BATON_API_DATABASE_CONNECTION_URL"] = args.database_url
            subprocess.run([BATON, "server", "database", "reset", "-y"], env=env, check=True, capture_output=True)
            subprocess.run(
                [BATON, "server", "database", "downgrade", "-y", "-r", "base"], env=env, check=True, capture_output=True
            )
        try:
            first.append(start_once(env, args.idle_seconds))
            restart.append(start_once(env, args.idle_seconds))
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
        return {
            "to_healthy_s_median": round(statistics.median(s[0] for s in samples), 3),
            "to_healthy_s_max": round(max(s[0] for s in samples), 3),
            "idle_rss_mb_median": round(statistics.median(s[1] for s in samples), 1),
            "idle_rss_mb_max": round(max(s[1] for s in samples), 1),
        }

    result = {
        "database": args.database_url.split("://")[0] if args.database_url else "sqlite",
        "rounds": args.rounds,
        "empty_database": summary(first),
        "migrated_database": summary(restart),
    }
    print(f"{'start on':20s} {'healthy s (median/max)':>24s} {'idle RSS MB (median/max)':>26s}")
    for label, key in (("empty database", "empty_database"), ("migrated database", "migrated_database")):
        row = result[key]
        healthy_text = f"{row['to_healthy_s_median']:.3f} / {row['to_healthy_s_max']:.3f}"
        rss_text = f"{row['idle_rss_mb_median']:.1f} / {row['idle_rss_mb_max']:.1f}"
        print(f"{label:20s} {healthy_text:>24s} {rss_text:>26s}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
