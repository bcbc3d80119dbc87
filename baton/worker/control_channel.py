"""The supervisor side of the Prefect engine's control channel (protocol version one), so that a cancelled run's
engine knows the SIGTERM that follows is a cancellation: it then reports Cancelled itself instead of Crashed.

The worker listens on a loopback port and gives each run's engine the port and a one-time token
(PREFECT__CONTROL_PORT, PREFECT__CONTROL_TOKEN). The engine connects, sends the token and a line end (then a
version-two negotiation frame, which a version-one supervisor ignores). To cancel, the supervisor sends `c`; the
engine answers `a` once it has taken the intent, and the supervisor sends SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets

CANCEL_INTENT = b"c"
ACKNOWLEDGED = b"a"
# How long the engine has to acknowledge an intent before the worker falls back to a plain SIGTERM.
ACK_TIMEOUT_SECONDS = 3.0


class ControlChannel:
    """One loopback listener for all of a worker's runs."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.port = 0
        self._tokens: dict[str, str] = {}
        self._sessions: dict[str, tuple[asyncio.StreamWriter, asyncio.Queue[bytes]]] = {}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for writer, _ in self._sessions.values():
            writer.close()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def register(self, flow_run_id: str) -> dict[str, str]:
        """The environment that lets the run's engine connect back to this channel."""
        token = secrets.token_hex(16)
        self._tokens[token] = flow_run_id
        return {"PREFECT__CONTROL_PORT": str(self.port), "PREFECT__CONTROL_TOKEN": token}

    def forget(self, flow_run_id: str) -> None:
        self._tokens = {token: run_id for token, run_id in self._tokens.items() if run_id != flow_run_id}
        session = self._sessions.pop(flow_run_id, None)
        if session is not None:
            session[0].close()

    async def request_cancel(self, flow_run_id: str) -> bool:
        """Tell the run's engine that it is being cancelled; True once it acknowledged (SIGTERM it next)."""
        session = self._sessions.get(flow_run_id)
        if session is None:
            return False
        writer, received = session
        try:
            writer.write(CANCEL_INTENT)
            await writer.drain()
            async with asyncio.timeout(ACK_TIMEOUT_SECONDS):
                while (await received.get()) != ACKNOWLEDGED:
                    continue
        except (TimeoutError, ConnectionError):
            return False
        return True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), ACK_TIMEOUT_SECONDS)
        except (TimeoutError, ConnectionError):
            writer.close()
            return
        flow_run_id = self._tokens.pop(line.strip().decode("ascii", "replace"), None)
        if flow_run_id is None:
            writer.close()
            return
        received: asyncio.Queue[bytes] = asyncio.Queue()
        self._sessions[flow_run_id] = (writer, received)
        with contextlib.suppress(ConnectionError):
            while byte := await reader.read(1):
                received.put_nowait(byte)
