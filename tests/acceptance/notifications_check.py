"""A notification end to end with the official client: a failing flow tagged daily-etl -> one webhook message."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.acceptance.conftest import FlowRunner

# The promise: the message arrives within 5 s of the state change.
DELIVERY_SECONDS = 5.0


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[tuple[float, Any]]]]:
    """A webhook endpoint on loopback in a thread: its URL and the (arrival time, JSON body) of each request."""
    received: list[tuple[float, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((time.time(), json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _slack_block(api: httpx.Client, url: str) -> str:
    block_type = api.get("/block_types/slug/slack-webhook").json()
    schemas = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    document = api.post(
        "/block_documents/",
        json={
            "name": f"ops-{uuid.uuid4().hex[:6]}",
            "block_type_id": block_type["id"],
            "block_schema_id": schemas.json()[0]["id"],
            "data": {"url": url},
        },
    )
    assert document.status_code == 201, document.text
    return document.json()["id"]


def check_failing_tagged_flow_notifies_once(api: httpx.Client, run_flow: FlowRunner) -> None:
    with webhook_receiver() as (url, received):
        target = _slack_block(api, url)
        for fields in (
            {"state_names": ["Failed"], "tags": ["daily-etl"]},
            {"state_names": ["Failed"], "tags": ["daily-etl"], "is_active": False},
            {"state_names": ["Failed"], "tags": ["other-team"]},
        ):
            response = api.post("/flow_run_notification_policies/", json={**fields, "block_document_id": target})
            assert response.status_code == 201, response.text
        outcome = run_flow("daily_etl_fails")
        failed = next(
            state
            for state in api.get("/flow_run_states/", params={"flow_run_id": outcome["flow_run_id"]}).json()
            if state["name"] == "Failed"
        )
        deadline = time.monotonic() + DELIVERY_SECONDS + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # a second message, if any, would arrive by now
        assert len(received) == 1, received
        arrived, body = received[0]
        failed_at = time.mktime(time.strptime(failed["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        assert arrived - failed_at < DELIVERY_SECONDS, f"{arrived - failed_at:.2f} s after the state change"
        assert "of the daily-etl flow entered state Failed" in body["text"]
        assert "the source database did not answer" in body["text"]
