"""What every handler of one server process shares: settings, the database, the event publisher."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from baton.server.database.engine import Database


@dataclass
class ServerContext:
    """Built once by the server at start, passed to every handler; tests build their own."""

    settings: Any
    database: Database
    #: Publishes events and actor messages; None until the queue is wired in (the events issue).
    publisher: Any = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: Requests being handled right now; shutdown waits for it to reach zero.
    in_flight: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def request_started(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def request_finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight <= 0:
            self._idle.set()

    async def wait_until_idle(self, grace_seconds: float) -> None:
        """Return when no request is in flight, or after `grace_seconds`."""
        if self.in_flight <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
