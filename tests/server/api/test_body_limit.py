"""Over-long request bodies get a 413 with a reason, not Tornado's bare 400."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from baton.settings import Settings

LIMIT = 2_000


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, server_api_max_body_bytes=LIMIT)


async def test_a_body_over_the_limit_is_a_413_that_says_the_limit(client: httpx.AsyncClient) -> None:
    response = await client.post("/flows/", json={"name": "x", "tags": ["t" * 50] * 60})
    assert response.status_code == 413
    assert response.json()["detail"].endswith(f"this server accepts at most {LIMIT} (BATON_SERVER_API_MAX_BODY_BYTES).")
    assert (await client.post("/flows/filter", json={})).status_code == 200  # the server goes on serving


async def test_a_body_far_over_the_limit_is_refused_without_reading_it(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=f"{base_url}/api") as http:
        try:
            response = await http.post("/flows/", content=b"x" * (LIMIT * 100), headers={"Content-Type": "text/plain"})
        except httpx.TransportError:
            return  # the server may close the connection while the client is still sending
        assert response.status_code == 400


async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = b'{"name": "fits", "tags": ["' + b"t" * (LIMIT - 30) + b'"]}'
    body = body[: LIMIT - 3] + b'"]}'
    assert len(body) == LIMIT
    response = await client.post("/flows/", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
