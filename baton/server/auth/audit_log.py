"""`AuditLog`: collects audit entries as requests finish and writes them in batches, a fraction of a second later.

What is recorded: every change made through the API or the UI (what the route's permission names, except run
telemetry: the logs, events, task runs, run states and heartbeats that running flows and workers report, which are
the runs' own history), every sign-in and sign-out, every key created, rotated or revoked, every role change and every
read of secret values. Entries never hold request bodies, so a secret value cannot reach the log.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from baton.server.auth.principal import Principal
from baton.server.database.types import utcnow
from baton.server.models.identity.audit import insert_audit_entries

logger = logging.getLogger("baton.audit")

#: Permissions whose writes are run telemetry, not changes a person makes.
UNAUDITED_PERMISSIONS = frozenset(
    {"flow_run:write", "task_run:write", "log:write", "event:write", "concurrency_limit:use", "work_pool:poll"}
)
FLUSH_DELAY_SECONDS = 0.2
#: Entries kept while the database cannot take them; beyond it the oldest are dropped, with an error in the log.
MAX_PENDING = 50_000

_VERB_OF_METHOD = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def request_action(resource: str, method: str, path: str, path_kwargs: Mapping[str, str]) -> str:
    """The audit action of a write request: `<resource>.<verb>`, the verb from the method, or the path's last segment
    when it names an operation (`flow_run.set_state`, `deployment.pause_deployment`)."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if method == "POST" and last and last not in path_kwargs.values() and not _is_collection(last, resource):
        return f"{resource}.{last.replace('-', '_')}"
    return f"{resource}.{_VERB_OF_METHOD.get(method, method.lower())}"


def _is_collection(segment: str, resource: str) -> bool:
    return segment.rstrip("s") in (resource, resource.replace("_", "")) or segment.endswith("s")


class AuditLog:
    def __init__(self, database: Any) -> None:
        self._database = database
        self._pending: list[dict[str, Any]] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def record(
        self,
        principal: Principal,
        action: str,
        *,
        outcome: str,
        status_code: int | None = None,
        resource_kind: str | None = None,
        resource_id: str | None = None,
        resource_name: str | None = None,
        address: str | None = None,
        detail: Mapping[str, Any] | None = None,
        actor_name: str | None = None,
    ) -> None:
        """Queue one entry; it is written within `FLUSH_DELAY_SECONDS`."""
        self._pending.append(
            {
                "id": uuid.uuid4(),
                "occurred": utcnow(),
                "actor_kind": principal.kind,
                "actor_id": principal.id,
                "actor_name": actor_name or principal.name,
                "action": action,
                "resource_kind": resource_kind,
                "resource_id": None if resource_id is None else str(resource_id)[:255],
                "resource_name": None if resource_name is None else str(resource_name)[:255],
                "address": address,
                "outcome": outcome,
                "status_code": status_code,
                "detail": dict(detail or {}),
            }
        )
        if len(self._pending) > MAX_PENDING:
            dropped = len(self._pending) - MAX_PENDING
            del self._pending[:dropped]
            logger.error("The audit log could not be written; %d entries were dropped.", dropped)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        """Write every queued entry now (before reading the log, and at shutdown)."""
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            try:
                async with self._database.write() as connection:
                    await insert_audit_entries(connection, batch)
            except Exception:  # noqa: BLE001 - keep the entries for the next flush instead of losing them
                self._pending[:0] = batch
                logger.warning("Could not write %d audit entries; will retry.", len(batch), exc_info=True)
