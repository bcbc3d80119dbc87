"""The work pool and work queue forms in a real browser: create a process pool with its template defaults, a
duplicate name refused with the API's 409 message, editing a pool's limit and template, and adding, editing and
pausing a queue; each checked through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.webui.conftest import UiServer


def test_create_a_process_pool_through_the_form(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/work-pools")
    with page.expect_navigation():
        page.click("#new-pool")
    assert page.url.endswith("/work-pools/new")
    # The worker types come from the collection view; the process template's variables become fields.
    page.locator('#pool-type option[value="process"]').wait_for(state="attached")
    page.select_option("#pool-type", "process")
    page.locator("#job-variable-working_dir").wait_for()
    assert page.is_checked("#job-variable-stream_output")
    assert "directory the flow run's process starts in" in page.inner_text("#job-variables")

    page.fill("#pool-name", "form-pool")
    page.fill("#pool-description", "Made in the browser")
    page.fill("#pool-concurrency-limit", "3")
    page.fill("#job-variable-working_dir", "/srv/flows")
    page.fill("#job-variable-env", '{"MODE": "test"}')
    page.uncheck("#job-variable-stream_output")
    with page.expect_navigation(url="**/work-pools/form-pool"):
        page.click("#save-pool")
    assert "Made in the browser" in page.inner_text("#pool-details")

    pool = api.get("/work_pools/form-pool").json()
    assert pool["type"] == "process"
    assert pool["description"] == "Made in the browser"
    assert pool["concurrency_limit"] == 3
    variables = pool["base_job_template"]["variables"]["properties"]
    assert variables["working_dir"]["default"] == "/srv/flows"
    assert variables["env"]["default"] == {"MODE": "test"}
    assert variables["stream_output"]["default"] is False
    assert "default" not in variables["command"]
    assert pool["base_job_template"]["job_configuration"]["working_dir"] == "{{ working_dir }}"

    page.goto(ui_server.url + "/work-pools")
    row = page.locator('tr[data-pool-name="form-pool"]')
    assert "process" in row.inner_text() and "3" in row.inner_text()

    # The edit form shows the template defaults the pool was made with.
    page.goto(ui_server.url + "/work-pools/form-pool/edit")
    page.locator("#job-variable-working_dir").wait_for()
    assert page.input_value("#job-variable-working_dir") == "/srv/flows"
    assert not page.is_checked("#job-variable-stream_output")


def test_a_duplicate_name_shows_the_api_message(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    assert api.post("/work_pools/", json={"name": "taken-pool", "type": "process"}).status_code == 201
    page.goto(ui_server.url + "/work-pools/new")
    page.locator('#pool-type option[value="process"]').wait_for(state="attached")
    page.fill("#pool-name", "taken-pool")
    page.click("#save-pool")
    error = page.locator('[data-error-for="name"]')
    page.wait_for_function("document.querySelector('[data-error-for=\"name\"]').textContent.length > 0")
    assert "A work pool named 'taken-pool' already exists." in error.inner_text()
    assert page.url.endswith("/work-pools/new")
    page.browser_errors.expect("409")

    # A bad template value is refused in the browser before anything is sent.
    page.fill("#pool-name", "other-pool")
    page.fill("#job-variable-env", "{not json")
    page.click("#save-pool")
    assert "Not valid JSON" in page.inner_text('[data-error-for="variable.env"]')
    assert api.get("/work_pools/other-pool").status_code == 404


def test_edit_a_pool_limit_and_template(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    metadata = api.get("/collections/views/aggregate-worker-metadata").json()
    template = metadata["prefect-docker"]["docker"]["default_base_job_configuration"]
    body = {"name": "edit-pool", "type": "docker", "base_job_template": template}
    assert api.post("/work_pools/", json=body).status_code == 201
    page.goto(ui_server.url + "/work-pools/edit-pool")
    with page.expect_navigation():
        page.click("#edit-pool")
    assert page.url.endswith("/work-pools/edit-pool/edit")
    page.locator("#job-variable-image").wait_for()
    page.fill("#pool-concurrency-limit", "7")
    page.fill("#job-variable-volumes", "/data:/data:ro\n/tmp:/tmp")
    page.check("#pool-paused")
    with page.expect_navigation(url="**/work-pools/edit-pool"):
        page.click("#save-pool")
    pool = api.get("/work_pools/edit-pool").json()
    assert pool["concurrency_limit"] == 7
    assert pool["is_paused"] is True
    assert pool["base_job_template"]["variables"]["properties"]["volumes"]["default"] == ["/data:/data:ro", "/tmp:/tmp"]

    # A negative limit: the API's 422 is shown by the field.
    page.goto(ui_server.url + "/work-pools/edit-pool/edit")
    page.fill("#pool-concurrency-limit", "-1")
    page.click("#save-pool")
    page.wait_for_function("document.querySelector('[data-error-for=\"concurrency_limit\"]').textContent.length > 0")
    page.browser_errors.expect("422")
    assert api.get("/work_pools/edit-pool").json()["concurrency_limit"] == 7


def test_add_edit_and_pause_a_queue(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    assert api.post("/work_pools/", json={"name": "queue-pool", "type": "process"}).status_code == 201
    page.goto(ui_server.url + "/work-pools/queue-pool")
    page.fill("#queue-name", "fast lane")
    page.fill("#queue-description", "Urgent runs")
    page.fill("#queue-priority", "1")
    page.fill("#queue-concurrency-limit", "2")
    with page.expect_navigation():
        page.click("#save-queue")
    row = page.locator('#queues tr[data-queue-name="fast lane"]')
    assert page.locator("#queues tbody tr").first.get_attribute("data-queue-name") == "fast lane"
    queue = api.get("/work_pools/queue-pool/queues/fast lane").json()
    assert (queue["priority"], queue["concurrency_limit"], queue["description"]) == (1, 2, "Urgent runs")

    # Pause it from its row.
    row.locator('[data-queue-action="pause"]').click()
    page.locator('#queues tr[data-queue-name="fast lane"] [data-queue-action="resume"]').wait_for()
    assert api.get("/work_pools/queue-pool/queues/fast lane").json()["is_paused"] is True

    # Edit it: the form takes its values, a new limit is saved and it stays paused.
    page.locator('#queues tr[data-queue-name="fast lane"] [data-queue-action="edit"]').click()
    assert page.inner_text("#queue-form-title") == "Edit queue fast lane"
    assert page.input_value("#queue-priority") == "1"
    assert page.is_checked("#queue-paused")
    page.fill("#queue-concurrency-limit", "5")
    with page.expect_navigation():
        page.click("#save-queue")
    queue = api.get("/work_pools/queue-pool/queues/fast lane").json()
    assert (queue["priority"], queue["concurrency_limit"], queue["is_paused"]) == (1, 5, True)

    # A second queue with the same name: the API's 409 by the name field.
    page.fill("#queue-name", "fast lane")
    page.click("#save-queue")
    page.wait_for_function("document.querySelector('#queue-form [data-error-for=\"name\"]').textContent.length > 0")
    assert "already exists" in page.inner_text('#queue-form [data-error-for="name"]')
    page.browser_errors.expect("409")
