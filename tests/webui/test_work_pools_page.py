"""The Work Pools pages in a real browser: a pool with its default queue, a worker after a heartbeat, pausing a
queue and the pool, and deleting the pool after confirming."""

from __future__ import annotations

from typing import Any

import httpx

from tests.webui.conftest import UiServer


def test_pool_list_and_page_with_queues_and_workers(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    assert (
        api.post("/work_pools/", json={"name": "ui-pool", "type": "process", "concurrency_limit": 4}).status_code == 201
    )
    assert api.post("/work_pools/ui-pool/queues", json={"name": "urgent", "priority": 1}).status_code == 201
    assert api.post("/work_pools/ui-pool/workers/heartbeat", json={"name": "worker-one"}).status_code == 204

    page.goto(ui_server.url + "/work-pools")
    row = page.locator('tr[data-pool-name="ui-pool"]')
    text = row.inner_text()
    assert "process" in text and "Ready" in text and "4" in text
    assert row.locator('[data-count="queues"]').inner_text() == "2"
    assert row.locator('[data-count="online-workers"]').inner_text() == "1"

    with page.expect_navigation():
        row.locator("a.pool-name").click()
    assert page.url.endswith("/work-pools/ui-pool")
    queues = page.locator("#queues tbody tr")
    assert queues.count() == 2
    assert "(default)" in page.locator('#queues tr[data-queue-name="default"]').inner_text()
    assert "urgent" in queues.first.inner_text()  # priority 1 first
    worker = page.locator('#workers tr[data-worker-name="worker-one"]')
    assert "Online" in worker.inner_text()
    assert worker.locator("time[data-format=relative]").count() == 1
    assert "ago" in worker.inner_text() or "now" in worker.inner_text()

    # Pause a queue: its button says Resume and the API says it is paused.
    default = page.locator('#queues tr[data-queue-name="default"]')
    default.locator('[data-queue-action="pause"]').click()
    page.locator('#queues tr[data-queue-name="default"] [data-queue-action="resume"]').wait_for()
    assert "Paused" in page.locator('#queues tr[data-queue-name="default"] [data-status]').inner_text()
    assert api.get("/work_pools/ui-pool/queues/default").json()["is_paused"] is True

    # The default queue cannot be deleted; another one can, after confirming.
    assert page.locator('#queues tr[data-queue-name="default"] [data-queue-action="delete"]').count() == 0
    page.locator('#queues tr[data-queue-name="urgent"] [data-queue-action="delete"]').click()
    assert "Delete the queue urgent?" in page.locator("#confirm-message").inner_text()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator('#queues tr[data-queue-name="urgent"]').count() == 0
    assert api.get("/work_pools/ui-pool/queues/urgent").status_code == 404

    # Pause and resume the pool.
    page.click("#pause-pool")
    page.locator("#resume-pool").wait_for()
    assert "Paused" in page.locator("#pool-status").inner_text()
    assert api.get("/work_pools/ui-pool").json()["is_paused"] is True
    page.click("#resume-pool")
    page.locator("#pause-pool").wait_for()
    assert api.get("/work_pools/ui-pool").json()["is_paused"] is False


def test_delete_a_pool_after_confirming(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    assert api.post("/work_pools/", json={"name": "ui-doomed pool", "type": "process"}).status_code == 201
    page.goto(ui_server.url + "/work-pools")
    with page.expect_navigation():
        page.locator('tr[data-pool-name="ui-doomed pool"] a.pool-name').click()
    assert "No workers yet" in page.locator("main").inner_text()

    page.click("#delete-pool")
    assert "Delete the work pool ui-doomed pool" in page.locator("#confirm-message").inner_text()
    page.click("#confirm-dialog button[value=cancel]")
    assert api.get("/work_pools/ui-doomed pool").status_code == 200

    page.click("#delete-pool")
    with page.expect_navigation(url="**/work-pools"):
        page.click("#confirm-ok")
    assert page.locator('tr[data-pool-name="ui-doomed pool"]').count() == 0
    assert api.get("/work_pools/ui-doomed pool").status_code == 404


def test_unknown_pool_is_a_404_page(page: Any, ui_server: UiServer) -> None:
    response = page.goto(ui_server.url + "/work-pools/no-such-pool")
    assert response.status == 404
    assert "no-such-pool" in page.locator("main").inner_text()
    page.browser_errors.expect("404")
