"""Flows over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx


async def test_create_is_an_upsert_by_name(client: httpx.AsyncClient) -> None:
    first = await client.post("/flows/", json={"name": "etl", "tags": ["a"]})
    assert first.status_code == 201
    again = await client.post("/flows/", json={"name": "etl"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["tags"] == ["a"]


async def test_read_by_id_and_name_update_and_delete(client: httpx.AsyncClient) -> None:
    flow = (await client.post("/flows/", json={"name": "report"})).json()
    assert (await client.get(f"/flows/{flow['id']}")).json()["name"] == "report"
    assert (await client.get("/flows/name/report")).json()["id"] == flow["id"]

    assert (await client.patch(f"/flows/{flow['id']}", json={"tags": ["nightly"]})).status_code == 204
    assert (await client.get(f"/flows/{flow['id']}")).json()["tags"] == ["nightly"]

    assert (await client.delete(f"/flows/{flow['id']}")).status_code == 204
    missing = await client.get(f"/flows/{flow['id']}")
    assert missing.status_code == 404
    assert flow["id"] in missing.json()["detail"]
    assert (await client.get("/flows/name/report")).status_code == 404


async def test_filter_count_and_paginate(client: httpx.AsyncClient) -> None:
    for name in ("alpha", "beta", "gamma"):
        await client.post("/flows/", json={"name": name, "tags": ["x"] if name != "beta" else []})
    names = [f["name"] for f in (await client.post("/flows/filter", json={"sort": "NAME_DESC"})).json()]
    assert names == ["gamma", "beta", "alpha"]
    tagged = await client.post("/flows/filter", json={"flows": {"tags": {"all_": ["x"]}}, "sort": "NAME_ASC"})
    assert [f["name"] for f in tagged.json()] == ["alpha", "gamma"]
    assert (await client.post("/flows/count", json={"flows": {"name": {"like_": "AMM"}}})).json() == 1
    page = (await client.post("/flows/paginate", json={"page": 2, "limit": 2, "sort": "NAME_ASC"})).json()
    assert page == {"results": page["results"], "count": 3, "limit": 2, "pages": 2, "page": 2}
    assert [f["name"] for f in page["results"]] == ["gamma"]


async def test_bad_input_is_a_clear_4xx(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/flows/", json={"name": "x", "colour": "red"})
    assert unknown.status_code == 422
    assert "colour" in unknown.text
    bad_name = await client.post("/flows/", json={"name": "a/b"})
    assert bad_name.status_code == 422
    assert "invalid character" in bad_name.text
    malformed = await client.post("/flows/", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert "Malformed JSON" in malformed.text
    bad_uuid = await client.get("/flows/not-a-uuid")
    assert bad_uuid.status_code == 422
    assert "not-a-uuid" in bad_uuid.text
    too_many = await client.post("/flows/filter", json={"limit": 201})
    assert too_many.status_code == 422
    assert "200" in too_many.text
    assert (await client.patch(f"/flows/{uuid.uuid4()}", json={"tags": []})).status_code == 404
    assert (await client.get("/no/such/endpoint")).status_code == 404


async def test_nul_characters_are_refused_on_every_database(client: httpx.AsyncClient) -> None:
    """PostgreSQL cannot store NUL in text; Baton refuses it everywhere rather than answer 500 on one database."""
    response = await client.post("/flows/", json={"name": "nul\u0000name"})
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]
    assert (await client.get("/flows/name/nul%00name")).status_code == 422


async def test_a_rejected_long_value_is_not_echoed_in_full(client: httpx.AsyncClient) -> None:
    response = await client.post("/flows/", json={"name": "x" * 10_000})
    assert response.status_code == 422
    assert len(response.text) < 2_000


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(client: httpx.AsyncClient) -> None:
    response = await client.post("/flows/", json={"name": "C:\\u0000dir"})
    assert response.status_code == 201
    assert response.json()["name"] == "C:\\u0000dir"
