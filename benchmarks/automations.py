"""Automations under load: the events pipeline at full speed with 100 automations active, against the same run
without them, and the time from a triggering event to its action's effect.

Runs `benchmarks/events_ingest.py`'s workload twice on fresh servers (same mode, database and size): once with no
automation, once with `--automations` of them (a realistic mix, below) plus one probe automation. While the second run
streams, a probe event (`bench.probe`, a fresh id each time) is posted to `POST /api/events` every `--probe-every`
seconds; the probe automation's call-webhook action posts the probe's id to a local HTTP receiver. Measured:

* ingest throughput (persisted events/s) with automations / without: the target is at least 0.8;
* probe latency: from the probe's POST to the webhook's arrival at the receiver (p50, p99, max; the target is p99
  under 1 s), and that every probe arrived exactly once (a second arrival of one id is counted as a duplicate).

The mix, per 50 automations, follows the trigger templates of Prefect's UI: 20 "a flow run enters Failed or Crashed"
for a tag (immediate; they see every flow-run event and fire never in this workload), 16 "a work pool, work queue or
deployment is not ready", 6 proactive "no `etl.finished` within an hour", 4 compound (any of: a flow run Failed, a
work pool not ready), 3 metric triggers (share of successful runs of any deployment under 0.9 over 5 minutes), and
`--busy-per-50` (1) "more than 1000 task runs Completed within a minute" for each flow run, the one kind that counts
every task-run event of the workload. Every one of them runs a do-nothing action.

    .venv/bin/python benchmarks/automations.py                      # redis mode on PostgreSQL, 100 automations
    .venv/bin/python benchmarks/automations.py --mode embedded --database sqlite --events 15000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
import events_ingest as ingest  # noqa: E402

PROBE_EVENT = "bench.probe"
# Automations (of every 50) that count every task-run event: the heaviest kind for the engine, and a rare one.
BUSY_PER_50 = 1
# How long the probes still on their way are waited for once the events are in.
PROBE_WAIT_SECONDS = 30.0


class Receiver:
    """A local HTTP server standing in for the webhook's target: records when each probe id arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.perf_counter()
                try:
                    probe = str(json.loads(body)["probe"])
                except (ValueError, KeyError, TypeError):
                    probe = body.decode(errors="replace")
                with receiver.lock:
                    receiver.arrivals.setdefault(probe, []).append(arrived)
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _do_nothing() -> list[dict[str, Any]]:
    return [{"type": "do-nothing"}]


def automation_mix(count: int, busy_per_50: int = BUSY_PER_50) -> list[dict[str, Any]]:
    """`count` automations in the shares the module docstring gives."""
    kinds = (
        ["failed"] * 20
        + ["status"] * 16
        + ["proactive"] * 6
        + ["compound"] * 4
        + ["metric"] * 3
        + ["busy"] * busy_per_50
    )
    kinds += ["failed"] * (50 - len(kinds))
    bodies = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        if kind == "failed":
            trigger: dict[str, Any] = {
                "type": "event",
                "posture": "Reactive",
                "match": {"prefect.resource.id": "prefect.flow-run.*"},
                "match_related": {"prefect.resource.id": f"prefect.tag.team-{index}", "prefect.resource.role": "tag"},
                "expect": ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"],
                "threshold": 1,
                "within": 0,
            }
        elif kind == "status":
            resource = ("work-pool", "work-queue", "deployment")[index % 3]
            trigger = {
                "type": "event",
                "posture": "Reactive",
                "match": {"prefect.resource.id": f"prefect.{resource}.*"},
                "expect": [f"prefect.{resource}.not-ready"],
                "threshold": 1,
                "within": 0,
            }
        elif kind == "busy":
            trigger = {
                "type": "event",
                "posture": "Reactive",
                "match": {"prefect.resource.id": "prefect.task-run.*"},
                "expect": ["prefect.task-run.Completed"],
                "for_each": ["related:flow-run:prefect.resource.id"],
                "threshold": 1000,
                "within": 60,
            }
        elif kind == "proactive":
            trigger = {
                "type": "event",
                "posture": "Proactive",
                "match": {"prefect.resource.id": f"etl.job-{index}"},
                "expect": ["etl.finished"],
                "threshold": 1,
                "within": 3600,
            }
        elif kind == "compound":
            trigger = {
                "type": "compound",
                "require": "any",
                "within": 300,
                "triggers": [
                    {
                        "type": "event",
                        "posture": "Reactive",
                        "match": {"prefect.resource.id": "prefect.flow-run.*"},
                        "expect": ["prefect.flow-run.Failed"],
                    },
                    {
                        "type": "event",
                        "posture": "Reactive",
                        "match": {"prefect.resource.id": "prefect.work-pool.*"},
                        "expect": ["prefect.work-pool.not-ready"],
                    },
                ],
            }
        else:
            trigger = {
                "type": "metric",
                "posture": "Metric",
                "match": {"prefect.resource.id": "prefect.deployment.*"},
                "metric": {"name": "successes", "operator": "<", "threshold": 0.9, "range": 300, "firing_for": 300},
            }
        bodies.append({"name": f"bench-{kind}-{index}", "trigger": trigger, "actions": _do_nothing()})
    return bodies


