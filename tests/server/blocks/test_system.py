"""The built-in block definitions match the Prefect client's block classes; checksums and secret paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import prefect
import prefect.server
import pytest
from prefect.blocks import notifications
from prefect.blocks.core import Block
from prefect.blocks.system import Secret
from prefect.blocks.webhook import Webhook
from prefect.filesystems import LocalFileSystem

from baton.server.blocks.checksums import schema_checksum
from baton.server.blocks.secrets import OBFUSCATED, obfuscate_secrets, restore_secrets
from baton.server.blocks.system import SYSTEM_BLOCKS, SYSTEM_BLOCKS_BY_SLUG

CLIENT_CLASSES: list[type[Block]] = [
    notifications.SlackWebhook,
    notifications.DiscordWebhook,
    notifications.MattermostWebhook,
    notifications.MicrosoftTeamsWebhook,
    notifications.OpsgenieWebhook,
    notifications.PagerDutyWebHook,
    notifications.SendgridEmail,
    notifications.TwilioSMS,
    notifications.CustomWebhookNotificationBlock,
    Secret,
    LocalFileSystem,
    Webhook,
]
COLLECTION_BLOCKS = Path(prefect.server.__file__).parent / "collection_blocks_data.json"


@pytest.mark.parametrize("block_class", CLIENT_CLASSES, ids=lambda cls: cls.get_block_type_slug())
def test_system_block_matches_the_client_class(block_class: type[Block]) -> None:
    block = SYSTEM_BLOCKS_BY_SLUG[block_class.get_block_type_slug()]
    client_schema = block_class._to_block_schema()
    assert block.name == block_class.get_block_type_name()
    assert schema_checksum(block.fields) == block_class._calculate_schema_checksum()
    assert block.version == block_class.get_block_schema_version() == prefect.__version__
    assert set(block.capabilities) == set(client_schema.capabilities)
    assert block.fields["secret_fields"] == client_schema.fields["secret_fields"]


def test_every_system_block_is_defined_once_with_a_client_import() -> None:
    assert len(SYSTEM_BLOCKS_BY_SLUG) == len(SYSTEM_BLOCKS) == 14
    assert {block.slug for block in SYSTEM_BLOCKS if block.is_protected} == {"secret", "local-file-system"}
    email = SYSTEM_BLOCKS_BY_SLUG["email-server-credentials"]
    assert email.fields["secret_fields"] == ["password"]
    assert "from prefect_email import EmailServerCredentials" in email.code_example
    assert "JSON.load" in SYSTEM_BLOCKS_BY_SLUG["json"].code_example


def test_checksums_match_the_schemas_prefect_ships() -> None:
    collections = json.loads(COLLECTION_BLOCKS.read_text())["collections"]
    schemas = [
        block_type["block_schema"]
        for collection in collections.values()
        for block_type in collection["block_types"].values()
    ]
    assert len(schemas) > 30
    for schema in schemas:
        assert schema_checksum(schema["fields"]) == schema["checksum"], schema["fields"]["title"]


def test_obfuscation_hides_set_secrets_and_restore_puts_them_back() -> None:
    fields: dict[str, Any] = {"secret_fields": ["token", "auth.password", "headers.*", "value"]}
    data = {
        "url": "u",
        "token": "t",
        "auth": {"user": "me", "password": "p"},
        "headers": {"a": "1", "b": {"nested": "2"}},
        "value": {"whole": "object"},
    }
    hidden = obfuscate_secrets(json.loads(json.dumps(data)), fields)
    assert hidden == {
        "url": "u",
        "token": OBFUSCATED,
        "auth": {"user": "me", "password": OBFUSCATED},
        "headers": {"a": OBFUSCATED, "b": OBFUSCATED},
        "value": OBFUSCATED,
    }
    assert obfuscate_secrets({"token": None, "headers": {}}, fields) == {"token": None, "headers": {}}
    assert restore_secrets(json.loads(json.dumps(hidden)), data, fields) == data
    changed = {**hidden, "token": "new"}
    assert restore_secrets(changed, data, fields)["token"] == "new"
    assert restore_secrets({"token": OBFUSCATED}, {}, fields) == {"token": OBFUSCATED}
