"""The Automations pages in a real browser: an automation made through each trigger form and several action forms
(the API's stored trigger compared with the JSON Prefect's UI makes for it), edited, turned off and on, deleted;
the API's 422 shown next to the field it names; the history of firings with each action's outcome and links; and
the deployment page's list of its automations.

Firings are recorded straight into the database (the engine that fires automations is not what is under test
here), in a thread of its own: Playwright's loop runs in the test's thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.webui.conftest import ARTIFACTS_DIR, UiServer


@dataclass(frozen=True)
class Objects:
    flow_id: str
    deployment_id: str
    work_pool_id: str
    work_queue_id: str
    notification_block_id: str
    webhook_block_id: str


def _block(api: httpx.Client, slug: str, name: str, data: dict[str, Any]) -> str:
    block_type = api.get(f"/block_types/slug/{slug}").json()
    schemas = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    document = api.post(
        "/block_documents/",
        json={
            "name": name,
            "block_type_id": block_type["id"],
            "block_schema_id": schemas.json()[0]["id"],
            "data": data,
        },
    )
    assert document.status_code == 201, document.text
    return str(document.json()["id"])


def _register_webhook_block_type(api: httpx.Client) -> None:
    """Prefect's Webhook block (what `prefect block register -m prefect.blocks.webhook` makes)."""
    if api.get("/block_types/slug/webhook").status_code == 200:
        return
    block_type = api.post("/block_types/", json={"name": "Webhook", "slug": "webhook"})
    assert block_type.status_code == 201, block_type.text
    fields = {
        "title": "Webhook",
        "type": "object",
        "properties": {"method": {"type": "string", "default": "POST"}, "url": {"type": "string"}},
        "required": ["url"],
    }
    schema = api.post(
        "/block_schemas/", json={"block_type_id": block_type.json()["id"], "fields": fields, "capabilities": []}
    )
    assert schema.status_code == 201, schema.text


@pytest.fixture(scope="module")
def objects(api: httpx.Client) -> Objects:
    flow = api.post("/flows/", json={"name": "auto-etl"}).json()
    deployment = api.post("/deployments/", json={"name": "nightly", "flow_id": flow["id"]})
    assert deployment.status_code in (200, 201), deployment.text
    pool = api.post("/work_pools/", json={"name": "auto-pool", "type": "process"})
    assert pool.status_code == 201, pool.text
    queue = api.post("/work_pools/auto-pool/queues", json={"name": "urgent"})
    assert queue.status_code == 201, queue.text
    _register_webhook_block_type(api)
    return Objects(
        flow_id=flow["id"],
        deployment_id=deployment.json()["id"],
        work_pool_id=pool.json()["id"],
        work_queue_id=queue.json()["id"],
        notification_block_id=_block(
            api, "custom-webhook", "ops-hook", {"name": "ops-hook", "url": "http://127.0.0.1:9/hook"}
        ),
        webhook_block_id=_block(api, "webhook", "cleanup-hook", {"url": "http://127.0.0.1:9/cleanup"}),
    )


