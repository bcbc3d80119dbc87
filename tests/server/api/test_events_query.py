"""Reading events over real HTTP on SQLite and PostgreSQL: /events/filter, its pages, and /events/count-by."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from baton.server.database.engine import Database
from tests.server.api.events_helpers import NOW, event, related, seed


async def _names(client: httpx.AsyncClient, spec: dict[str, Any], **body: Any) -> list[str]:
    response = await client.post("/events/filter", json={"filter": spec, **body})
    assert response.status_code == 200, response.text
    return [item["event"] for item in response.json()["events"]]


def _ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


async def test_filters_by_name_resource_and_related(client: httpx.AsyncClient, database: Database) -> None:
    flow_run = related("prefect.flow-run.1", "flow-run", **{"prefect.resource.name": "brave-otter"})
    await seed(
        database,
        event("prefect.task-run.Running", "prefect.task-run.a", _ago(minutes=5), [flow_run, related("t", "tag")]),
        event("prefect.task-run.Completed", "prefect.task-run.a", _ago(minutes=4), [flow_run]),
        event("prefect.flow-run.Running", "prefect.flow-run.1", _ago(minutes=6), prefect_resource_name="brave"),
        event("custom.thing", "my.resource", _ago(minutes=3), [related("prefect.flow-run.1", "other")]),
    )
    assert await _names(client, {"event": {"prefix": ["prefect.task-run."]}, "order": "ASC"}) == [
        "prefect.task-run.Running",
        "prefect.task-run.Completed",
    ]
    assert await _names(client, {"event": {"exclude_prefix": ["prefect."]}}) == ["custom.thing"]
    assert await _names(client, {"event": {"name": ["custom.thing", "prefect.flow-run.Running"]}}) == [
        "custom.thing",
        "prefect.flow-run.Running",
    ]
    assert await _names(client, {"resource": {"id": ["prefect.flow-run.1"]}}) == ["prefect.flow-run.Running"]
    assert await _names(client, {"resource": {"id_prefix": ["my."]}}) == ["custom.thing"]
    # Label values are globs; `!` negates.
    assert await _names(client, {"resource": {"labels": {"prefect.resource.name": "bra*"}}}) == [
        "prefect.flow-run.Running"
    ]
    assert await _names(client, {"resource": {"labels": {"prefect.resource.id": "!prefect.*"}}}) == ["custom.thing"]

    # Role and id must hold for the same related resource.
    by_role = {"related": {"role": ["flow-run"], "id": ["prefect.flow-run.1"]}, "order": "ASC"}
    assert await _names(client, by_role) == ["prefect.task-run.Running", "prefect.task-run.Completed"]
    assert await _names(client, {"related": {"resources_in_roles": [["prefect.flow-run.1", "other"]]}}) == [
        "custom.thing"
    ]
    assert await _names(client, {"related": {"role": ["tag"], "id": ["prefect.flow-run.1"]}}) == []
    assert await _names(client, {"related": [{"role": ["tag"]}, {"role": ["flow-run"]}]}) == [
        "prefect.task-run.Running"
    ]
    assert await _names(client, {"related": {"labels": {"prefect.resource.name": "brave-*"}}, "order": "ASC"}) == [
        "prefect.task-run.Running",
        "prefect.task-run.Completed",
    ]
    # any_resource looks at the primary resource and the related ones.
    assert await _names(client, {"any_resource": {"id": ["prefect.flow-run.1"]}, "order": "ASC"}) == [
        "prefect.flow-run.Running",
        "prefect.task-run.Running",
        "prefect.task-run.Completed",
        "custom.thing",
    ]
    assert await _names(client, {"text": {"query": "otter -completed"}}) == ["prefect.task-run.Running"]


async def test_time_window_order_and_defaults(client: httpx.AsyncClient, database: Database) -> None:
    await seed(
        database,
        event("old", "r", _ago(days=2)),
        event("middle", "r", _ago(hours=5)),
        event("recent", "r", _ago(minutes=1)),
        event("ancient", "r", _ago(days=400)),
    )
    # The default window reaches 180 days back, newest first.
    response = await client.post("/events/filter", json={})
    assert response.status_code == 200, response.text
    page = response.json()
    assert [item["event"] for item in page["events"]] == ["recent", "middle", "old"]
    assert page["total"] == 3
    assert page["next_page"] is None
    first = page["events"][0]
    assert set(first) >= {"id", "occurred", "event", "resource", "related", "payload", "received", "follows"}
    assert first["resource"] == {"prefect.resource.id": "r"}

    window = {"since": _ago(days=1).isoformat(), "until": _ago(minutes=30).isoformat()}
    assert await _names(client, {"occurred": window}) == ["middle"]
    everything = {
        "occurred": {"since": _ago(days=500).isoformat(), "until": _ago(minutes=2).isoformat()},
        "order": "ASC",
    }
    assert await _names(client, everything) == ["ancient", "old", "middle"]


async def test_pages_follow_next_page_to_the_end(client: httpx.AsyncClient, database: Database) -> None:
    await seed(database, *(event(f"e{index}", "r", _ago(minutes=index)) for index in range(7)))
    await seed(database, event("other", "x", _ago(minutes=1)))
    response = await client.post("/events/filter", json={"filter": {"resource": {"id": ["r"]}}, "limit": 3})
    pages = [response.json()]
    while pages[-1]["next_page"]:
        assert pages[-1]["next_page"].startswith(f"{client.base_url.scheme}://{client.base_url.netloc.decode()}/api/")
        # Events recorded meanwhile do not shift later pages: the time range was fixed by the first page.
        await seed(database, event("e-late", "r"))
        following = await client.get(pages[-1]["next_page"])
        assert following.status_code == 200, following.text
        pages.append(following.json())
    assert [len(page["events"]) for page in pages] == [3, 3, 1]
    assert {page["total"] for page in pages} == {7}
    assert [item["event"] for page in pages for item in page["events"]] == [f"e{index}" for index in range(7)]


async def test_count_by_event_resource_and_time(client: httpx.AsyncClient, database: Database) -> None:
    today = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    await seed(
        database,
        event("a", "r1", today - dt.timedelta(days=2, hours=-1), prefect_resource_name="first name"),
        event("a", "r1", today, prefect_resource_name="second name"),
        event("b", "r2", today),
        event("a", "r2", today - dt.timedelta(days=2, hours=-2)),
    )
    spec = {"occurred": {"since": (today - dt.timedelta(days=3)).isoformat(), "until": NOW.isoformat()}}

    by_event = (await client.post("/events/count-by/event", json={"filter": spec})).json()
    assert [(item["value"], item["label"], item["count"]) for item in by_event] == [("a", "a", 3), ("b", "b", 1)]
    assert dt.datetime.fromisoformat(by_event[0]["start_time"]) == today - dt.timedelta(days=2, hours=-1)
    assert dt.datetime.fromisoformat(by_event[0]["end_time"]) == today

    by_resource = (await client.post("/events/count-by/resource", json={"filter": spec})).json()
    # The label is the resource's name in its latest event (or its id without a name).
    assert [(item["value"], item["label"], item["count"]) for item in by_resource] == [
        ("r2", "r2", 2),
        ("r1", "second name", 2),
    ]

    by_day = (await client.post("/events/count-by/day", json={"filter": spec})).json()
    assert [item["count"] for item in by_day] == [0, 2, 0, 2]
    assert [item["value"] for item in by_day] == ["0", "1", "2", "3"]
    assert dt.datetime.fromisoformat(by_day[3]["start_time"]) == today
    assert by_day[3]["label"] == today.isoformat()
    assert dt.datetime.fromisoformat(by_day[3]["end_time"]) == today + dt.timedelta(days=1, microseconds=-1)

    two_days = {"filter": spec, "time_unit": "day", "time_interval": 2}
    by_two_days = (await client.post("/events/count-by/time", json=two_days)).json()
    assert sum(item["count"] for item in by_two_days) == 4
    assert all(
        dt.datetime.fromisoformat(item["end_time"]) - dt.datetime.fromisoformat(item["start_time"])
        == dt.timedelta(days=2, microseconds=-1)
        for item in by_two_days
    )


async def test_bad_requests_are_422_with_a_reason(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/events/count-by/week", json={})
    assert unknown.status_code == 422
    assert "day, time, event, resource" in unknown.json()["detail"]

    too_many = await client.post("/events/count-by/time", json={"time_unit": "second", "time_interval": 1})
    assert too_many.status_code == 422
    assert "buckets" in too_many.json()["detail"]
    assert (await client.post("/events/count-by/time", json={"time_unit": "fortnight"})).status_code == 422
    assert (await client.post("/events/count-by/time", json={"time_interval": 0.001})).status_code == 422
    huge = await client.post("/events/count-by/time", json={"time_unit": "week", "time_interval": 1e12})
    assert huge.status_code == 422
    assert "interval" in huge.json()["detail"]
    year_one = {"occurred": {"since": "0001-01-01T00:00:00Z"}}
    assert (
        await client.post("/events/count-by/time", json={"filter": year_one, "time_interval": 1e6})
    ).status_code == 422

    assert (await client.post("/events/filter", json={"limit": 51})).status_code == 422
    misspelt = await client.post("/events/filter", json={"filter": {"events": {"prefix": ["x"]}}})
    assert misspelt.status_code == 422
    assert "events" in misspelt.json()["detail"]
    assert (await client.post("/events/filter", json={"filter": {"order": "SIDEWAYS"}})).status_code == 422

    for token in ("not-a-token!", "eyJmb28iOiAxfQ", ""):
        bad = await client.get("/events/filter/next", params={"page-token": token})
        assert bad.status_code == 422, token
        assert "page-token" in bad.json()["detail"]
    assert (await client.get("/events/filter/next")).status_code == 422
