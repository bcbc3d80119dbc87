"""The SMTP channel against a minimal SMTP server on loopback: the transaction, the message, and failures."""

from __future__ import annotations

import email
import email.policy
import socket
from typing import Any

import httpx
import pytest

from baton.notifications.channels import CHANNELS, DeliveryFailed, Notification
from baton.settings import Settings
from tests.notifications.conftest import FakeSmtpServer

NOTIFICATION = Notification(
    subject="Run fuzzy-leopard failed",
    body="Flow run etl/fuzzy-leopard entered state `Failed`.\n.A line starting with a dot",
    severity="failure",
    run_url="http://baton.example.com/runs/flow-run/0b7a",
)


def block(port: int, **extra: Any) -> dict[str, Any]:
    return {"smtp_server": "127.0.0.1", "smtp_type": "INSECURE", "smtp_port": port, **extra}


async def test_smtp_logs_in_and_sends_a_plain_text_email(
    smtp_server: FakeSmtpServer, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = block(
        smtp_server.port,
        username="baton@example.com",
        password="app-password",
        email_to=["ops@example.com", "data@example.com"],
    )

    result = await CHANNELS["email-server-credentials"].send(data, NOTIFICATION, http, settings)

    assert smtp_server.logins == ["\0baton@example.com\0app-password"]
    [mail] = smtp_server.mails
    assert (mail.sender, mail.recipients) == ("baton@example.com", ["ops@example.com", "data@example.com"])
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["From"] == "baton@example.com"
    assert message["To"] == "ops@example.com, data@example.com"
    assert message["Subject"] == "Run fuzzy-leopard failed"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Date"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == f"{NOTIFICATION.body}\n\n{NOTIFICATION.run_url}\n"
    assert result.status_code is None
    assert result.response_excerpt == "Accepted for ops@example.com, data@example.com"
    assert smtp_server.commands[-1] == "QUIT"


async def test_smtp_without_username_sends_from_email_from_without_login(
    smtp_server: FakeSmtpServer, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = block(smtp_server.port, email_from="noreply@example.com", email_to="a@example.com, b@example.com")
    notification = Notification(subject="Ünïcode\nsubject", body="Grüße")

    await CHANNELS["email-server-credentials"].send(data, notification, http, settings)

    assert "AUTH" not in smtp_server.commands
    [mail] = smtp_server.mails
    assert (mail.sender, mail.recipients) == ("noreply@example.com", ["a@example.com", "b@example.com"])
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["Subject"] == "Ünïcode subject"
    assert message["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
    assert message.get_content().replace("\r\n", "\n") == "Grüße\n"


async def test_starttls_is_required_when_asked_for(
    smtp_server: FakeSmtpServer, http: httpx.AsyncClient, settings: Settings
) -> None:
    data = block(smtp_server.port, smtp_type="STARTTLS", username="u@example.com", password="pw", email_to=["a@b.c"])

    with pytest.raises(DeliveryFailed, match="does not support") as caught:
        await CHANNELS["email-server-credentials"].send(data, NOTIFICATION, http, settings)

    assert caught.value.retryable is False
    # The password is never sent over the unencrypted connection.
    assert (smtp_server.logins, smtp_server.mails) == ([], [])


@pytest.mark.parametrize(("reply", "retryable"), [("550 5.1.1 No such user", False), ("451 4.3.0 Try later", True)])
async def test_refused_recipients_fail_the_delivery(
    reply: str, retryable: bool, smtp_server: FakeSmtpServer, http: httpx.AsyncClient, settings: Settings
) -> None:
    smtp_server.rcpt_reply = reply
    data = block(smtp_server.port, email_from="baton@example.com", email_to=["nobody@example.com"])

    with pytest.raises(DeliveryFailed, match="refused every recipient: nobody@example.com") as caught:
        await CHANNELS["email-server-credentials"].send(data, NOTIFICATION, http, settings)

    assert caught.value.retryable is retryable
    assert smtp_server.mails == []


async def test_an_unreachable_smtp_server_is_retryable(http: httpx.AsyncClient, settings: Settings) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    data = block(port, email_from="baton@example.com", email_to=["a@example.com"], password="pw")

    with pytest.raises(DeliveryFailed, match="^Could not send through the SMTP server 127.0.0.1") as caught:
        await CHANNELS["email-server-credentials"].send(data, NOTIFICATION, http, settings)

    assert (caught.value.retryable, caught.value.status_code) == (True, None)


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (
            {"username": "baton"},
            [
                "email_from must be an email address (it defaults to the username)",
                "email_to must list at least one email address",
            ],
        ),
        (
            {"username": "baton@example.com", "smtp_type": "TLS", "smtp_port": 70000, "email_to": ["ops"]},
            [
                "smtp_type must be SSL, STARTTLS or INSECURE (or the port 465, 587 or 25)",
                "smtp_port must be a number from 1 to 65535",
                "email_to must be a list of email addresses",
            ],
        ),
        ({"username": "baton@example.com", "smtp_type": 587, "email_to": ["ops@example.com"]}, []),
    ],
)
def test_validate_explains_each_smtp_problem(data: dict[str, Any], problems: list[str]) -> None:
    assert CHANNELS["email-server-credentials"].validate(data) == problems


async def test_ssl_with_a_plain_server_is_not_retryable(
    smtp_server: FakeSmtpServer, http: httpx.AsyncClient, settings: Settings
) -> None:
    # smtp_type defaults to SSL (465); the fake server speaks plain SMTP, so the TLS handshake fails.
    data = {"smtp_server": "127.0.0.1", "smtp_port": smtp_server.port, "username": "u@example.com", "password": "pw"}

    with pytest.raises(DeliveryFailed, match="^TLS with the SMTP server 127.0.0.1 failed") as caught:
        await CHANNELS["email-server-credentials"].send({**data, "email_to": ["a@b.c"]}, NOTIFICATION, http, settings)

    assert caught.value.retryable is False
    assert (smtp_server.logins, smtp_server.mails) == ([], [])
