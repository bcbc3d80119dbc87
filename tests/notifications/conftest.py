"""Stand-ins for the services on loopback: an HTTP server that records every request, and a minimal SMTP server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import tornado.httpserver
import tornado.httputil
import tornado.netutil
import tornado.web

from baton.notifications.channels import Notification
from baton.notifications.http import make_http_client
from baton.settings import Settings


@dataclass
class Request:
    """One request as the service received it."""

    method: str
    path: str
    query: str
    headers: tornado.httputil.HTTPHeaders
    body: bytes


@dataclass
class FakeService:
    """An HTTP service on loopback: records each request and answers `status` with `reply`, after `delay` seconds."""

    url: str
    status: int = 200
    reply: str = "ok"
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)


class _RecordingHandler(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def initialize(self, service: FakeService) -> None:
        self.service = service

    async def _answer(self) -> None:
        request = self.request
        self.service.requests.append(
            Request(request.method or "", request.path, request.query, request.headers, request.body)
        )
        if self.service.delay:
            await asyncio.sleep(self.service.delay)
        self.set_status(self.service.status)
        self.finish(self.service.reply or None)

    get = post = put = patch = delete = _answer

    def check_xsrf_cookie(self) -> None:
        return None


@pytest.fixture
async def service() -> AsyncIterator[FakeService]:
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    fake = FakeService(url=f"http://127.0.0.1:{port}")
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r".*", _RecordingHandler, {"service": fake})]))
    server.add_sockets(sockets)
    yield fake
    server.stop()
    await server.close_all_connections()


@pytest.fixture
def settings(service: FakeService, tmp_path: Path) -> Settings:
    """Settings whose SaaS base URLs all point at `service`."""
    return Settings(
        home=tmp_path,
        notifications_discord_url=service.url,
        notifications_opsgenie_url=service.url,
        notifications_pagerduty_url=service.url,
        notifications_sendgrid_url=service.url,
        notifications_twilio_url=service.url,
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The client the actors send with, so the request tests check the bytes that really go out."""
    async with make_http_client(timeout=5.0) as client:
        yield client


@dataclass
class ReceivedMail:
    """One SMTP transaction as the server received it."""

    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    data: bytes = b""


@dataclass
class FakeSmtpServer:
    """A plain SMTP server on loopback speaking EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT.

    `rcpt_reply` answers every RCPT (e.g. "550 5.1.1 No such user"); `logins` holds each AUTH PLAIN credential.
    """

    port: int = 0
    rcpt_reply: str = "250 2.1.5 OK"
    mails: list[ReceivedMail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 localhost ESMTP fake\r\n")
        mail = ReceivedMail()
        try:
            while line := await reader.readline():
                command = line.decode().rstrip("\r\n")
                verb, _, argument = command.partition(" ")
                verb = verb.upper()
                self.commands.append(verb)
                if verb == "EHLO":
                    writer.write(b"250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
                elif verb == "HELO" or verb == "NOOP":
                    writer.write(b"250 localhost\r\n")
                elif verb == "AUTH":
                    self.logins.append(base64.b64decode(argument.split()[1]).decode())
                    writer.write(b"235 2.7.0 Authentication successful\r\n")
                elif verb == "MAIL":
                    mail = ReceivedMail(sender=argument.split(":", 1)[1].split()[0].strip("<>"))
                    writer.write(b"250 2.1.0 OK\r\n")
                elif verb == "RCPT":
                    if self.rcpt_reply.startswith("2"):
                        mail.recipients.append(argument.split(":", 1)[1].strip().strip("<>"))
                    writer.write(self.rcpt_reply.encode() + b"\r\n")
                elif verb == "DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    lines = []
                    while (data_line := await reader.readline()) != b".\r\n":
                        lines.append(data_line[1:] if data_line.startswith(b".") else data_line)
                    mail.data = b"".join(lines)
                    self.mails.append(mail)
                    writer.write(b"250 2.0.0 OK queued\r\n")
                elif verb == "RSET":
                    mail = ReceivedMail()
                    writer.write(b"250 2.0.0 OK\r\n")
                elif verb == "QUIT":
                    writer.write(b"221 2.0.0 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 5.5.2 Command not recognized\r\n")
                await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()


@pytest.fixture
async def smtp_server() -> AsyncIterator[FakeSmtpServer]:
    fake = FakeSmtpServer()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    yield fake
    server.close()
    await server.wait_closed()


RUN_URL = "http://baton.example.com/runs/flow-run/0b7a"
FAILED = Notification(
    subject="Run fuzzy-leopard failed",
    body="Flow run etl/fuzzy-leopard entered state `Failed`.",
    severity="failure",
    run_url=RUN_URL,
)


def only_request(service: FakeService) -> Request:
    """The one request the service received."""
    assert len(service.requests) == 1
    return service.requests[0]
