"""The Concurrency page in a real browser: global limits created, edited, reset and deleted through its forms and
buttons, the API's validation messages shown next to the fields, tag limits and the runs holding their slots."""

from __future__ import annotations

from typing import Any

import httpx

from tests.webui.conftest import UiServer


def _global_row(page: Any, name: str) -> Any:
    return page.locator(f'#global-limits tr[data-limit-name="{name}"]')


def test_create_edit_and_delete_a_global_limit(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/concurrency")
    page.fill("#global-name", "ui-warehouse")
    page.fill("#global-limit", "4")
    page.fill("#global-decay", "0")
    page.click("#create-global-limit button[type=submit]")
    row = _global_row(page, "ui-warehouse")
    row.wait_for()
    assert "0 / 4" in row.inner_text() and "Active" in row.inner_text()
    stored = api.get("/v2/concurrency_limits/ui-warehouse").json()
    assert (stored["limit"], stored["active"], stored["slot_decay_per_second"]) == (4, True, 0.0)

    row.locator("[data-edit-global]").click()
    page.fill("#edit-global-limit-value", "7")
    page.fill("#edit-global-decay", "0.5")
    page.uncheck("#edit-global-active")
    with page.expect_navigation():
        page.click("#edit-global-limit button[type=submit]")
    row = _global_row(page, "ui-warehouse")
    assert "Inactive" in row.inner_text() and "0 / 7" in row.inner_text()
    stored = api.get("/v2/concurrency_limits/ui-warehouse").json()
    assert (stored["limit"], stored["active"], stored["slot_decay_per_second"]) == (7, False, 0.5)

    # Cancelling the confirmation leaves the limit; confirming deletes it.
    row.locator("button.danger").click()
    assert "Delete the global limit ui-warehouse?" in page.locator("#confirm-message").inner_text()
    page.click("#confirm-dialog button[value=cancel]")
    assert api.get("/v2/concurrency_limits/ui-warehouse").status_code == 200
    row.locator("button.danger").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert _global_row(page, "ui-warehouse").count() == 0
    assert api.get("/v2/concurrency_limits/ui-warehouse").status_code == 404


def test_bad_values_show_the_apis_message_next_to_the_field(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/concurrency")
    page.fill("#global-name", "ui-negative")
    page.fill("#global-limit", "-1")
    page.click("#create-global-limit button[type=submit]")
    error = page.locator('#create-global-limit [data-error-for="limit"]')
    error.wait_for(state="visible")
    page.wait_for_function("document.querySelector('#create-global-limit [data-error-for=limit]').textContent !== ''")
    assert error.inner_text() == "Input should be greater than or equal to 0"
    assert page.locator("#flash").inner_text() == "Limit: Input should be greater than or equal to 0"
    assert page.get_attribute("#global-limit", "aria-invalid") == "true"

    page.fill("#global-name", "")
    page.fill("#global-limit", "2")
    page.click("#create-global-limit button[type=submit]")
    page.wait_for_function("document.querySelector('#create-global-limit [data-error-for=name]').textContent !== ''")
    assert "at least 1 character" in page.locator('#create-global-limit [data-error-for="name"]').inner_text()
    assert page.locator('#create-global-limit [data-error-for="limit"]').inner_text() == ""

    # A name that is taken: the API's 409 message, in the form.
    assert api.post("/v2/concurrency_limits/", json={"name": "ui-taken", "limit": 1}).status_code == 201
    page.fill("#global-name", "ui-taken")
    page.click("#create-global-limit button[type=submit]")
    page.wait_for_function("document.querySelector('#create-global-limit [data-error-for=_form]').textContent !== ''")
    assert "already exists" in page.locator('#create-global-limit [data-error-for="_form"]').inner_text()
    page.browser_errors.expect("status of 422")
    page.browser_errors.expect("status of 409")
    names = [row["name"] for row in api.post("/v2/concurrency_limits/filter", json={}).json()]
    assert "ui-negative" not in names and "" not in names


def test_tag_limit_create_holders_reset_and_delete(
    page: Any, ui_server: UiServer, api: httpx.Client, seeded_runs: dict[str, str]
) -> None:
    page.goto(ui_server.url + "/concurrency")
    page.fill("#tag-name", "ui-db")
    page.fill("#tag-limit", "2")
    with page.expect_navigation():
        page.click("#create-tag-limit button[type=submit]")
    assert api.get("/concurrency_limits/tag/ui-db").json()["concurrency_limit"] == 2

    # A task run of a seeded run takes a slot through the v1 API; a flow run holds a global limit under a lease.
    task_runs = api.post(
        "/task_runs/filter", json={"flow_runs": {"id": {"any_": [seeded_runs["nightly-1"]]}}, "limit": 1}
    ).json()
    task_run = task_runs[0]
    taken = api.post("/concurrency_limits/increment", json={"names": ["ui-db"], "task_run_id": task_run["id"]})
    assert taken.status_code == 200, taken.text
    assert api.post("/v2/concurrency_limits/", json={"name": "ui-leased", "limit": 1}).status_code == 201
    flow_run = api.get(f"/flow_runs/{seeded_runs['nightly-2']}").json()
    lease = api.post(
        "/v2/concurrency_limits/increment-with-lease",
        json={
            "names": ["ui-leased"],
            "slots": 1,
            "lease_duration": 600,
            "holder": {"type": "flow_run", "id": flow_run["id"]},
        },
    )
    assert lease.status_code == 200, lease.text

    page.reload()
    tag_row = page.locator('#tag-limits tr[data-tag="ui-db"]')
    assert "1 / 2" in tag_row.inner_text()
    link = tag_row.locator(f'a[href="/runs/flow-run/{seeded_runs["nightly-1"]}"]')
    assert link.inner_text() == task_run["name"]
    assert "held until released" in tag_row.inner_text()
    leased_row = _global_row(page, "ui-leased")
    assert "1 / 1" in leased_row.inner_text()
    assert leased_row.locator(f'a[href="/runs/flow-run/{flow_run["id"]}"]').inner_text() == flow_run["name"]
    assert "lease ends in" in leased_row.inner_text()

    tag_row.locator("text=Reset").click()
    assert "Release every slot of the tag ui-db?" in page.locator("#confirm-message").inner_text()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert api.get("/concurrency_limits/tag/ui-db").json()["active_slots"] == []
    assert "0 / 2" in page.locator('#tag-limits tr[data-tag="ui-db"]').inner_text()

    page.locator('#tag-limits tr[data-tag="ui-db"] [data-edit-tag]').click()
    page.fill("#edit-tag-limit-value", "5")
    with page.expect_navigation():
        page.click("#edit-tag-limit button[type=submit]")
    assert api.get("/concurrency_limits/tag/ui-db").json()["concurrency_limit"] == 5

    page.locator('#tag-limits tr[data-tag="ui-db"] button.danger').click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert api.get("/concurrency_limits/tag/ui-db").status_code == 404
    assert page.locator('#tag-limits tr[data-tag="ui-db"]').count() == 0


def test_tag_names_are_escaped_and_reach_the_api_intact(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    tag = "<b>odd</b> / tag"
    assert api.post("/concurrency_limits/", json={"tag": tag, "concurrency_limit": 1}).status_code == 201
    page.goto(ui_server.url + "/concurrency")
    assert page.locator("#tag-limits b").count() == 0
    row = page.locator("#tag-limits tr", has_text="odd")
    assert tag in row.inner_text()
    row.locator("text=Reset").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator("#flash").is_hidden()
    row = page.locator("#tag-limits tr", has_text="odd")
    row.locator("button.danger").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert all(item["tag"] != tag for item in api.post("/concurrency_limits/filter", json={}).json())
