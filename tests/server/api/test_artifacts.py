"""Artifacts and the latest artifact of each key over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database


async def _create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/artifacts/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def _ids(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> list[str]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return [artifact["id"] for artifact in response.json()]


async def _collections(database: Database) -> dict[str, dict[str, Any]]:
    async with database.read() as connection:
        rows = (await connection.execute(sa.select(t.artifact_collection))).mappings()
        return {row["key"]: dict(row) for row in rows}


async def test_create_and_read_each_type(client: httpx.AsyncClient) -> None:
    flow_id = (await client.post("/flows/", json={"name": "f"})).json()["id"]
    flow_run_id = (await client.post("/flow_runs/", json={"flow_id": flow_id})).json()["id"]
    examples = {
        "markdown": "# Report\nAll good.",
        "table": [{"a": 1, "b": "x"}, {"a": 2, "b": None}],
        "link": "[docs](https://example.com)",
        "progress": 42.5,
        "image": "https://example.com/chart.png",
        "result": {"storage_key": "s3://bucket/result.json", "serializer": {"type": "json"}},
    }
    task_run_id = str(uuid.uuid4())  # links are kept as given, as Prefect does
    for kind, data in examples.items():
        created = await _create(
            client,
            key=f"{kind}-1",
            type=kind,
            data=data,
            description=f"A {kind}",
            metadata_={"owner": "ops"},
            flow_run_id=flow_run_id,
            task_run_id=task_run_id,
        )
        assert created["type"] == kind
        assert created["data"] == data
        assert created["flow_run_id"] == flow_run_id
        assert created["task_run_id"] == task_run_id
        assert created["metadata_"] == {"owner": "ops"}
        assert (await client.get(f"/artifacts/{created['id']}")).json() == created

    keyless = await _create(client, type="markdown", data="no key")
    assert keyless["key"] is None
    assert keyless["flow_run_id"] is None
    assert (await client.post("/artifacts/count")).json() == 7
    # Only keyed artifacts have a collection row.
    assert (await client.post("/artifacts/latest/count")).json() == 6


async def test_latest_of_a_key_follows_creates_and_deletes(client: httpx.AsyncClient, database: Database) -> None:
    v1 = await _create(client, key="report", type="markdown", data="one")
    v2 = await _create(client, key="report", type="table", data="two", description="second")
    v3 = await _create(client, key="report", type="markdown", data="three", metadata_={"v": "3"})
    other = await _create(client, key="other", data="o")

    collection = (await _collections(database))["report"]
    assert collection["latest_id"] == uuid.UUID(v3["id"])
    latest = (await client.get("/artifacts/report/latest")).json()
    # As Prefect answers: the latest version's fields under the collection's own id, created when the key first was.
    assert latest["id"] == str(collection["id"]) != v3["id"]
    assert "latest_id" not in latest
    assert (latest["data"], latest["type"], latest["metadata_"]) == ("three", "markdown", {"v": "3"})
    assert latest["created"] == v1["created"]
    assert latest["updated"] == v3["updated"]
    listed = (await client.post("/artifacts/latest/filter", json={"sort": "KEY_ASC"})).json()
    assert [(row["key"], row["latest_id"]) for row in listed] == [("other", other["id"]), ("report", v3["id"])]

    # Deleting an older version leaves the latest alone.
    assert (await client.delete(f"/artifacts/{v1['id']}")).status_code == 204
    assert (await client.get("/artifacts/report/latest")).json()["data"] == "three"

    # Deleting the latest falls back to the newest remaining version, with that version's fields and times.
    v4 = await _create(client, key="report", data="four")
    assert (await client.delete(f"/artifacts/{v4['id']}")).status_code == 204
    assert (await client.delete(f"/artifacts/{v3['id']}")).status_code == 204
    collection = (await _collections(database))["report"]
    assert collection["latest_id"] == uuid.UUID(v2["id"])
    assert (collection["data"], collection["type"], collection["description"]) == ("two", "table", "second")
    assert collection["metadata_"] is None
    fallback = (await client.get("/artifacts/report/latest")).json()
    assert (fallback["data"], fallback["created"], fallback["updated"]) == ("two", v2["created"], v2["updated"])

    # Deleting the last version removes the key's collection row; other keys are untouched.
    assert (await client.delete(f"/artifacts/{v2['id']}")).status_code == 204
    assert (await client.get("/artifacts/report/latest")).status_code == 404
    assert set(await _collections(database)) == {"other"}
    assert (await client.get("/artifacts/other/latest")).json()["data"] == "o"
    assert (await client.post("/artifacts/count")).json() == 1
    assert (await client.delete(f"/artifacts/{v2['id']}")).status_code == 404


async def test_update_changes_the_artifact_and_the_latest_of_its_key(client: httpx.AsyncClient) -> None:
    old = await _create(client, key="k", data="old", description="d1")
    new = await _create(client, key="k", data="new", description="d2", metadata_={"a": "b"})

    patched = await client.patch(f"/artifacts/{new['id']}", json={"data": {"rows": 3}, "description": None})
    assert patched.status_code == 204
    after = (await client.get(f"/artifacts/{new['id']}")).json()
    assert (after["data"], after["description"], after["metadata_"]) == ({"rows": 3}, None, {"a": "b"})
    assert after["updated"] > new["updated"]
    latest = (await client.get("/artifacts/k/latest")).json()
    assert (latest["data"], latest["description"]) == ({"rows": 3}, None)

    # Updating an older version does not touch the latest.
    assert (await client.patch(f"/artifacts/{old['id']}", json={"data": "older"})).status_code == 204
    assert (await client.get(f"/artifacts/{old['id']}")).json()["data"] == "older"
    assert (await client.get("/artifacts/k/latest")).json()["data"] == {"rows": 3}
    assert (await client.patch(f"/artifacts/{old['id']}", json={})).status_code == 204

    # Only data, description and metadata can change.
    refused = await client.patch(f"/artifacts/{new['id']}", json={"key": "other"})
    assert refused.status_code == 422
    assert "key" in refused.json()["detail"]
    assert (await client.patch(f"/artifacts/{uuid.uuid4()}", json={"data": 1})).status_code == 404


async def test_bad_input_is_a_clear_4xx(client: httpx.AsyncClient) -> None:
    for key in ("Upper", "under_score", "a/b", "with space", "", "k" * 256):
        response = await client.post("/artifacts/", json={"key": key, "data": 1})
        assert response.status_code == 422, key
        assert "body.key" in response.json()["detail"]
    too_long_type = await client.post("/artifacts/", json={"type": "t" * 51})
    assert too_long_type.status_code == 422
    assert "type" in too_long_type.json()["detail"]
    not_text = await client.post("/artifacts/", json={"metadata_": {"rows": 5}})
    assert not_text.status_code == 422
    assert "metadata_" in not_text.json()["detail"]
    unknown = await client.post("/artifacts/", json={"data": 1, "colour": "red"})
    assert unknown.status_code == 422
    assert "colour" in unknown.text
    bad_link = await client.post("/artifacts/", json={"flow_run_id": "not-a-uuid"})
    assert bad_link.status_code == 422
    assert "flow_run_id" in bad_link.json()["detail"]
    assert (await client.post("/artifacts/count")).json() == 0

    # Long metadata values are shortened, not refused.
    long = await _create(client, metadata_={"note": "n" * 600})
    assert long["metadata_"]["note"] == "n" * 500 + "..."

    for response in (
        await client.get("/artifacts/not-a-uuid"),
        await client.patch("/artifacts/not-a-uuid", json={"data": 1}),
        await client.delete("/artifacts/not-a-uuid"),
    ):
        assert response.status_code == 422
        assert "not-a-uuid" in response.text
    missing = str(uuid.uuid4())
    assert (await client.get(f"/artifacts/{missing}")).status_code == 404
    assert (await client.delete(f"/artifacts/{missing}")).status_code == 404
    assert (await client.get("/artifacts/no-such-key/latest")).status_code == 404
    assert (await client.post("/artifacts/filter", json={"artifacts": {"kye": {}}})).status_code == 422
    assert (await client.post("/artifacts/latest/filter", json={"artifacts": {"id": {}}})).status_code == 422
    assert (await client.post("/artifacts/filter", json={"sort": "NAME_ASC"})).status_code == 422
    assert (await client.post("/artifacts/latest/filter", json={"limit": 201})).status_code == 422


async def test_filters_sorting_and_counts(client: httpx.AsyncClient) -> None:
    flow_id = (await client.post("/flows/", json={"name": "etl"})).json()["id"]
    other_flow_id = (await client.post("/flows/", json={"name": "other"})).json()["id"]
    run_1 = (await client.post("/flow_runs/", json={"flow_id": flow_id, "name": "first-run"})).json()["id"]
    run_2 = (await client.post("/flow_runs/", json={"flow_id": other_flow_id, "name": "second-run"})).json()["id"]
    task = await client.post("/task_runs/", json={"flow_run_id": run_1, "task_key": "t", "dynamic_key": "0"})
    task_id = task.json()["id"]

    a1 = (await _create(client, key="alpha", type="markdown", flow_run_id=run_1, task_run_id=task_id))["id"]
    a2 = (await _create(client, key="alpha", type="table", flow_run_id=run_1))["id"]
    a3 = (await _create(client, key="beta-report", type="table", flow_run_id=run_2))["id"]
    a4 = (await _create(client, type="result"))["id"]

    def artifacts(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"artifacts": spec, "sort": "CREATED_DESC", **extra}

    assert await _ids(client, "/artifacts/filter", {}) == sorted([a1, a2, a3, a4], reverse=True)
    assert await _ids(client, "/artifacts/filter", {"sort": "CREATED_DESC"}) == [a4, a3, a2, a1]
    assert await _ids(client, "/artifacts/filter", artifacts({"id": {"any_": [a1, a3]}})) == [a3, a1]
    assert await _ids(client, "/artifacts/filter", artifacts({"key": {"any_": ["alpha"]}})) == [a2, a1]
    assert await _ids(client, "/artifacts/filter", artifacts({"key": {"like_": "REP"}})) == [a3]
    assert await _ids(client, "/artifacts/filter", artifacts({"key": {"exists_": False}})) == [a4]
    assert await _ids(client, "/artifacts/filter", artifacts({"key": {"exists_": True}})) == [a3, a2, a1]
    assert await _ids(client, "/artifacts/filter", artifacts({"type": {"any_": ["table"]}})) == [a3, a2]
    assert await _ids(client, "/artifacts/filter", artifacts({"type": {"not_any_": ["table"]}})) == [a4, a1]
    assert await _ids(client, "/artifacts/filter", artifacts({"flow_run_id": {"any_": [run_1]}})) == [a2, a1]
    assert await _ids(client, "/artifacts/filter", artifacts({"task_run_id": {"any_": [task_id]}})) == [a1]
    either = {"operator": "or_", "type": {"any_": ["result"]}, "key": {"any_": ["beta-report"]}}
    assert await _ids(client, "/artifacts/filter", artifacts(either)) == [a4, a3]

    # Filters on the runs an artifact belongs to.
    by_run_name = {"flow_runs": {"name": {"any_": ["second-run"]}}, "sort": "CREATED_DESC"}
    assert await _ids(client, "/artifacts/filter", by_run_name) == [a3]
    assert await _ids(client, "/artifacts/filter", {"flow_runs": {}, "sort": "CREATED_DESC"}) == [a3, a2, a1]
    by_flow = await _ids(client, "/artifacts/filter", {"flows": {"name": {"any_": ["etl"]}}, "sort": "CREATED_DESC"})
    assert by_flow == [a2, a1]
    assert await _ids(client, "/artifacts/filter", {"task_runs": {}}) == [a1]
    assert await _ids(client, "/artifacts/filter", {"deployments": {}}) == []

    # Sorting: keyless artifacts last both ways; ties broken by id.
    by_key = await _ids(client, "/artifacts/filter", {"sort": "KEY_ASC"})
    assert by_key == [*sorted([a1, a2]), a3, a4]
    assert await _ids(client, "/artifacts/filter", {"sort": "KEY_DESC"}) == [a3, *sorted([a1, a2], reverse=True), a4]
    assert await _ids(client, "/artifacts/filter", {"sort": "KEY_ASC", "limit": 2, "offset": 2}) == [a3, a4]

    count = await client.post("/artifacts/count", json={"artifacts": {"type": {"any_": ["table"]}}})
    assert count.json() == 2
    assert (await client.post("/artifacts/count", json={"flow_runs": {"id": {"any_": [run_2]}}})).json() == 1

    # The latest artifact of each key: alpha's is a2, beta-report's is a3.
    latest = (await client.post("/artifacts/latest/filter", json={"sort": "KEY_ASC"})).json()
    assert [(row["key"], row["latest_id"], row["type"]) for row in latest] == [
        ("alpha", a2, "table"),
        ("beta-report", a3, "table"),
    ]

    async def latest_keys(body: dict[str, Any]) -> list[str]:
        response = await client.post("/artifacts/latest/filter", json={"sort": "KEY_ASC", **body})
        assert response.status_code == 200, response.text
        return [row["key"] for row in response.json()]

    assert await latest_keys({"artifacts": {"latest_id": {"any_": [a2]}}}) == ["alpha"]
    assert await latest_keys({"artifacts": {"key": {"like_": "ALP"}}}) == ["alpha"]
    assert await latest_keys({"artifacts": {"type": {"any_": ["markdown"]}}}) == []
    assert await latest_keys({"flow_runs": {"id": {"any_": [run_2]}}}) == ["beta-report"]
    assert await latest_keys({"flows": {"name": {"any_": ["etl"]}}}) == ["alpha"]
    # alpha's latest version has no task run, so no collection matches a task-run filter.
    assert await latest_keys({"task_runs": {}}) == []
    assert (await client.post("/artifacts/latest/count")).json() == 2
    assert (
        await client.post("/artifacts/latest/count", json={"artifacts": {"flow_run_id": {"any_": [run_1]}}})
    ).json() == 1
