"""`AuditLog`: collects audit entries as requests finish and writes them in batches, a fraction of a second later.

What is recorded: every change made through the API or the UI (what the route's permission names, except run
telemetry: the logs, events, task runs, run states and heartbeats that running flows and workers report, which are
the runs' own history), every sign-in and sign-out, every key created, rotated or revoked, every role change and every
read of secret values. Entries never hold request bodies, so a secret value cannot reach the log.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
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
#: Path segments naming a part of a resource (a deployment's schedules, a pool's queues and workers, a run's inputs):
#: the action names the part (`deployment.delete_schedule`) instead of reading as a change to the whole resource.
SUB_RESOURCES = {"schedules": "schedule", "queues": "queue", "workers": "worker", "input": "input"}
#: Segments that only say how the next one finds the resource (`/variables/name/{name}`).
LOOKUP_SEGMENTS = frozenset({"name", "slug", "tag", "checksum"})
_PATH_PREFIXES = ("api", "v2")


def request_action(resource: str, method: str, path: str, path_kwargs: Mapping[str, str]) -> str:
    """The audit action of a write request, `<resource>.<what>`:
    - a change to the resource itself: the method's verb (`variable.create`, `variable.update`, `flow.delete`);
    - an operation named by the path (POST): its segments after the resource (`flow_run.set_state`,
      `deployment.create_flow_run`, `deployment.create_flow_run_bulk`, `flow.bulk_delete`);
    - a part of the resource: the verb and the part (`deployment.create_schedule`, `work_pool.delete_queue`);
    - another method on a named part: the verb and the part (`server.update_storage`, `flow_run.update_labels`)."""
    segments = [urllib.parse.unquote(segment) for segment in path.split("/") if segment]
    while segments and segments[0] in _PATH_PREFIXES:
        segments = segments[1:]
    parameters = list(path_kwargs.values())
    tail = []
    for segment in segments[1:]:
        if parameters and segment == parameters[0]:
            parameters.pop(0)
        elif segment not in LOOKUP_SEGMENTS:
            tail.append(segment.replace("-", "_"))
    verb = _VERB_OF_METHOD.get(method, method.lower())
    if not tail:
        # PUT on a collection (`PUT /saved_searches/`) creates.
        return f"{resource}.{'create' if method == 'PUT' and not path_kwargs else verb}"
    if tail[0] in SUB_RESOURCES:
        part = SUB_RESOURCES[tail[0]]
        rest = tail[1:]
        return f"{resource}.{part}_{'_'.join(rest)}" if rest else f"{resource}.{verb}_{part}"
    operation = "_".join(tail)
    return f"{resource}.{operation}" if method == "POST" else f"{resource}.{verb}_{operation}"


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
        workspace_id: uuid.UUID | None = None,
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
                "workspace_id": workspace_id,
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
