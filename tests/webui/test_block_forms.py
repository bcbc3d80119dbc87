"""Forms generated from block schemas: one input per field of the kind its JSON schema calls for, secrets never
filled in. Uses the schemas Baton installs (baton.server.blocks.system)."""

from __future__ import annotations

from baton.server.blocks.system import SYSTEM_BLOCKS, SYSTEM_BLOCKS_BY_SLUG
from baton.webui.block_forms import field_values, form_fields


def _by_name(slug: str, data: dict | None = None) -> dict:
    return {field.name: field for field in form_fields(SYSTEM_BLOCKS_BY_SLUG[slug].fields, data)}


def test_slack_webhook_form_has_a_secret_an_enum_and_a_checkbox_in_schema_order() -> None:
    fields = form_fields(SYSTEM_BLOCKS_BY_SLUG["slack-webhook"].fields, None)
    assert [(field.name, field.kind) for field in fields] == [
        ("notify_type", "select"),
        ("url", "password"),
        ("allow_private_urls", "boolean"),
    ]
    notify, url, private = fields
    assert notify.value_text == '"info"' and notify.options[0] == ('"info"', "info") and not notify.nullable
    assert url.required and url.title == "Webhook URL" and url.value_text == ""
    assert private.checked


def test_an_edit_form_never_holds_a_secret_but_says_one_is_stored() -> None:
    fields = _by_name("slack-webhook", {"url": "********", "notify_type": "failure", "allow_private_urls": False})
    assert fields["url"].value_text == "" and fields["url"].secret_is_set
    assert fields["notify_type"].value_text == '"failure"'
    assert not fields["allow_private_urls"].checked
    assert not _by_name("slack-webhook", {"notify_type": "info"})["url"].secret_is_set


def test_unions_objects_numbers_and_references() -> None:
    webhook = _by_name("custom-webhook")
    assert webhook["timeout"].kind == "number" and webhook["timeout"].value_text == "10"
    assert webhook["headers"].kind == "json" and webhook["headers"].json_type == "object"
    assert webhook["headers"].nullable and webhook["headers"].value_text == ""
    assert webhook["form_data"].kind == "json" and webhook["form_data"].json_type is None
    # Per-key secrets ("secrets.*") stay a JSON field: the server hides each value and restores the mask on save.
    assert webhook["secrets"].kind == "json"
    email = _by_name("email-server-credentials")
    # An enum by reference or any string: a text input that suggests the enum.
    assert email["smtp_server"].kind == "text" and "smtp.gmail.com" in email["smtp_server"].suggestions
    # Integers by reference or any string: JSON.
    assert email["smtp_type"].kind == "json" and email["smtp_type"].value_text == "465"
    assert email["smtp_port"].kind == "integer" and email["password"].kind == "password"
    assert _by_name("secret")["value"].kind == "password"
    assert _by_name("json")["value"].kind == "json"
    assert _by_name("mattermost-webhook")["channels"].json_type == "array"


def test_every_system_block_makes_a_form() -> None:
    for block in SYSTEM_BLOCKS:
        fields = form_fields(block.fields, None)
        assert {field.name for field in fields} == set(block.fields["properties"]), block.slug


def test_field_values_show_hidden_secrets_and_extra_fields() -> None:
    values = field_values(
        SYSTEM_BLOCKS_BY_SLUG["slack-webhook"].fields, {"url": "********", "notify_type": "info", "extra": {"a": 1}}
    )
    assert values == [
        ("notify_type", "Notify Type", "info"),
        ("url", "Webhook URL", "********"),
        ("allow_private_urls", "Allow Private Urls", ""),
        ("extra", "extra", '{\n  "a": 1\n}'),
    ]
