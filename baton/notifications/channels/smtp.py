"""Email through an SMTP server, with an `email-server-credentials` block (prefect-email's EmailServerCredentials).

That block names a server only, so the caller adds the recipients to the data it passes: `email_to` (a list, or
comma-separated text) and optionally `email_from` (default: the block's username, as prefect-email sends). The
message is a text/plain email with From, To, Subject, Date and Message-ID. `smtp_type` SSL connects with TLS
(default port 465), STARTTLS upgrades a plain connection before logging in (587), INSECURE stays plain (25);
`smtp_port` overrides the port. The standard library's smtplib runs in a thread (aiosmtplib is not a dependency).
"""

from __future__ import annotations

import asyncio
import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx

from baton.notifications.channels import checks
from baton.notifications.channels.base import (
    DEFAULT_TIMEOUT_SECONDS,
    DeliveryFailed,
    DeliveryResult,
    Notification,
    ensure_valid,
)
from baton.notifications.channels.sendgrid import looks_like_email
from baton.notifications.channels.transport import redact
from baton.settings import Settings

# prefect-email's SMTPType and SMTPServer enums: block data holds either the member name or the value.
SMTP_TYPES = {"SSL": ("SSL", 465), "STARTTLS": ("STARTTLS", 587), "INSECURE": ("INSECURE", 25)}
SMTP_TYPES_BY_PORT = {port: mode for mode, (_, port) in SMTP_TYPES.items()}
SMTP_SERVERS = {
    "AOL": "smtp.aol.com",
    "ATT": "smtp.mail.att.net",
    "COMCAST": "smtp.comcast.net",
    "ICLOUD": "smtp.mail.me.com",
    "GMAIL": "smtp.gmail.com",
    "OUTLOOK": "smtp-mail.outlook.com",
    "YAHOO": "smtp.mail.yahoo.com",
}


def smtp_mode(data: Mapping[str, Any]) -> tuple[str, int] | None:
    """(SSL|STARTTLS|INSECURE, port) from `smtp_type` and `smtp_port`; None when `smtp_type` is not one of them."""
    raw = data.get("smtp_type", 465)
    text = str(raw).strip().upper()
    mode = SMTP_TYPES_BY_PORT.get(int(text)) if text.isdigit() else (text if text in SMTP_TYPES else None)
    if mode is None:
        return None
    port = data.get("smtp_port")
    return mode, port if isinstance(port, int) and not isinstance(port, bool) and port else SMTP_TYPES[mode][1]


def smtp_host(data: Mapping[str, Any]) -> str:
    """The server's host name; a prefect-email SMTPServer member name (e.g. "gmail") stands for its host."""
    server = str(data.get("smtp_server") or "smtp.gmail.com").strip()
    return SMTP_SERVERS.get(server.upper(), server)


def recipients(data: Mapping[str, Any]) -> list[str]:
    """The `email_to` addresses, in order, without duplicates."""
    raw = data.get("email_to") or []
    items = raw.split(",") if isinstance(raw, str) else raw
    return list(dict.fromkeys(item.strip() for item in items if isinstance(item, str) and item.strip()))


def sender(data: Mapping[str, Any]) -> str:
    return str(data.get("email_from") or data.get("username") or "").strip()


def email_message(notification: Notification, from_address: str, to_addresses: list[str]) -> EmailMessage:
    """The text/plain email carrying `notification`."""
    # 7-bit transfer encoding: a non-ASCII body goes quoted-printable or base64, so no server needs 8BITMIME.
    message = EmailMessage(policy=email.policy.default.clone(cte_type="7bit"))
    message["From"] = from_address
    message["To"] = ", ".join(to_addresses)
    # A header may not hold line breaks; a multi-line subject is folded onto one line.
    message["Subject"] = " ".join(notification.subject.split())
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or "baton.invalid")
    body = notification.body
    if notification.run_url and notification.run_url not in body:
        body = f"{body}\n\n{notification.run_url}" if body else notification.run_url
    message.set_content(body)
    return message


def deliver(data: Mapping[str, Any], message: EmailMessage, timeout: float) -> dict[str, Any]:
    """Send `message` over SMTP, blocking; returns the refused recipients (smtplib's `send_message` result)."""
    mode, port = smtp_mode(data) or ("SSL", 465)
    host = smtp_host(data)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if mode == "SSL":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if mode == "STARTTLS":
            client.starttls(context=context)
        if data.get("username"):
            client.login(data["username"], data.get("password") or "")
        refused = client.send_message(message)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            # The message was accepted or the error above says why not; a failed goodbye changes neither.
            client.close()
    return dict(refused)


def failure(exc: Exception, host: str, secrets: list[str]) -> DeliveryFailed:
    """The DeliveryFailed for an exception of smtplib or the socket."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryFailed(f"The SMTP server {host} refused the username and password.", retryable=False)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        reason = redact(str(exc), secrets)
        return DeliveryFailed(f"The SMTP server {host} does not support what the block asks: {reason}", retryable=False)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return DeliveryFailed(
            f"The SMTP server {host} refused every recipient: {', '.join(exc.recipients)}.",
            retryable=all(400 <= code < 500 for code in codes),
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        reply = redact(error.decode(errors="replace") if isinstance(error, bytes) else str(error), secrets)
        # SMTP's 4xx replies are transient by definition, 5xx permanent.
        return DeliveryFailed(
            f"The SMTP server {host} answered {exc.smtp_code} {reply}".strip(), retryable=not 500 <= exc.smtp_code < 600
        )
    if isinstance(exc, ssl.SSLError):
        # A certificate that does not verify, or TLS spoken to a plain port: sending again will not help.
        return DeliveryFailed(f"TLS with the SMTP server {host} failed: {exc.reason or exc}", retryable=False)
    if isinstance(exc, TimeoutError):
        return DeliveryFailed(f"The SMTP server {host} did not answer in time.")
    return DeliveryFailed(f"Could not send through the SMTP server {host}: {redact(str(exc), secrets)}")


class SmtpChannel:
    """Sends a plain-text email with the subject and body to the recipients the caller adds."""

    slug = "email-server-credentials"

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        problems = checks.text(data, "smtp_server", required=False) + checks.text(data, "username", required=False)
        problems += checks.text(data, "password", required=False)
        if smtp_mode(data) is None:
            problems.append("smtp_type must be SSL, STARTTLS or INSECURE (or the port 465, 587 or 25)")
        port = data.get("smtp_port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            problems.append("smtp_port must be a number from 1 to 65535")
        if not looks_like_email(sender(data)):
            problems.append("email_from must be an email address (it defaults to the username)")
        to = recipients(data)
        if not to:
            problems.append("email_to must list at least one email address")
        elif not all(looks_like_email(address) for address in to):
            problems.append("email_to must be a list of email addresses")
        return problems

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        ensure_valid(self, data)
        to = recipients(data)
        message = email_message(notification, sender(data), to)
        secrets = [data.get("password") or ""]
        try:
            refused = await asyncio.to_thread(deliver, data, message, DEFAULT_TIMEOUT_SECONDS)
        except (smtplib.SMTPException, OSError) as exc:
            raise failure(exc, smtp_host(data), secrets) from None
        accepted = [address for address in to if address not in refused]
        excerpt = f"Accepted for {', '.join(accepted)}" + (f"; refused {', '.join(refused)}" if refused else "")
        return DeliveryResult(status_code=None, response_excerpt=excerpt)
