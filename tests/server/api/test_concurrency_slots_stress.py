"""No slot leaks and no over-allocation: many clients racing for a small limit, and a holder killed with SIGKILL."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.models.concurrency.concurrency_leases import revoke_expired_leases
from tests.acceptance.conftest import baton_server

V2 = "/v2/concurrency_limits"
LIMIT = 3
CLIENTS = 32
# 32 clients race for 3 slots from the first acquisition to the last, so every acquisition is checked under
# contention (about as many refusals as acquisitions). More acquisitions would repeat the same checks for longer.
ACQUISITIONS = 300
# A refused client asks again after a few milliseconds (ignoring Retry-After's size, to keep the test fast).
RETRY_SLEEP_SECONDS = (0.15, 0.45)
POLL_SECONDS = 0.005


@dataclass
class Observed:
    """What the test saw: holders per the clients themselves, per the limit row, and per the lease rows."""

    holding: int = 0
    max_holding: int = 0
    max_active_slots: int = 0
    max_leases: int = 0
    acquired: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)


async def read_counts(database: Database, name: str) -> tuple[int, int]:
    """The limit's active_slots and the number of leases, read in one transaction."""
    table = t.concurrency_limit_v2
    async with database.read() as connection:
        active = await connection.scalar(sa.select(table.c.active_slots).where(table.c.name == name))
        leases = await connection.scalar(sa.select(sa.func.count()).select_from(t.concurrency_lease))
    return int(active), int(leases)


async def poll_database(database: Database, observed: Observed, stop: asyncio.Event) -> None:
    while not stop.is_set():
        active, leases = await read_counts(database, "stress")
        observed.max_active_slots = max(observed.max_active_slots, active)
        observed.max_leases = max(observed.max_leases, leases)
        await asyncio.sleep(POLL_SECONDS)


@pytest.fixture
def server_api_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A `baton server start` subprocess on the test's database, so that the server has a CPU to itself and the
    32 clients (and the database polling) run beside it, not on its event loop."""
    home = tmp_path / "server-home"
    home.mkdir()
    for server in baton_server(home, database_url):
        yield server.api_url


async def worker(api_url: str, remaining: list[int], observed: Observed, database: Database) -> None:
    body = {"names": ["stress"], "slots": 1, "mode": "concurrency", "lease_duration": 30}
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        while remaining[0] > 0:
            response = await http.post(f"{V2}/increment-with-lease", json=body)
            if response.status_code == 423:
                observed.refused += 1
                await asyncio.sleep(random.uniform(*RETRY_SLEEP_SECONDS))
                continue
            if response.status_code != 200:
                observed.errors.append(f"{response.status_code} {response.text[:200]}")
                return
            remaining[0] -= 1
            observed.acquired += 1
            observed.holding += 1
            observed.max_holding = max(observed.max_holding, observed.holding)
            # Right after acquiring: the database must agree that at most LIMIT slots and leases are taken.
            active, leases = await read_counts(database, "stress")
            observed.max_active_slots = max(observed.max_active_slots, active)
            observed.max_leases = max(observed.max_leases, leases)
            observed.holding -= 1
            lease_id = response.json()["lease_id"]
            released = await http.post(f"{V2}/decrement-with-lease", json={"lease_id": lease_id})
            if released.status_code != 204:
                observed.errors.append(f"release: {released.status_code} {released.text[:200]}")
                return


async def test_a_limit_of_three_never_has_more_than_three_holders(server_api_url: str, database: Database) -> None:
    async with httpx.AsyncClient(base_url=server_api_url) as http:
        assert (await http.post(f"{V2}/", json={"name": "stress", "limit": LIMIT})).status_code == 201
    observed = Observed()
    remaining = [ACQUISITIONS]
    stop = asyncio.Event()
    poller = asyncio.create_task(poll_database(database, observed, stop))
    started = time.perf_counter()
    await asyncio.gather(*(worker(server_api_url, remaining, observed, database) for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    stop.set()
    await poller

    assert observed.errors == []
    assert observed.acquired >= ACQUISITIONS
    assert observed.max_holding <= LIMIT
    assert 1 <= observed.max_active_slots <= LIMIT
    assert observed.max_leases <= LIMIT
    assert observed.refused > 0  # there was contention to speak of
    # Every slot came back.
    assert await read_counts(database, "stress") == (0, 0)
    print(
        f"\n{observed.acquired} acquisitions in {elapsed:.1f} s ({observed.acquired / elapsed:.0f}/s), "
        f"{observed.refused} refusals, max holders {observed.max_holding}, "
        f"max active_slots {observed.max_active_slots}, max leases {observed.max_leases}"
    )


# The holder's script: take the only slot with a short lease, say so, then wait to be killed.
HOLDER_SCRIPT = """
import sys, time, httpx
body = {"names": ["crash"], "slots": 1, "lease_duration": float(sys.argv[2]),
        "holder": {"type": "flow_run", "id": "6e0bc9d8-2b4e-4a63-8b57-1b0f7d2e6f11"}}
response = httpx.post(sys.argv[1] + "/v2/concurrency_limits/increment-with-lease", json=body, timeout=10)
response.raise_for_status()
print(response.json()["lease_id"], flush=True)
time.sleep(600)
"""
LEASE_SECONDS = 2.0
SWEEP_INTERVAL_SECONDS = 0.5


async def sweep(database: Database, stop: asyncio.Event) -> None:
    """Stand-in for the beat: revoke expired leases every SWEEP_INTERVAL_SECONDS."""
    while not stop.is_set():
        await revoke_expired_leases(database)
        try:
            await asyncio.wait_for(stop.wait(), SWEEP_INTERVAL_SECONDS)
        except TimeoutError:
            pass


async def test_a_killed_holder_frees_its_slot_within_the_lease_plus_one_sweep(
    client: httpx.AsyncClient, base_url: str, database: Database
) -> None:
    assert (await client.post(f"{V2}/", json={"name": "crash", "limit": 1})).status_code == 201
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER_SCRIPT, f"{base_url}/api", str(LEASE_SECONDS), stdout=asyncio.subprocess.PIPE
    )
    assert holder.stdout is not None
    lease_line = await asyncio.wait_for(holder.stdout.readline(), 20)
    acquired_at = time.monotonic()
    assert lease_line.strip(), "the holder did not take the slot"
    holder.kill()  # SIGKILL: no chance to release
    await holder.wait()

    stop = asyncio.Event()
    sweeper = asyncio.create_task(sweep(database, stop))
    body = {"names": ["crash"], "slots": 1, "lease_duration": 30}
    try:
        while True:
            response = await client.post(f"{V2}/increment-with-lease", json=body)
            if response.status_code == 200:
                break
            assert response.status_code == 423, response.text
            assert time.monotonic() - acquired_at < LEASE_SECONDS + SWEEP_INTERVAL_SECONDS + 2, "slot never came back"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await sweeper
    waited = time.monotonic() - acquired_at
    assert LEASE_SECONDS - 0.1 <= waited <= LEASE_SECONDS + SWEEP_INTERVAL_SECONDS + 0.5
    holders = (await client.get(f"{V2}/crash/holders")).json()
    assert len(holders) == 1 and holders[0]["lease_id"] == response.json()["lease_id"]
    print(f"\nslot of the killed holder taken over {waited:.2f} s after it was acquired")
