"""Signing in with a name and password, with the same answer and about the same time whether or not the account
exists, and with failures limited per address and per account name (in each server process)."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

from baton.errors import NotAuthenticated, TooManyAttempts
from baton.server.auth import credentials
from baton.server.models.identity import accounts

#: Failures allowed within `WINDOW_SECONDS` before further attempts are refused until the oldest one ages out.
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_ACCOUNT = 5
WINDOW_SECONDS = 300.0
#: Most addresses and names tracked; beyond it the oldest are forgotten (a flood cannot grow memory without bound).
MAX_TRACKED = 10_000

BAD_CREDENTIALS = "The user name or password is not valid."


class FailureCounter:
    """Recent failure times per key, oldest first."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float) -> int | None:
        """Seconds until `key` may try again, or None if it may now."""
        failures = self._failures.get(key)
        if not failures:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[0] + self.window - now))

    def add(self, key: str, now: float) -> None:
        if key not in self._failures and len(self._failures) >= MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))
        self._failures.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class SignInGuard:
    """One per server process."""

    def __init__(self) -> None:
        self.by_address = FailureCounter(MAX_FAILURES_PER_ADDRESS)
        self.by_account = FailureCounter(MAX_FAILURES_PER_ACCOUNT)

    async def check_password(self, connection: Any, name: str, password: str, address: str | None) -> dict[str, Any]:
        """The user's account row when `password` is right; NotAuthenticated (same message whether the name exists
        or not) or TooManyAttempts (429) otherwise."""
        now = time.monotonic()
        address_key = address or "unknown"
        account_key = name.strip().lower()
        waits = [self.by_address.retry_after(address_key, now), self.by_account.retry_after(account_key, now)]
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            raise TooManyAttempts(f"Too many failed sign-ins; try again in {wait} seconds.", wait)
        account = await accounts.read_account_by_name(connection, "user", name.strip())
        valid = await credentials.verify_password(account["password_hash"] if account else None, password)
        if not valid or account is None or account["disabled"]:
            self.by_address.add(address_key, now)
            self.by_account.add(account_key, now)
            raise NotAuthenticated(BAD_CREDENTIALS)
        self.by_account.clear(account_key)
        return account
