"""An in-memory channel for tests of the code that sends notifications; not registered in `CHANNELS`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from baton.notifications.channels.base import DeliveryFailed, DeliveryResult, Notification
from baton.settings import Settings


class MemoryChannel:
    """Keeps every notification it is given in `sent`; raises `fail_with` instead when it is set."""

    slug = "memory"

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], Notification]] = []
        self.fail_with: DeliveryFailed | None = None

    def validate(self, data: Mapping[str, Any]) -> list[str]:
        return []

    async def send(
        self, data: Mapping[str, Any], notification: Notification, http: httpx.AsyncClient, settings: Settings
    ) -> DeliveryResult:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((dict(data), notification))
        return DeliveryResult(status_code=None, response_excerpt="kept in memory")
