"""The block types and schemas Baton installs at start: notification channels, SMTP, secret, JSON, local files.

Data only; `baton.server.blocks.registration` stores it. Each `fields` is the JSON schema that the Prefect 3.9.1
client generates for the block class (`Class._to_block_schema().fields`), kept verbatim: the checksum covers every
character of it, and the client finds a stored schema only by that checksum and the version. Two have no class in
the 3.9.1 client: `email-server-credentials` is the prefect-email 0.3.2 schema that Prefect's server ships in
`collection_blocks_data.json`; `json` is the schema 3.9.1 generates for Prefect 3's former JSON block (a `value: Any`
field), which a user can declare again to load JSON documents. The descriptions and code examples of the block
types are Baton's own; a Prefect client that saves a block of one of these types updates them to its own.

After a Prefect upgrade, regenerate the fields and versions from the new client's classes;
`tests/server/blocks/test_system.py` compares every checksum with the installed client's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SystemBlock:
    """One built-in block type and its current schema."""

    slug: str
    name: str
    description: str
    fields: dict[str, Any]
    #: The Prefect client's class for the block, as `module.Class`; None when the client has none.
    client_class: str | None = None
    capabilities: tuple[str, ...] = ()
    version: str = "non-versioned"
    #: Protected types cannot be deleted through the API (as Prefect's `secret` and `local-file-system`).
    is_protected: bool = False
    logo_url: str | None = None
    documentation_url: str | None = None

    @property
    def code_example(self) -> str:
        """How to load a document of this type with the Prefect client, as Markdown."""
        if self.client_class is None:
            lines = [f"# Define a Block subclass named {self.name} first; Prefect 3.9 has none.", ""]
            class_name = self.name
        else:
            module, _, class_name = self.client_class.rpartition(".")
            lines = [f"from {module} import {class_name}", ""]
        return "\n".join(["```python", *lines, f'block = {class_name}.load("BLOCK_NAME")', "```"])


SYSTEM_BLOCKS: tuple[SystemBlock, ...] = (
    SystemBlock(
        slug="slack-webhook",
        name="Slack Webhook",
        description="Posts notifications to a Slack channel through an incoming webhook URL.",
        client_class="prefect.blocks.notifications.SlackWebhook",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "slack-webhook",
            "description": "Enables sending notifications via a provided Slack webhook.\n"
            "\n"
            "Supports both standard Slack webhooks (hooks.slack.com) and Slack GovCloud\n"
            "webhooks (hooks.slack-gov.com).",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "url": {
                    "description": "Slack incoming webhook URL used to send notifications.",
                    "examples": ["https://hooks.slack.com/XXX"],
                    "format": "password",
                    "title": "Webhook URL",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "allow_private_urls": {
                    "default": True,
                    "description": "Whether to allow notifications to private URLs. Defaults to True.",
                    "title": "Allow Private Urls",
                    "type": "boolean",
                    "position": 2,
                },
            },
            "required": ["url"],
            "secret_fields": ["url"],
            "title": "SlackWebhook",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="discord-webhook",
        name="Discord Webhook",
        description="Posts notifications to a Discord channel through a webhook (its id and token).",
        client_class="prefect.blocks.notifications.DiscordWebhook",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "discord-webhook",
            "description": "Enables sending notifications via a provided Discord webhook.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "webhook_id": {
                    "description": "The first part of 2 tokens provided to you after creating a incoming-webhook.",
                    "format": "password",
                    "title": "Webhook Id",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "webhook_token": {
                    "description": "The second part of 2 tokens provided to you after creating a incoming-webhook.",
                    "format": "password",
                    "title": "Webhook Token",
                    "type": "string",
                    "writeOnly": True,
                    "position": 2,
                },
                "botname": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "Identify the name of the bot that should issue the "
                    "message. If one isn't specified then the default is to "
                    "just use your account (associated with the "
                    "incoming-webhook).",
                    "title": "Bot name",
                    "position": 3,
                },
                "tts": {
                    "default": False,
                    "description": "Whether to enable Text-To-Speech.",
                    "title": "Tts",
                    "type": "boolean",
                    "position": 4,
                },
                "include_image": {
                    "default": False,
                    "description": "Whether to include an image in-line with the "
                    "message describing the notification type.",
                    "title": "Include Image",
                    "type": "boolean",
                    "position": 5,
                },
                "avatar": {
                    "default": False,
                    "description": "Whether to override the default discord avatar icon.",
                    "title": "Avatar",
                    "type": "boolean",
                    "position": 6,
                },
                "avatar_url": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "Over-ride the default discord avatar icon URL. By "
                    "default this is not set and Apprise chooses the URL "
                    "dynamically based on the type of message (info, "
                    "success, warning, or error).",
                    "title": "Avatar URL",
                    "position": 7,
                },
            },
            "required": ["webhook_id", "webhook_token"],
            "secret_fields": ["webhook_id", "webhook_token"],
            "title": "DiscordWebhook",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="mattermost-webhook",
        name="Mattermost Webhook",
        description="Posts notifications to Mattermost channels through an incoming webhook.",
        client_class="prefect.blocks.notifications.MattermostWebhook",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "mattermost-webhook",
            "description": "Enables sending notifications via a provided Mattermost webhook.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "hostname": {
                    "description": "The hostname of your Mattermost server.",
                    "examples": ["Mattermost.example.com"],
                    "title": "Hostname",
                    "type": "string",
                    "position": 1,
                },
                "secure": {
                    "default": False,
                    "description": "Whether to use secure https connection.",
                    "title": "Secure",
                    "type": "boolean",
                    "position": 2,
                },
                "token": {
                    "description": "The token associated with your Mattermost webhook.",
                    "format": "password",
                    "title": "Token",
                    "type": "string",
                    "writeOnly": True,
                    "position": 3,
                },
                "botname": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "The name of the bot that will send the message.",
                    "title": "Bot name",
                    "position": 4,
                },
                "channels": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "The channel(s) you wish to notify.",
                    "title": "Channels",
                    "position": 5,
                },
                "include_image": {
                    "default": False,
                    "description": "Whether to include the Apprise status image in the message.",
                    "title": "Include Image",
                    "type": "boolean",
                    "position": 6,
                },
                "path": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "An optional sub-path specification to append to the hostname.",
                    "title": "Path",
                    "position": 7,
                },
                "port": {
                    "default": 8065,
                    "description": "The port of your Mattermost server.",
                    "title": "Port",
                    "type": "integer",
                    "position": 8,
                },
            },
            "required": ["hostname", "token"],
            "secret_fields": ["token"],
            "title": "MattermostWebhook",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="ms-teams-webhook",
        name="Microsoft Teams Webhook",
        description="Posts notifications to Microsoft Teams through a Power Automate workflow URL.",
        client_class="prefect.blocks.notifications.MicrosoftTeamsWebhook",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "ms-teams-webhook",
            "description": "Enables sending notifications via a provided Microsoft Teams webhook.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "url": {
                    "description": "The Microsoft Power Automate (Workflows) URL used to send notifications to Teams.",
                    "examples": [
                        "https://prod-NO.LOCATION.logic.azure.com:443/workflows/WFID/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGNATURE"
                    ],
                    "format": "password",
                    "title": "Webhook URL",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "allow_private_urls": {
                    "default": True,
                    "description": "Whether to allow notifications to private URLs. Defaults to True.",
                    "title": "Allow Private Urls",
                    "type": "boolean",
                    "position": 2,
                },
                "include_image": {
                    "default": True,
                    "description": "Include an image with the notification.",
                    "title": "Include Image",
                    "type": "boolean",
                    "position": 3,
                },
                "wrap": {
                    "default": True,
                    "description": "Wrap the notification text.",
                    "title": "Wrap",
                    "type": "boolean",
                    "position": 4,
                },
            },
            "required": ["url"],
            "secret_fields": ["url"],
            "title": "MicrosoftTeamsWebhook",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="opsgenie-webhook",
        name="Opsgenie Webhook",
        description="Opens Opsgenie alerts with an API integration key.",
        client_class="prefect.blocks.notifications.OpsgenieWebhook",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "opsgenie-webhook",
            "description": "Enables sending notifications via a provided Opsgenie webhook.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "apikey": {
                    "description": "The API Key associated with your Opsgenie account.",
                    "format": "password",
                    "title": "API Key",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "target_user": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "The user(s) you wish to notify.",
                    "title": "Target User",
                    "position": 2,
                },
                "target_team": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "The team(s) you wish to notify.",
                    "title": "Target Team",
                    "position": 3,
                },
                "target_schedule": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "The schedule(s) you wish to notify.",
                    "title": "Target Schedule",
                    "position": 4,
                },
                "target_escalation": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "The escalation(s) you wish to notify.",
                    "title": "Target Escalation",
                    "position": 5,
                },
                "region_name": {
                    "default": "us",
                    "description": "The 2-character region code.",
                    "enum": ["us", "eu"],
                    "title": "Region Name",
                    "type": "string",
                    "position": 6,
                },
                "batch": {
                    "default": False,
                    "description": "Notify all targets in batches (instead of individually).",
                    "title": "Batch",
                    "type": "boolean",
                    "position": 7,
                },
                "tags": {
                    "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                    "default": None,
                    "description": "A comma-separated list of tags you can associate with your Opsgenie message.",
                    "examples": ['["tag1", "tag2"]'],
                    "title": "Tags",
                    "position": 8,
                },
                "priority": {
                    "anyOf": [{"type": "integer"}, {"type": "null"}],
                    "default": 3,
                    "description": "The priority to associate with the message. It is on "
                    "a scale between 1 (LOW) and 5 (EMERGENCY).",
                    "title": "Priority",
                    "position": 9,
                },
                "alias": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "The alias to associate with the message.",
                    "title": "Alias",
                    "position": 10,
                },
                "entity": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "The entity to associate with the message.",
                    "title": "Entity",
                    "position": 11,
                },
                "details": {
                    "anyOf": [{"additionalProperties": {"type": "string"}, "type": "object"}, {"type": "null"}],
                    "default": None,
                    "description": "Additional details composed of key/values pairs.",
                    "examples": ['{"key1": "value1", "key2": "value2"}'],
                    "title": "Details",
                    "position": 12,
                },
            },
            "required": ["apikey"],
            "secret_fields": ["apikey"],
            "title": "OpsgenieWebhook",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="pager-duty-webhook",
        name="Pager Duty Webhook",
        description="Triggers PagerDuty incidents through the Events API with an integration key.",
        client_class="prefect.blocks.notifications.PagerDutyWebHook",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "pager-duty-webhook",
            "description": "Enables sending notifications via a provided PagerDuty webhook.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The severity of the notification.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "integration_key": {
                    "description": "This can be found on the Events API V2 "
                    "integration's detail page, and is also "
                    "referred to as a Routing Key. This must be "
                    "provided alongside `api_key`, but will error "
                    "if provided alongside `url`.",
                    "format": "password",
                    "title": "Integration Key",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "api_key": {
                    "description": "This can be found under Integrations. This must be "
                    "provided alongside `integration_key`, but will error "
                    "if provided alongside `url`.",
                    "format": "password",
                    "title": "API Key",
                    "type": "string",
                    "writeOnly": True,
                    "position": 2,
                },
                "source": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": "Prefect",
                    "description": "The source string as part of the payload.",
                    "title": "Source",
                    "position": 3,
                },
                "component": {
                    "default": "Notification",
                    "description": "The component string as part of the payload.",
                    "title": "Component",
                    "type": "string",
                    "position": 4,
                },
                "group": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "The group string as part of the payload.",
                    "title": "Group",
                    "position": 5,
                },
                "class_id": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "The class string as part of the payload.",
                    "title": "Class ID",
                    "position": 6,
                },
                "region_name": {
                    "default": "us",
                    "description": "The region name.",
                    "enum": ["us", "eu"],
                    "title": "Region Name",
                    "type": "string",
                    "position": 7,
                },
                "clickable_url": {
                    "anyOf": [{"format": "uri", "minLength": 1, "type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "A clickable URL to associate with the notice.",
                    "title": "Clickable URL",
                    "position": 8,
                },
                "include_image": {
                    "default": True,
                    "description": "Associate the notification status via a represented icon.",
                    "title": "Include Image",
                    "type": "boolean",
                    "position": 9,
                },
                "custom_details": {
                    "anyOf": [{"additionalProperties": {"type": "string"}, "type": "object"}, {"type": "null"}],
                    "default": None,
                    "description": "Additional details to include as part of the payload.",
                    "examples": ['{"disk_space_left": "145GB"}'],
                    "title": "Custom Details",
                    "position": 10,
                },
            },
            "required": ["integration_key", "api_key"],
            "secret_fields": ["integration_key", "api_key"],
            "title": "PagerDutyWebHook",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="sendgrid-email",
        name="Sendgrid Email",
        description="Sends notification emails through the SendGrid API.",
        client_class="prefect.blocks.notifications.SendgridEmail",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "sendgrid-email",
            "description": "Enables sending notifications via Sendgrid email service.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "api_key": {
                    "description": "The API Key associated with your sendgrid account.",
                    "format": "password",
                    "title": "API Key",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "sender_email": {
                    "description": "The sender email id.",
                    "examples": ["test-support@gmail.com"],
                    "title": "Sender email id",
                    "type": "string",
                    "position": 2,
                },
                "to_emails": {
                    "description": "Email ids of all recipients.",
                    "examples": ['["recipient1@gmail.com", "recipient2@gmail.com"]'],
                    "items": {"type": "string"},
                    "title": "Recipient emails",
                    "type": "array",
                    "position": 3,
                },
            },
            "required": ["api_key", "sender_email", "to_emails"],
            "secret_fields": ["api_key"],
            "title": "SendgridEmail",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="twilio-sms",
        name="Twilio SMS",
        description="Sends notifications as text messages through Twilio.",
        client_class="prefect.blocks.notifications.TwilioSMS",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "twilio-sms",
            "description": "Enables sending notifications via Twilio SMS.",
            "properties": {
                "notify_type": {
                    "default": "info",
                    "description": "The type of notification being performed.",
                    "enum": ["info", "success", "warning", "failure"],
                    "title": "Notify Type",
                    "type": "string",
                    "position": 0,
                },
                "account_sid": {
                    "description": "The Twilio Account SID - it can be found on the homepage of the Twilio console.",
                    "title": "Account Sid",
                    "type": "string",
                    "position": 1,
                },
                "auth_token": {
                    "description": "The Twilio Authentication Token - it can be found "
                    "on the homepage of the Twilio console.",
                    "format": "password",
                    "title": "Auth Token",
                    "type": "string",
                    "writeOnly": True,
                    "position": 2,
                },
                "from_phone_number": {
                    "description": "The valid Twilio phone number to send the message from.",
                    "examples": ["18001234567"],
                    "title": "From Phone Number",
                    "type": "string",
                    "position": 3,
                },
                "to_phone_numbers": {
                    "description": "A list of valid Twilio phone number(s) to send the message to.",
                    "examples": ['["18004242424", "18004242425"]'],
                    "items": {"type": "string"},
                    "title": "To Phone Numbers",
                    "type": "array",
                    "position": 4,
                },
            },
            "required": ["account_sid", "auth_token", "from_phone_number", "to_phone_numbers"],
            "secret_fields": ["auth_token"],
            "title": "TwilioSMS",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="custom-webhook",
        name="Custom Webhook",
        description=(
            "Sends notifications as an HTTP request of your own design; {{subject}}, {{body}}, {{name}}"
            " and secret placeholders are filled in."
        ),
        client_class="prefect.blocks.notifications.CustomWebhookNotificationBlock",
        capabilities=("notify",),
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "custom-webhook",
            "description": "Enables sending notifications via any custom webhook.\n"
            "\n"
            "All nested string param contains `{{key}}` will be substituted with value from "
            "context/secrets.\n"
            "\n"
            "Context values include: `subject`, `body` and `name`.",
            "properties": {
                "name": {"description": "Name of the webhook.", "title": "Name", "type": "string", "position": 0},
                "url": {
                    "description": "The webhook URL.",
                    "examples": ["https://hooks.slack.com/XXX"],
                    "title": "Webhook URL",
                    "type": "string",
                    "position": 1,
                },
                "method": {
                    "default": "POST",
                    "description": "The webhook request method. Defaults to `POST`.",
                    "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                    "title": "Method",
                    "type": "string",
                    "position": 2,
                },
                "params": {
                    "anyOf": [{"additionalProperties": {"type": "string"}, "type": "object"}, {"type": "null"}],
                    "default": None,
                    "description": "Custom query params.",
                    "title": "Query Params",
                    "position": 3,
                },
                "json_data": {
                    "anyOf": [{"additionalProperties": True, "type": "object"}, {"type": "null"}],
                    "default": None,
                    "description": "Send json data as payload.",
                    "examples": [
                        '{"text": "{{subject}}\\n{{body}}", "title": "{{name}}", "token": "{{tokenFromSecrets}}"}'
                    ],
                    "title": "JSON Data",
                    "position": 4,
                },
                "form_data": {
                    "anyOf": [
                        {"additionalProperties": {"type": "string"}, "type": "object"},
                        {"type": "string"},
                        {"type": "null"},
                    ],
                    "default": None,
                    "description": "Send form data as payload. Should not be used "
                    "together with _JSON Data_. Can be a dictionary for "
                    "form-encoded data or a string for raw body content.",
                    "examples": [
                        '{"text": "{{subject}}\\n{{body}}", "title": "{{name}}", "token": "{{tokenFromSecrets}}"}'
                    ],
                    "title": "Form Data",
                    "position": 5,
                },
                "headers": {
                    "anyOf": [{"additionalProperties": {"type": "string"}, "type": "object"}, {"type": "null"}],
                    "default": None,
                    "description": "Custom headers.",
                    "title": "Headers",
                    "position": 6,
                },
                "cookies": {
                    "anyOf": [{"additionalProperties": {"type": "string"}, "type": "object"}, {"type": "null"}],
                    "default": None,
                    "description": "Custom cookies.",
                    "title": "Cookies",
                    "position": 7,
                },
                "timeout": {
                    "default": 10,
                    "description": "Request timeout in seconds. Defaults to 10.",
                    "title": "Timeout",
                    "type": "number",
                    "position": 8,
                },
                "allow_private_urls": {
                    "default": True,
                    "description": "Whether to allow notifications to private URLs. Defaults to True.",
                    "title": "Allow Private Urls",
                    "type": "boolean",
                    "position": 9,
                },
                "secrets": {
                    "description": "A dictionary of secret values to be substituted in other configs.",
                    "examples": ['{"tokenFromSecrets":"SomeSecretToken"}'],
                    "title": "Custom Secret Values",
                    "type": "object",
                    "position": 10,
                },
            },
            "required": ["name", "url"],
            "secret_fields": ["secrets.*"],
            "title": "CustomWebhookNotificationBlock",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="secret",
        name="Secret",
        description="Keeps one secret value (a string or JSON); it is encrypted at rest and hidden in the UI.",
        client_class="prefect.blocks.system.Secret",
        capabilities=(),
        version="3.9.1",
        is_protected=True,
        fields={
            "block_schema_references": {},
            "block_type_slug": "secret",
            "description": "A block that represents a secret value. The value stored in this block will be "
            "obfuscated when this block is viewed or edited in the UI.",
            "properties": {
                "value": {
                    "anyOf": [
                        {"format": "password", "type": "string", "writeOnly": True},
                        {"title": "string", "type": "string"},
                        {"$ref": "#/definitions/JsonValue", "title": "JSON"},
                    ],
                    "description": "A value that should be kept secret.",
                    "examples": ["sk-1234567890", {"password": "s3cr3t", "username": "johndoe"}],
                    "format": "password",
                    "title": "Value",
                    "writeOnly": True,
                    "position": 0,
                }
            },
            "required": ["value"],
            "secret_fields": ["value", "value"],
            "title": "Secret",
            "type": "object",
            "definitions": {"JsonValue": {}},
        },
    ),
    SystemBlock(
        slug="local-file-system",
        name="Local File System",
        description="A folder on the local disk where flows read and write files.",
        client_class="prefect.filesystems.LocalFileSystem",
        capabilities=("get-directory", "put-directory", "read-path", "write-path"),
        version="3.9.1",
        is_protected=True,
        fields={
            "block_schema_references": {},
            "block_type_slug": "local-file-system",
            "description": "Store data as a file on a local file system.",
            "properties": {
                "basepath": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "default": None,
                    "description": "Default local path for this block to write to.",
                    "title": "Basepath",
                    "position": 0,
                }
            },
            "secret_fields": [],
            "title": "LocalFileSystem",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="json",
        name="JSON",
        description="Keeps one JSON value. Prefect 3.9 has no JSON block class: declare one, or use variables.",
        capabilities=(),
        version="non-versioned",
        fields={
            "block_schema_references": {},
            "block_type_slug": "json",
            "description": "A block that represents JSON. Deprecated, please use Variables to store JSON data instead.",
            "properties": {"value": {"description": "A JSON-compatible value.", "title": "Value", "position": 0}},
            "required": ["value"],
            "secret_fields": [],
            "title": "JSON",
            "type": "object",
        },
    ),
    SystemBlock(
        slug="email-server-credentials",
        name="Email Server Credentials",
        description="An SMTP server and the credentials to log in to it, for sending email.",
        client_class="prefect_email.EmailServerCredentials",
        capabilities=(),
        version="0.3.2",
        fields={
            "title": "EmailServerCredentials",
            "description": "Block used to manage generic email server authentication.\n"
            "It is recommended you use a\n"
            "[Google App Password](https://support.google.com/accounts/answer/185833)\n"
            "if you use Gmail.",
            "type": "object",
            "properties": {
                "username": {
                    "title": "Username",
                    "description": "The username to use for authentication to the server. "
                    "Unnecessary if SMTP login is not required.",
                    "type": "string",
                },
                "password": {
                    "title": "Password",
                    "description": "The password to use for authentication to the server. "
                    "Unnecessary if SMTP login is not required.",
                    "type": "string",
                    "writeOnly": True,
                    "format": "password",
                },
                "smtp_server": {
                    "title": "SMTP Server",
                    "description": "Either the hostname of the SMTP server, or one of "
                    "the keys from the built-in SMTPServer Enum "
                    "members, like 'gmail'.",
                    "default": "smtp.gmail.com",
                    "anyOf": [{"$ref": "#/definitions/SMTPServer"}, {"type": "string"}],
                },
                "smtp_type": {
                    "title": "SMTP Type",
                    "description": "Either 'SSL', 'STARTTLS', or 'INSECURE'.",
                    "default": 465,
                    "anyOf": [{"$ref": "#/definitions/SMTPType"}, {"type": "string"}],
                },
                "smtp_port": {
                    "title": "SMTP Port",
                    "description": "If provided, overrides the smtp_type's default port number.",
                    "type": "integer",
                },
            },
            "block_type_slug": "email-server-credentials",
            "secret_fields": ["password"],
            "block_schema_references": {},
            "definitions": {
                "SMTPServer": {
                    "title": "SMTPServer",
                    "description": "Server used to send email.",
                    "enum": [
                        "smtp.aol.com",
                        "smtp.mail.att.net",
                        "smtp.comcast.net",
                        "smtp.mail.me.com",
                        "smtp.gmail.com",
                        "smtp-mail.outlook.com",
                        "smtp.mail.yahoo.com",
                    ],
                },
                "SMTPType": {
                    "title": "SMTPType",
                    "description": "Protocols used to secure email transmissions.",
                    "enum": [465, 587, 25],
                },
            },
        },
    ),
    SystemBlock(
        slug="webhook",
        name="Webhook",
        description="An HTTP endpoint that automations' call-webhook actions send their rendered payload to.",
        client_class="prefect.blocks.webhook.Webhook",
        version="3.9.1",
        fields={
            "block_schema_references": {},
            "block_type_slug": "webhook",
            "description": "Block that enables calling webhooks.",
            "properties": {
                "method": {
                    "default": "POST",
                    "description": "The webhook request method. Defaults to `POST`.",
                    "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"],
                    "title": "Method",
                    "type": "string",
                    "position": 0,
                },
                "url": {
                    "description": "The webhook URL.",
                    "examples": ["https://hooks.slack.com/XXX"],
                    "format": "password",
                    "title": "Webhook URL",
                    "type": "string",
                    "writeOnly": True,
                    "position": 1,
                },
                "headers": {
                    "description": "A dictionary of headers to send with the webhook request.",
                    "title": "Webhook Headers",
                    "type": "object",
                    "position": 2,
                },
                "allow_private_urls": {
                    "default": True,
                    "description": "Whether to allow notifications to private URLs. Defaults to True.",
                    "title": "Allow Private Urls",
                    "type": "boolean",
                    "position": 3,
                },
                "verify": {
                    "default": True,
                    "description": "Whether or not to enforce a secure connection to the webhook.",
                    "title": "Verify",
                    "type": "boolean",
                    "position": 4,
                },
            },
            "required": ["url"],
            "secret_fields": ["url", "headers.*"],
            "title": "Webhook",
            "type": "object",
        },
    ),
)

SYSTEM_BLOCKS_BY_SLUG = {block.slug: block for block in SYSTEM_BLOCKS}
