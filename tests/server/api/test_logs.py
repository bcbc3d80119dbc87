"""Log batches and log filters on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _log(run_id: str, second: int, level: int = 20, message: str = "hello") -> dict[str, object]:
    return {
        "name": "prefect.flow_runs",
        "level": level,
        "message": message,
        "timestamp": (START + dt.timedelta(seconds=second)).isoformat(),
        "flow_run_id": run_id,
        "task_run_id": None,
    }


async def test_batch_create_and_filter_sorted(client: httpx.AsyncClient) -> None:
    run_id = str(uuid.uuid4())
    batch = [_log(run_id, 2, 40, "error"), _log(run_id, 0), _log(run_id, 1, 10, "debug")]
    stored = await client.post("/logs/", json=batch)
    assert stored.status_code == 201 and stored.json() is None
    ascending = await client.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}})
    assert [log["message"] for log in ascending.json()] == ["hello", "debug", "error"]
    important = await client.post(
        "/logs/filter",
        json={"logs": {"flow_run_id": {"any_": [run_id]}, "level": {"ge_": 20}}, "sort": "TIMESTAMP_DESC"},
    )
    assert [log["message"] for log in important.json()] == ["error", "hello"]
    window = await client.post(
        "/logs/filter",
        json={"logs": {"timestamp": {"after_": (START + dt.timedelta(seconds=1)).isoformat()}}, "limit": 1},
    )
    assert [log["message"] for log in window.json()] == ["debug"]


async def test_oversized_message_is_truncated_and_marked(client: httpx.AsyncClient) -> None:
    run_id = str(uuid.uuid4())
    assert (await client.post("/logs/", json=[_log(run_id, 0, message="x" * 1_500_000)])).status_code == 201
    stored = (await client.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}})).json()
    assert len(stored) == 1
    assert len(stored[0]["message"].encode()) <= 1_000_000
    assert stored[0]["message"].endswith("the limit is 1000000]")
    assert "truncated" in stored[0]["message"]


async def test_bad_batches_are_rejected_whole(client: httpx.AsyncClient) -> None:
    run_id = str(uuid.uuid4())
    not_a_list = await client.post("/logs/", json=_log(run_id, 0))
    assert not_a_list.status_code == 422
    mixed = await client.post("/logs/", json=[_log(run_id, 0), {**_log(run_id, 1), "level": "loud"}])
    assert mixed.status_code == 422
    assert "level" in mixed.json()["detail"]
    stored = await client.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}})
    assert stored.json() == []
