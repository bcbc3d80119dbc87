"""`LeaseBatcher`: the lease acquisitions and releases of one server process, written together (group commit). The
server context owns the process's one batcher (`ServerContext.lease_batcher`).

Taking or returning a slot is a few small statements on one hot row; as separate transactions, 32 clients spend
their time queueing for the row lock (PostgreSQL) or the single writer (SQLite), and the event loop its time on the
statements' overhead. The batcher keeps one transaction in flight per database: requests that arrive meanwhile wait
for the next one, which takes them all (up to `MAX_BATCH`) through `apply_lease_batch`. A lone request goes at
once, so nothing waits on a timer. Each request is answered only after the transaction that contains it committed;
when that transaction fails, every request in it gets the error (503 for a busy database), and none of them took or
returned anything.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from baton.errors import ValidationFailed
from baton.server.database.engine import Database
from baton.server.models.concurrency.concurrency_lease_batches import (
    LeaseAcquisition,
    LeaseBatchResult,
    LeaseGrant,
    apply_lease_batch,
)

# At most this many requests share a transaction: enough to absorb any realistic burst, small enough to keep the
# statements' bind parameters far below SQLite's limit and one transaction's locks short.
MAX_BATCH = 256


@dataclass
class _Pending:
    acquisitions: list[tuple[LeaseAcquisition, asyncio.Future[LeaseGrant]]] = field(default_factory=list)
    releases: list[tuple[uuid.UUID, asyncio.Future[bool]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.acquisitions) + len(self.releases)


class LeaseBatcher:
    """Takes and releases leases on `database`, sharing write transactions between concurrent callers."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.loop = asyncio.get_running_loop()
        self._pending = _Pending()
        self._writer: asyncio.Task[None] | None = None

    async def acquire(self, acquisition: LeaseAcquisition) -> LeaseGrant:
        """The outcome of the acquisition once committed; raises ValidationFailed as `take_slots` would."""
        future: asyncio.Future[LeaseGrant] = self.loop.create_future()
        self._pending.acquisitions.append((acquisition, future))
        self._start()
        return await future

    async def release(self, lease_id: uuid.UUID) -> bool:
        """Release the lease once committed; False when there was no such lease (released, or expired and swept)."""
        future: asyncio.Future[bool] = self.loop.create_future()
        self._pending.releases.append((lease_id, future))
        self._start()
        return await future

    def _start(self) -> None:
        if self._writer is None:
            self._writer = self.loop.create_task(self._write_batches())

    async def _write_batches(self) -> None:
        try:
            while self._pending:
                batch = self._take_batch()
                try:
                    async with self.database.write() as connection:
                        result = await apply_lease_batch(
                            connection,
                            [acquisition for acquisition, _ in batch.acquisitions],
                            [lease_id for lease_id, _ in batch.releases],
                        )
                    _answer(batch, result)
                except BaseException as exc:
                    _fail(batch, exc)  # every caller not answered yet gets the error: none is left waiting
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._writer = None

    def _take_batch(self) -> _Pending:
        pending = self._pending
        if len(pending) <= MAX_BATCH:
            self._pending = _Pending()
            return pending
        releases = pending.releases[:MAX_BATCH]
        acquisitions = pending.acquisitions[: MAX_BATCH - len(releases)]
        self._pending = _Pending(pending.acquisitions[len(acquisitions) :], pending.releases[len(releases) :])
        return _Pending(acquisitions, releases)


def _answer(batch: _Pending, result: LeaseBatchResult) -> None:
    for (_, future), grant in zip(batch.acquisitions, result.grants, strict=True):
        if future.done():  # the caller went away (cancelled); its lease, if any, expires unrenewed
            continue
        if isinstance(grant, ValidationFailed):
            future.set_exception(grant)
        else:
            future.set_result(grant)
    for (_, release_future), found in zip(batch.releases, result.released, strict=True):
        if not release_future.done():
            release_future.set_result(found)


def _fail(batch: _Pending, exc: BaseException) -> None:
    futures: list[asyncio.Future[LeaseGrant] | asyncio.Future[bool]] = [future for _, future in batch.acquisitions]
    futures += [future for _, future in batch.releases]
    for future in futures:
        if future.done():
            continue
        if isinstance(exc, Exception):
            future.set_exception(exc)
        else:  # the writer itself was cancelled (the loop is closing)
            future.cancel()
