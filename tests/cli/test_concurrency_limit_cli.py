"""`baton concurrency-limit ...` and `baton global-concurrency-limit ...` run as subprocesses against a real server."""

from __future__ import annotations

import json
import uuid

import httpx

from baton.client import BatonClient
from baton.errors import ConcurrencyLimitReached, LeaseExpired
from tests.cli.test_resource_cli import api, api_url, env, fails, ok, table

__all__ = ["api", "api_url", "env"]  # module-scoped fixtures shared with the other resource commands


def test_global_limit_create_update_ls_inspect_delete(env: dict[str, str], api: httpx.Client) -> None:
    assert "Created" in ok(env, "global-concurrency-limit", "create", "gpu", "--limit", "2")
    ok(env, "global-concurrency-limit", "update", "gpu", "--limit", "4", "--slot-decay-per-second", "0.01")
    body = {"names": ["gpu"], "slots": 1, "lease_duration": 60, "holder": {"type": "flow_run", "id": str(uuid.uuid4())}}
    assert api.post("/v2/concurrency_limits/increment-with-lease", json=body).status_code == 200

    rows = table(ok(env, "global-concurrency-limit", "ls"))
    assert rows[0] == ["NAME", "ACTIVE", "LIMIT", "TAKEN", "DECAY/S", "UPDATED (UTC)"]
    assert [row[:5] for row in rows[1:] if row[0] == "gpu"] == [["gpu", "yes", "4", "1", "0.01"]]
    inspected = ok(env, "global-concurrency-limit", "inspect", "gpu")
    assert "Holders" in inspected and f"flow_run {body['holder']['id']}: 1 slot(s)" in inspected
    as_json = json.loads(ok(env, "global-concurrency-limit", "inspect", "gpu", "--json"))
    assert (as_json["limit"], as_json["active_slots"], len(as_json["holders"])) == (4, 1, 1)

    ok(env, "global-concurrency-limit", "update", "gpu", "--disable")
    assert api.get("/v2/concurrency_limits/gpu").json()["active"] is False
    assert "already exists" in fails(env, "global-concurrency-limit", "create", "gpu", "--limit", "1")
    assert "Deleted" in ok(env, "global-concurrency-limit", "delete", "gpu", "-y")
    assert "not found" in fails(env, "global-concurrency-limit", "inspect", "gpu")
    fails(env, "global-concurrency-limit", "update", "gpu", code=2)  # no change asked for: a usage error


def test_tag_limit_create_ls_inspect_reset_delete(env: dict[str, str], api: httpx.Client) -> None:
    ok(env, "concurrency-limit", "create", "db", "2")
    run = str(uuid.uuid4())
    assert api.post("/concurrency_limits/increment", json={"names": ["db"], "task_run_id": run}).status_code == 200
    rows = table(ok(env, "concurrency-limit", "ls"))
    assert [row[:3] for row in rows[1:] if row[0] == "db"] == [["db", "2", "1"]]
    assert run in ok(env, "concurrency-limit", "inspect", "db")
    assert json.loads(ok(env, "concurrency-limit", "inspect", "db", "--json"))["active_slots"] == [run]
    ok(env, "concurrency-limit", "reset", "db")
    assert api.get("/concurrency_limits/tag/db").json()["active_slots"] == []
    ok(env, "concurrency-limit", "delete", "db", "-y")
    assert api.get("/concurrency_limits/tag/db").status_code == 404
    assert "not found" in fails(env, "concurrency-limit", "delete", "db", "-y")


def test_client_maps_423_and_410(api_url: str, api: httpx.Client) -> None:
    with BatonClient(api_url) as client:
        client.create_global_concurrency_limit("one", 1)
        body = {"names": ["one"], "slots": 1}
        client.request("POST", "/v2/concurrency_limits/increment", json=body)
        try:
            client.request("POST", "/v2/concurrency_limits/increment", json=body)
        except ConcurrencyLimitReached as exc:
            assert exc.retry_after_seconds is not None and exc.retry_after_seconds > 0
        else:
            raise AssertionError("a full limit must raise ConcurrencyLimitReached")
        try:
            client.request("POST", f"/v2/concurrency_limits/leases/{uuid.uuid4()}/renew", json={"lease_duration": 5})
        except LeaseExpired:
            pass
        else:
            raise AssertionError("renewing an unknown lease must raise LeaseExpired")
        client.delete_global_concurrency_limit("one")
