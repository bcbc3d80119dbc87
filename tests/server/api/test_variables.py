"""Variables over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


async def _create(client: httpx.AsyncClient, name: str, value: Any = "v", **body: Any) -> dict[str, Any]:
    response = await client.post("/variables/", json={"name": name, "value": value, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def _names(client: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    response = await client.post("/variables/filter", json=body)
    assert response.status_code == 200, response.text
    return [variable["name"] for variable in response.json()]


async def test_any_json_value_round_trips(client: httpx.AsyncClient) -> None:
    values = ["text", 42, 2.5, True, None, [1, "two", None], {"nested": {"list": [1, 2]}, "flag": False}]
    for index, value in enumerate(values):
        created = await _create(client, f"my_var-{index}", value, tags=["a", "b"])
        assert created["name"] == f"my_var-{index}"
        assert created["value"] == value
        assert created["tags"] == ["a", "b"]
        assert created["created"] and created["updated"]
        by_id = (await client.get(f"/variables/{created['id']}")).json()
        by_name = (await client.get(f"/variables/name/my_var-{index}")).json()
        assert by_id == by_name == created


async def test_duplicate_name_is_a_409(client: httpx.AsyncClient) -> None:
    await _create(client, "dup", 1)
    again = await client.post("/variables/", json={"name": "dup", "value": 2})
    assert again.status_code == 409
    assert "dup" in again.json()["detail"]
    # The first one is untouched.
    assert (await client.get("/variables/name/dup")).json()["value"] == 1
    assert (await client.post("/variables/count", json={})).json() == 1


async def test_update_by_id_and_by_name(client: httpx.AsyncClient) -> None:
    variable = await _create(client, "target", "old", tags=["x"])
    patched = await client.patch(f"/variables/{variable['id']}", json={"value": {"k": 1}})
    assert patched.status_code == 204
    assert patched.content == b""
    after = (await client.get(f"/variables/{variable['id']}")).json()
    assert after["value"] == {"k": 1}
    assert after["tags"] == ["x"]  # fields not sent are unchanged
    assert after["updated"] > variable["updated"]

    assert (await client.patch("/variables/name/target", json={"tags": ["y", "z"], "value": None})).status_code == 204
    after = (await client.get("/variables/name/target")).json()
    assert after["tags"] == ["y", "z"]
    assert after["value"] is None  # an explicit null sets the value to null

    # A null name or tag list leaves them as they are; a new name renames.
    assert (await client.patch("/variables/name/target", json={"name": None, "tags": None})).status_code == 204
    assert (await client.get("/variables/name/target")).json()["tags"] == ["y", "z"]
    assert (await client.patch("/variables/name/target", json={"name": "renamed"})).status_code == 204
    assert (await client.get("/variables/name/target")).status_code == 404
    assert (await client.get("/variables/name/renamed")).json()["id"] == variable["id"]

    # Renaming onto a taken name is a 409, and nothing of that update is written.
    await _create(client, "first", 1)
    second = await _create(client, "second", 2)
    clash = await client.patch(f"/variables/{second['id']}", json={"name": "first", "value": 3})
    assert clash.status_code == 409
    assert "first" in clash.json()["detail"]
    assert (await client.get(f"/variables/{second['id']}")).json()["value"] == 2
    # Keeping one's own name is not a clash.
    assert (await client.patch(f"/variables/{second['id']}", json={"name": "second"})).status_code == 204


async def test_delete_by_id_and_by_name_and_404s(client: httpx.AsyncClient) -> None:
    one = await _create(client, "one")
    await _create(client, "two")
    assert (await client.delete(f"/variables/{one['id']}")).status_code == 204
    assert (await client.get(f"/variables/{one['id']}")).status_code == 404
    assert (await client.delete("/variables/name/two")).status_code == 204
    assert (await client.get("/variables/name/two")).status_code == 404
    assert (await client.post("/variables/count")).json() == 0

    missing = str(uuid.uuid4())
    for response in (
        await client.get(f"/variables/{missing}"),
        await client.patch(f"/variables/{missing}", json={"value": 1}),
        await client.delete(f"/variables/{missing}"),
        await client.get("/variables/name/nope"),
        await client.patch("/variables/name/nope", json={"value": 1}),
        await client.delete("/variables/name/nope"),
    ):
        assert response.status_code == 404, response.text
        assert "detail" in response.json()


async def test_bad_names_are_422_with_a_reason(client: httpx.AsyncClient) -> None:
    for name in ("Upper", "with space", "dotted.name", "a/b", "", "x" * 256):
        response = await client.post("/variables/", json={"name": name, "value": 1})
        assert response.status_code == 422, name
        assert "body.name" in response.json()["detail"]
    assert (await client.post("/variables/count")).json() == 0
    variable = await _create(client, "good")
    response = await client.patch(f"/variables/{variable['id']}", json={"name": "Bad Name"})
    assert response.status_code == 422
    assert "lowercase" in response.json()["detail"]


async def test_values_over_5000_characters_are_refused(client: httpx.AsyncClient) -> None:
    # A string of 4998 characters is 5000 once quoted as JSON: the largest value allowed.
    assert (await client.post("/variables/", json={"name": "fits", "value": "x" * 4998})).status_code == 201
    too_big = await client.post("/variables/", json={"name": "big", "value": "x" * 4999})
    assert too_big.status_code == 422
    assert "5000" in too_big.json()["detail"]
    big_list = await client.post("/variables/", json={"name": "big", "value": list(range(2000))})
    assert big_list.status_code == 422
    variable = (await client.get("/variables/name/fits")).json()
    grown = await client.patch(f"/variables/{variable['id']}", json={"value": {"k": "x" * 5000}})
    assert grown.status_code == 422
    assert (await client.get("/variables/name/fits")).json()["value"] == "x" * 4998


async def test_malformed_requests_are_4xx_not_500(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/variables/", json={"name": "x", "value": 1, "colour": "red"})
    assert unknown.status_code == 422
    assert "colour" in unknown.text
    missing_value = await client.post("/variables/", json={"name": "x"})
    assert missing_value.status_code == 422
    assert "value" in missing_value.text
    bad_tags = await client.post("/variables/", json={"name": "x", "value": 1, "tags": "a"})
    assert bad_tags.status_code == 422
    for response in (
        await client.get("/variables/not-a-uuid"),
        await client.patch("/variables/not-a-uuid", json={"value": 1}),
        await client.delete("/variables/not-a-uuid"),
    ):
        assert response.status_code == 422
        assert "not-a-uuid" in response.text
    assert (await client.patch(f"/variables/{uuid.uuid4()}", json={"colour": 1})).status_code == 422
    assert (await client.post("/variables/filter", json={"variables": {"nmae": {}}})).status_code == 422
    assert (await client.post("/variables/filter", json={"sort": "KEY_ASC"})).status_code == 422
    too_many = await client.post("/variables/filter", json={"limit": 201})
    assert too_many.status_code == 422
    assert "200" in too_many.text
    malformed = await client.post("/variables/", content=b"{no", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400


async def test_filters(client: httpx.AsyncClient) -> None:
    alpha = await _create(client, "alpha", tags=["prod", "db"])
    await _create(client, "beta_one", tags=["prod"])
    await _create(client, "gamma", tags=[])
    await _create(client, "betaxone", tags=["dev"])

    assert await _names(client, {}) == ["alpha", "beta_one", "betaxone", "gamma"]
    assert await _names(client, {"variables": {"id": {"any_": [alpha["id"]]}}}) == ["alpha"]
    assert await _names(client, {"variables": {"id": {"any_": []}}}) == []
    assert await _names(client, {"variables": {"name": {"any_": ["gamma", "alpha", "nope"]}}}) == ["alpha", "gamma"]
    # like_ is a case-insensitive substring in which `_` stays a one-character wildcard, as Prefect documents.
    assert await _names(client, {"variables": {"name": {"like_": "ETA"}}}) == ["beta_one", "betaxone"]
    assert await _names(client, {"variables": {"name": {"like_": "a_o"}}}) == ["beta_one", "betaxone"]
    assert await _names(client, {"variables": {"tags": {"all_": ["prod"]}}}) == ["alpha", "beta_one"]
    assert await _names(client, {"variables": {"tags": {"all_": ["prod", "db"]}}}) == ["alpha"]
    assert await _names(client, {"variables": {"tags": {"is_null_": True}}}) == ["gamma"]
    assert await _names(client, {"variables": {"tags": {"is_null_": False}}}) == ["alpha", "beta_one", "betaxone"]
    both = {"variables": {"name": {"like_": "beta"}, "tags": {"all_": ["dev"]}}}
    assert await _names(client, both) == ["betaxone"]
    either = {"variables": {"operator": "or_", "name": {"any_": ["gamma"]}, "tags": {"all_": ["dev"]}}}
    assert await _names(client, either) == ["betaxone", "gamma"]

    assert (await client.post("/variables/count", json={"variables": {"tags": {"all_": ["prod"]}}})).json() == 2
    assert (await client.post("/variables/count", json={"variables": {"name": {"any_": []}}})).json() == 0
    assert (await client.post("/variables/count")).json() == 4


async def test_sorting_and_paging(client: httpx.AsyncClient) -> None:
    for name in ("b", "c", "a"):
        await _create(client, name)
    assert await _names(client, {"sort": "NAME_DESC"}) == ["c", "b", "a"]
    assert await _names(client, {"sort": "NAME_ASC"}) == ["a", "b", "c"]
    assert await _names(client, {"sort": "CREATED_DESC"}) == ["a", "c", "b"]
    assert (await client.patch("/variables/name/c", json={"value": 2})).status_code == 204
    assert await _names(client, {"sort": "UPDATED_DESC"}) == ["c", "a", "b"]
    assert await _names(client, {"sort": "NAME_ASC", "limit": 2}) == ["a", "b"]
    assert await _names(client, {"sort": "NAME_ASC", "limit": 2, "offset": 2}) == ["c"]