class AutomationLoad(ingest.Load):
    def __init__(self, count: int, receiver: Receiver, probe_every: float, busy_per_50: int) -> None:
        self.count = count
        self.busy_per_50 = busy_per_50
        self.receiver = receiver
        self.probe_every = probe_every
        self.sent: dict[str, float] = {}
        self.probe_errors: list[str] = []

    async def prepare(self, client: httpx.AsyncClient) -> None:
        block_id = await create_webhook_block(client, self.receiver.url)
        for body in automation_mix(self.count, self.busy_per_50):
            answer = await client.post("/automations/", json=body)
            answer.raise_for_status()
        probe = {
            "name": "bench-probe",
            "trigger": {
                "type": "event",
                "posture": "Reactive",
                "match": {"prefect.resource.id": "bench.probe.*"},
                "expect": [PROBE_EVENT],
                "threshold": 1,
                "within": 0,
            },
            "actions": [
                {
                    "type": "call-webhook",
                    "block_document_id": block_id,
                    "payload": '{"probe": "{{ event.payload.probe }}"}',
                }
            ],
        }
        answer = await client.post("/automations/", json=probe)
        answer.raise_for_status()

    async def during(self, client: httpx.AsyncClient) -> None:
        while True:
            probe = uuid.uuid4().hex
            event = {
                "id": str(uuid.uuid4()),
                "occurred": dt.datetime.now(dt.UTC).isoformat(),
                "event": PROBE_EVENT,
                "resource": {"prefect.resource.id": f"bench.probe.{probe}"},
                "payload": {"probe": probe},
            }
            self.sent[probe] = time.perf_counter()
            try:
                answer = await client.post("/events", json=[event])
                if answer.status_code >= 300:
                    self.probe_errors.append(f"{answer.status_code}: {answer.text[:200]}")
            except httpx.HTTPError as exc:
                self.probe_errors.append(repr(exc))
            await asyncio.sleep(self.probe_every)

    async def finish(self, client: httpx.AsyncClient) -> None:
        """Wait (at most PROBE_WAIT_SECONDS) for the probes still on their way, before the server stops."""
        deadline = time.perf_counter() + PROBE_WAIT_SECONDS
        while time.perf_counter() < deadline and len(self.receiver.arrivals) < len(self.sent):  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # the receiver is a thread: polled, as the ingest benchmark polls its database


async def create_webhook_block(client: httpx.AsyncClient, url: str) -> str:
    """A block document of Prefect's `webhook` block type (the one call-webhook takes) posting to `url`."""
    block_type = (await client.get("/block_types/slug/webhook")).json()
    schemas = await client.post(
        "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    )
    schema = schemas.json()[0]
    answer = await client.post(
        "/block_documents/",
        json={
            "name": f"bench-hook-{uuid.uuid4().hex[:8]}",
            "block_type_id": block_type["id"],
            "block_schema_id": schema["id"],
            "data": {"url": url, "method": "POST", "headers": {}},
        },
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def run_ingest(args: argparse.Namespace, load: ingest.Load | None) -> dict[str, Any]:
    environment = ingest.Environment(args)
    try:
        environment.start()
        return asyncio.run(ingest.measure(environment, args, load))
    finally:
        environment.cleanup()


def latency_figures(load: AutomationLoad) -> dict[str, Any]:
    latencies = sorted(
        load.receiver.arrivals[probe][0] - sent for probe, sent in load.sent.items() if probe in load.receiver.arrivals
    )
    duplicates = sum(len(times) - 1 for times in load.receiver.arrivals.values())

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "probes_sent": len(load.sent),
        "probes_arrived": len(latencies),
        "duplicate_arrivals": duplicates,
        "latency_p50_ms": ms(ingest.percentile(latencies, 0.50)),
        "latency_p99_ms": ms(ingest.percentile(latencies, 0.99)),
        "latency_max_ms": ms(latencies[-1] if latencies else None),
        "probe_errors": Counter(load.probe_errors).most_common(3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--automations", type=int, default=100)
    parser.add_argument("--probe-every", type=float, default=0.25, help="seconds between probe events")
    parser.add_argument("--busy-per-50", type=int, default=BUSY_PER_50, help="task-run counting automations per 50")
    known, rest = parser.parse_known_args(argv)
    defaults = ["--mode", "redis", "--database", "postgresql"]
    args = ingest.parse_args([*defaults, *rest] if not {"--mode", "--database"} & set(rest) else rest)
    without = run_ingest(args, None)
    with Receiver() as receiver:
        load = AutomationLoad(known.automations, receiver, known.probe_every, known.busy_per_50)
        with_automations = run_ingest(args, load)
        probes = latency_figures(load)
    ratio = None
    if without["persisted_per_second"] and with_automations["persisted_per_second"]:
        ratio = round(with_automations["persisted_per_second"] / without["persisted_per_second"], 3)
    report = {
        "mode": args.mode,
        "database": args.database,
        "events": without["events"],
        "automations": known.automations,
        "busy_per_50": known.busy_per_50,
        "persisted_per_second_without": without["persisted_per_second"],
        "persisted_per_second_with": with_automations["persisted_per_second"],
        "throughput_ratio": ratio,
        "both_complete": without["completed"] and with_automations["completed"],
        **probes,
    }
    print(
        f"Automations: {args.mode} + {args.database}, {args.events} events, {known.automations} automations\n"
        f"  persisted events/s: {report['persisted_per_second_without']} without, "
        f"{report['persisted_per_second_with']} with (ratio {ratio})\n"
        f"  probe -> webhook:   p50 {report['latency_p50_ms']} ms, p99 {report['latency_p99_ms']} ms, "
        f"max {report['latency_max_ms']} ms ({report['probes_arrived']}/{report['probes_sent']} arrived, "
        f"{report['duplicate_arrivals']} duplicates)"
    )
    print(json.dumps(report), flush=True)
    return 0 if report["both_complete"] and report["probes_arrived"] == report["probes_sent"] else 1


if __name__ == "__main__":
    sys.exit(main())