def _automation(api: httpx.Client, name: str, trigger: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    response = api.post("/automations/", json={"name": name, "trigger": trigger, "actions": actions})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _stored(api: httpx.Client, automation_id: str) -> dict[str, Any]:
    found = api.get(f"/automations/{automation_id}")
    assert found.status_code == 200, found.text
    body = dict(found.json())
    body["trigger"].pop("id")
    return body


def _as_sets(trigger: dict[str, Any]) -> dict[str, Any]:
    """Label lists compared as sets: the API keeps `after`, `expect` and `for_each` as sets."""
    return {key: sorted(value) if key in ("after", "expect", "for_each") else value for key, value in trigger.items()}


def _save(page: Any) -> str:
    """Submit the form and wait for the automation's page; its id."""
    with page.expect_navigation(url="**/automations/*"):
        page.click('#automation-form [type="submit"]')
    return str(page.url.rstrip("/").rsplit("/", 1)[-1])


FAILED_RUN_TRIGGER = {
    "type": "event",
    "posture": "Reactive",
    "match": {"prefect.resource.id": "prefect.flow-run.*"},
    "match_related": {},
    "after": [],
    "expect": ["prefect.flow-run.Failed"],
    "for_each": ["prefect.resource.id"],
    "threshold": 1,
    "within": 0,
}


def test_flow_run_state_trigger_and_run_deployment_through_the_form(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    page.goto(ui_server.url + "/automations")
    with page.expect_navigation():
        page.click("text=New automation")
    page.fill("#automation-name", "Clean up after failures")
    page.fill("#automation-description", "Runs the clean-up deployment")
    page.fill("#automation-tags", "ops, cleanup")
    page.uncheck('input[name="flow_run_states"][value="Crashed"]')
    page.select_option("#flow-run-flows", objects.flow_id)
    page.fill("#flow-run-tags", "nightly")
    # The JSON follows the form as it changes.
    assert '"prefect.tag.nightly"' in page.input_value("#trigger-json")
    card = page.locator("[data-action-card]").first
    card.locator('[data-field="type"]').select_option("run-deployment")
    card.locator('[data-field="deployment_id"]').select_option(objects.deployment_id)
    card.locator('[data-field="parameters"]').fill('{"day": "{{ event.occurred }}"}')
    automation_id = _save(page)

    stored = _stored(api, automation_id)
    assert stored["name"] == "Clean up after failures"
    assert stored["description"] == "Runs the clean-up deployment"
    assert stored["tags"] == ["ops", "cleanup"]
    assert _as_sets(stored["trigger"]) == {
        **FAILED_RUN_TRIGGER,
        "match_related": [
            {"prefect.resource.role": "flow", "prefect.resource.id": [f"prefect.flow.{objects.flow_id}"]},
            {"prefect.resource.role": "tag", "prefect.resource.id": ["prefect.tag.nightly"]},
        ],
    }
    assert stored["actions"] == [
        {
            "type": "run-deployment",
            "source": "selected",
            "deployment_id": objects.deployment_id,
            "parameters": {"day": "{{ event.occurred }}"},
            "job_variables": None,
            "schedule_after": 0.0,
        }
    ]
    assert "When a flow run for flow auto-etl and tag nightly enters Failed" in page.inner_text("#trigger-words")
    assert "Run deployment auto-etl/nightly" in page.inner_text("#action-words")
    assert "This automation has not fired yet." in page.inner_text("#history")
    with page.expect_navigation():
        page.click("text=Turn off")
    assert page.inner_text("#automation-status") == "Off"
    assert api.get(f"/automations/{automation_id}").json()["enabled"] is False


def test_not_ready_trigger_with_work_queue_actions(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    page.goto(ui_server.url + "/automations/new")
    page.fill("#automation-name", "Queue stuck")
    page.select_option("#trigger-kind", "not-ready")
    assert page.locator('[data-trigger-form="flow-run-state"]').is_hidden()
    page.select_option("#not-ready-kind", "work-queue")
    assert page.locator("#not-ready-work-pool").is_hidden()
    page.select_option("#not-ready-work-queue", objects.work_queue_id)
    assert page.locator("#not-ready-within").is_hidden()
    page.select_option("#not-ready-posture", "Proactive")
    assert page.locator("#not-ready-within").is_visible()
    page.fill("#not-ready-within", "120")
    card = page.locator("[data-action-card]").first
    card.locator('[data-field="type"]').select_option("pause-work-queue")
    card.locator('[data-field="source"]').select_option("inferred")
    assert card.locator('[data-field="work_queue_id"]').is_hidden()
    page.click("#add-action")
    second = page.locator("[data-action-card]").nth(1)
    second.locator('[data-field="type"]').select_option("pause-work-pool")
    second.locator('[data-field="work_pool_id"]').select_option(objects.work_pool_id)
    second.locator('[data-field="phase"]').select_option("actions_on_resolve")
    automation_id = _save(page)

    stored = _stored(api, automation_id)
    assert _as_sets(stored["trigger"]) == {
        "type": "event",
        "posture": "Proactive",
        "match": {"prefect.resource.id": [f"prefect.work-queue.{objects.work_queue_id}"]},
        "match_related": {},
        "after": ["prefect.work-queue.not-ready"],
        "expect": ["prefect.work-queue.paused", "prefect.work-queue.ready"],
        "for_each": ["prefect.resource.id"],
        "threshold": 1,
        "within": 120.0,
    }
    assert stored["actions"] == [{"type": "pause-work-queue", "source": "inferred", "work_queue_id": None}]
    assert stored["actions_on_resolve"] == [
        {"type": "pause-work-pool", "source": "selected", "work_pool_id": objects.work_pool_id}
    ]
    assert "When work queue urgent stays not ready for 2m 0s" in page.inner_text("#trigger-words")
    page.goto(ui_server.url + "/automations")
    row = page.locator(f'tr[data-automation-id="{automation_id}"]')
    assert "On resolve: Pause work pool auto-pool" in row.locator("[data-actions-summary]").inner_text()
    page.goto(ui_server.url + f"/automations/{automation_id}")
    assert page.inner_text("#resolve-words") == "Pause work pool auto-pool"

    # The edit form puts each action back under its phase.
    page.goto(ui_server.url + f"/automations/{automation_id}/edit")
    assert page.input_value("#trigger-kind") == "not-ready"
    assert page.input_value("#not-ready-kind") == "work-queue"
    phases = [card.input_value() for card in page.locator('[data-field="phase"]').all()]
    assert phases == ["actions", "actions_on_resolve"]


def test_missing_event_trigger_with_a_checked_notification(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    page.goto(ui_server.url + "/automations/new")
    page.fill("#automation-name", "ETL did not finish")
    page.select_option("#trigger-kind", "missing-event")
    page.fill("#missing-expect", "etl.finished")
    page.fill("#missing-after", "etl.started")
    page.fill("#missing-within", "900")
    card = page.locator("[data-action-card]").first
    card.locator('[data-field="type"]').select_option("send-notification")
    card.locator('[data-field="notification_block"]').select_option(objects.notification_block_id)
    card.locator('[data-field="subject"]').fill("No ETL {{ event.occurred")
    card.locator("[data-check-templates]").click()
    subject_error = card.locator('[data-template-error="subject"]')
    page.wait_for_function("document.querySelector('[data-template-error=\"subject\"]').textContent.length > 0")
    assert "line 1" in subject_error.inner_text().lower()
    # The summary is written once every field's check has answered, which may be after the subject's error.
    page.wait_for_function("document.querySelector('[data-template-result]').textContent.length > 0")
    assert card.locator("[data-template-result]").inner_text() == "The template has errors."
    card.locator('[data-field="subject"]').fill("No ETL since {{ event.occurred }}")
    card.locator("[data-check-templates]").click()
    page.wait_for_function("document.querySelector('[data-template-result]').textContent === 'The template is valid.'")
    assert subject_error.inner_text() == ""
    page.browser_errors.expect("422")
    automation_id = _save(page)

    stored = _stored(api, automation_id)
    assert _as_sets(stored["trigger"]) == {
        "type": "event",
        "posture": "Proactive",
        "match": {},
        "match_related": {},
        "after": ["etl.started"],
        "expect": ["etl.finished"],
        "for_each": [],
        "threshold": 1,
        "within": 900.0,
    }
    action = stored["actions"][0]
    assert action["type"] == "send-notification"
    assert action["block_document_id"] == objects.notification_block_id
    assert action["subject"] == "No ETL since {{ event.occurred }}"
    assert "{{ flow_run.name }}" in action["body"]


def test_metric_trigger_with_a_webhook_call(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    page.goto(ui_server.url + "/automations/new")
    page.fill("#automation-name", "Nightly success rate")
    page.select_option("#trigger-kind", "metric")
    page.select_option("#metric-deployment", objects.deployment_id)
    page.select_option("#metric-name", "successes")
    page.select_option("#metric-operator", "<")
    page.fill("#metric-threshold", "0.8")
    page.fill("#metric-range", "7200")
    page.fill("#metric-firing-for", "600")
    card = page.locator("[data-action-card]").first
    card.locator('[data-field="type"]').select_option("call-webhook")
    card.locator('[data-field="webhook_block"]').select_option(objects.webhook_block_id)
    card.locator('[data-field="payload"]').fill('{"rate": "{{ firing.triggering_value }}"}')
    automation_id = _save(page)

    stored = _stored(api, automation_id)
    assert stored["trigger"] == {
        "type": "metric",
        "posture": "Metric",
        "match": {"prefect.resource.id": "prefect.flow-run.*"},
        "match_related": {
            "prefect.resource.role": "deployment",
            "prefect.resource.id": [f"prefect.deployment.{objects.deployment_id}"],
        },
        "metric": {"name": "successes", "operator": "<", "threshold": 0.8, "range": 7200.0, "firing_for": 600.0},
    }
    assert stored["actions"] == [
        {
            "type": "call-webhook",
            "block_document_id": objects.webhook_block_id,
            "payload": '{"rate": "{{ firing.triggering_value }}"}',
        }
    ]
    assert "share of successful runs for deployment auto-etl/nightly" in page.inner_text("#trigger-words")


def test_edit_reads_the_form_back_and_keeps_a_custom_trigger(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    simple = _automation(api, "edit-simple", FAILED_RUN_TRIGGER, [{"type": "cancel-flow-run"}])
    page.goto(ui_server.url + f"/automations/{simple['id']}/edit")
    assert page.input_value("#trigger-kind") == "flow-run-state"
    assert page.is_checked('input[name="flow_run_states"][value="Failed"]')
    assert not page.is_checked('input[name="flow_run_states"][value="Crashed"]')
    page.check('input[name="flow_run_states"][value="Crashed"]')
    page.fill("#automation-name", "edit-simple renamed")
    _save(page)
    stored = _stored(api, simple["id"])
    assert stored["name"] == "edit-simple renamed"
    assert sorted(stored["trigger"]["expect"]) == ["prefect.flow-run.Crashed", "prefect.flow-run.Failed"]
    assert stored["actions"] == [{"type": "cancel-flow-run"}]

    compound = {
        "type": "compound",
        "require": "all",
        "within": 3600.0,
        "triggers": [
            {**FAILED_RUN_TRIGGER, "expect": ["prefect.flow-run.Crashed"]},
            {**FAILED_RUN_TRIGGER, "match": {"prefect.resource.id": "prefect.work-pool.*"}, "expect": ["x.y"]},
        ],
    }
    custom = _automation(api, "edit-compound", compound, [{"type": "do-nothing"}])
    page.goto(ui_server.url + f"/automations/{custom['id']}/edit")
    assert page.input_value("#trigger-kind") == "custom"
    text = page.input_value("#trigger-json").replace('"require": "all"', '"require": "any"')
    page.fill("#trigger-json", text)
    _save(page)
    stored = _stored(api, custom["id"])
    assert stored["trigger"]["type"] == "compound"
    assert stored["trigger"]["require"] == "any"
    assert len(stored["trigger"]["triggers"]) == 2
    assert "When any of 2 triggers fire within 1h 0m 0s" in page.inner_text("#trigger-words")


def test_the_api_422_is_shown_next_to_the_field(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    page.goto(ui_server.url + "/automations/new")
    page.fill("#automation-name", "too-short")
    page.select_option("#trigger-kind", "missing-event")
    page.fill("#missing-expect", "etl.finished")
    page.fill("#missing-within", "5")
    card = page.locator("[data-action-card]").first
    card.locator('[data-field="type"]').select_option("pause-deployment")
    page.click('#automation-form [type="submit"]')
    trigger_error = page.locator('[data-error-for="trigger"]')
    page.wait_for_function("document.querySelector('[data-error-for=\"trigger\"]').textContent.length > 0")
    assert "greater than or equal to 10 seconds" in trigger_error.inner_text()
    assert page.get_attribute("#trigger-json", "aria-invalid") == "true"
    assert "deployment_id is required" in card.locator("[data-action-error]").inner_text()
    assert "/automations/new" in page.url
    page.browser_errors.expect("422")
    names = [row["name"] for row in api.post("/automations/filter").json()]
    assert "too-short" not in names


def _record_history(database_url: str, automation: dict[str, Any], flow_run_id: str) -> None:
    """Two firings of `automation`: Triggered (its action succeeded, making `flow_run_id`; a second one failed) and,
    later, Resolved."""
    from baton.server.database.engine import Database
    from baton.server.models.automations import firings
    from baton.server.schemas.automations import ActionRunStatus, TriggerState

    async def record() -> None:
        database = Database(database_url)
        try:
            async with database.write() as connection:
                row = {**automation, "id": uuid.UUID(automation["id"])}
                event = {
                    "id": str(uuid.uuid4()),
                    "event": "prefect.flow-run.Failed",
                    "occurred": "2026-01-02T03:04:05+00:00",
                    "resource": {
                        "prefect.resource.id": f"prefect.flow-run.{flow_run_id}",
                        "prefect.resource.name": "bad-run",
                    },
                }
                trigger_id = uuid.UUID(automation["trigger"]["id"])
                occurred = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
                fired = await firings.record_firing(
                    connection, row, trigger_id=trigger_id, trigger_state=TriggerState.TRIGGERED,
                    firing_key=f"ui-test-{automation['id']}-1", occurred=occurred, triggering_event=event,
                )  # fmt: skip
                assert fired is not None
                await firings.finish_action_run(
                    connection, fired.action_run_ids[0], ActionRunStatus.SUCCEEDED,
                    resulting_resource=f"prefect.flow-run.{flow_run_id}",
                )  # fmt: skip
                await firings.finish_action_run(
                    connection, fired.action_run_ids[1], ActionRunStatus.FAILED, reason="The deployment is paused."
                )
                resolved = await firings.record_firing(
                    connection, row, trigger_id=trigger_id, trigger_state=TriggerState.RESOLVED,
                    firing_key=f"ui-test-{automation['id']}-2", occurred=occurred + dt.timedelta(minutes=5),
                )  # fmt: skip
                assert resolved is not None
        finally:
            await database.dispose()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(record())
        except BaseException as exc:  # noqa: BLE001 (handed to the test's thread)
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def test_history_shows_each_action_outcome_with_links(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    run = api.post(f"/deployments/{objects.deployment_id}/create_flow_run", json={})
    assert run.status_code == 201, run.text
    flow_run_id = run.json()["id"]
    actions = [{"type": "run-deployment", "source": "selected", "deployment_id": objects.deployment_id},
               {"type": "resume-deployment", "source": "inferred"}]  # fmt: skip
    automation = _automation(api, "with-history", FAILED_RUN_TRIGGER, actions)
    _record_history(ui_server.database_url, automation, flow_run_id)

    page.goto(ui_server.url + f"/automations/{automation['id']}")
    rows = page.locator("#firings tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("[data-trigger-state]").inner_text() == "Resolved"
    triggered = rows.nth(1)
    assert triggered.locator("[data-trigger-state]").inner_text() == "Triggered"
    event_link = triggered.locator("[data-event-link]")
    assert event_link.inner_text() == "prefect.flow-run.Failed"
    assert "event=prefect.flow-run.Failed" in (event_link.get_attribute("href") or "")
    assert f"resource=prefect.flow-run.{flow_run_id}" in (event_link.get_attribute("href") or "")
    statuses = triggered.locator("[data-action-status]").all_inner_texts()
    assert statuses == ["Succeeded", "Failed"]
    resulting = triggered.locator("[data-resulting-resource]")
    assert resulting.get_attribute("href") == f"/runs/flow-run/{flow_run_id}"
    assert triggered.locator("[data-action-reason]").inner_text() == "The deployment is paused."
    page.screenshot(path=str(ARTIFACTS_DIR / "screenshots" / "automation-history.png"), full_page=True)
    with page.expect_navigation(url=f"**/runs/flow-run/{flow_run_id}"):
        resulting.click()

    page.goto(ui_server.url + "/automations")
    row = page.locator(f'tr[data-automation-id="{automation["id"]}"]')
    assert row.locator("[data-last-fired] time").get_attribute("datetime") == "2026-01-02T03:04:05Z"


def test_list_switch_turns_off_and_on_and_delete_asks_first(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    automation = _automation(api, "switch-me", FAILED_RUN_TRIGGER, [{"type": "suspend-flow-run"}])
    page.goto(ui_server.url + "/automations")
    row = page.locator(f'tr[data-automation-id="{automation["id"]}"]')
    assert "When a flow run enters Failed" in row.locator("[data-trigger-summary]").inner_text()
    assert row.locator("[data-actions-summary]").inner_text() == "Suspend the flow run"
    assert row.locator("[data-last-fired]").inner_text() == "never"
    switch = row.locator("[data-automation-switch]")
    assert switch.is_checked()
    switch.click()
    page.wait_for_function("document.querySelector('#flash').textContent === 'The automation is off.'")
    assert api.get(f"/automations/{automation['id']}").json()["enabled"] is False
    assert row.locator("[data-switch-label]").inner_text() == "Off"
    page.reload()
    assert not row.locator("[data-automation-switch]").is_checked()
    row.locator("[data-automation-switch]").click()
    page.wait_for_function("document.querySelector('#flash').textContent === 'The automation is on.'")
    assert api.get(f"/automations/{automation['id']}").json()["enabled"] is True

    row.locator("text=Delete").click()
    assert "switch-me" in page.inner_text("#confirm-message")
    page.click("#confirm-dialog button[value=cancel]")
    assert api.get(f"/automations/{automation['id']}").status_code == 200
    row.locator("text=Delete").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert api.get(f"/automations/{automation['id']}").status_code == 404
    assert page.locator(f'tr[data-automation-id="{automation["id"]}"]').count() == 0


def test_deployment_page_lists_its_automations(
    page: Any, ui_server: UiServer, api: httpx.Client, objects: Objects
) -> None:
    automation = _automation(
        api, "runs-nightly", FAILED_RUN_TRIGGER,
        [{"type": "run-deployment", "source": "selected", "deployment_id": objects.deployment_id}],
    )  # fmt: skip
    related = api.get(f"/automations/related-to/prefect.deployment.{objects.deployment_id}").json()
    assert automation["id"] in [each["id"] for each in related]
    page.goto(ui_server.url + f"/deployments/{objects.deployment_id}")
    link = page.locator(f'#deployment-automations [data-automation-id="{automation["id"]}"] a')
    assert link.inner_text() == "runs-nightly"
    owned = api.post(
        "/automations/",
        json={"name": "owned-by-nightly", "trigger": FAILED_RUN_TRIGGER, "actions": [{"type": "do-nothing"}],
              "owner_resource": f"prefect.deployment.{objects.deployment_id}"},
    )  # fmt: skip
    assert owned.status_code == 201, owned.text
    page.reload()
    owned_link = page.locator(f'#deployment-automations [data-automation-id="{owned.json()["id"]}"] a')
    with page.expect_navigation(url=f"**/automations/{owned.json()['id']}"):
        owned_link.click()
    owner = page.locator("#automation-owner a")
    assert owner.inner_text() == "auto-etl/nightly"
    assert owner.get_attribute("href") == f"/deployments/{objects.deployment_id}"
    page.goto(ui_server.url + f"/automations/{owned.json()['id']}/edit")
    assert "the next prefect deploy of it replaces these changes" in page.inner_text("#owner-note")
    page.goto(ui_server.url + f"/deployments/{objects.deployment_id}")
    with page.expect_navigation(url=f"**/automations/{automation['id']}"):
        link.click()
    # The sidebar has the entry, marked current on the automation's page; the dark theme keeps it readable.
    assert page.get_attribute('.sidebar a[href="/automations"]', "aria-current") == "page"
    page.click('[data-action="toggle-theme"]')
    assert page.get_attribute("html", "data-theme") == "dark"
    page.goto(ui_server.url + f"/deployments/{objects.deployment_id}")
    page.click("text=New automation for this deployment")
    page.wait_for_function("document.querySelector('#trigger-json').value.includes('prefect.deployment.')")
    assert objects.deployment_id in page.input_value("#trigger-json")
