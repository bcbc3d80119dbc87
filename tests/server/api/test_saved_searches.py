"""Saved searches over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx

FILTER = {"object": "flow_run", "property": "state", "type": "string", "operation": "any", "value": ["FAILED"]}


async def test_put_creates_then_replaces_by_name(client: httpx.AsyncClient) -> None:
    created = await client.put("/saved_searches/", json={"name": "failures", "filters": [FILTER]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["filters"]) == ("failures", [FILTER])
    assert (await client.get(f"/saved_searches/{body['id']}")).json() == body

    replaced = await client.put("/saved_searches/", json={"name": "failures", "filters": []})
    assert replaced.status_code == 200
    assert replaced.json()["id"] == body["id"]
    assert replaced.json()["filters"] == []
    assert (await client.get(f"/saved_searches/{body['id']}")).json()["filters"] == []


async def test_filter_lists_by_name_with_limit_and_offset(client: httpx.AsyncClient) -> None:
    for name in ("zeta", "alpha", "mid"):
        assert (await client.put("/saved_searches/", json={"name": name})).status_code == 201
    names = [search["name"] for search in (await client.post("/saved_searches/filter", json={})).json()]
    assert names == ["alpha", "mid", "zeta"]
    page = (await client.post("/saved_searches/filter", json={"limit": 1, "offset": 1})).json()
    assert [search["name"] for search in page] == ["mid"]
    assert (await client.post("/saved_searches/filter")).status_code == 200
    too_many = await client.post("/saved_searches/filter", json={"limit": 10_000})
    assert too_many.status_code == 422
    assert "limit" in too_many.json()["detail"]


async def test_delete_and_missing_ones_are_404(client: httpx.AsyncClient) -> None:
    search = (await client.put("/saved_searches/", json={"name": "gone"})).json()
    assert (await client.delete(f"/saved_searches/{search['id']}")).status_code == 204
    for response in (
        await client.get(f"/saved_searches/{search['id']}"),
        await client.delete(f"/saved_searches/{search['id']}"),
        await client.get(f"/saved_searches/{uuid.uuid4()}"),
    ):
        assert response.status_code == 404
        assert "does not exist" in response.json()["detail"]
    assert (await client.get("/saved_searches/not-an-id")).status_code == 422


async def test_bad_bodies_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    cases = [
        ({"filters": []}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "x", "filters": [{"object": "flow_run"}]}, "property"),
        ({"name": "x", "filters": [{**FILTER, "extra": 1}]}, "extra"),
        ({"name": "x", "filters": [FILTER] * 101}, "filters"),
        ({"name": "x", "filter": []}, "filter"),
    ]
    for body, field in cases:
        response = await client.put("/saved_searches/", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["detail"], response.json()
    assert (await client.post("/saved_searches/filter", json={})).json() == []
