"""The bulk endpoints of a kind of run: `POST /flow_runs/bulk_delete` and `/bulk_set_state`, and Baton's own
`/task_runs/...` twins, made by `bulk_run_handlers` from what differs between the kinds.

A bulk delete deletes each matching run as its single `DELETE` does, in one transaction. A bulk state change proposes
the state to each matching run in turn, each in its own transaction through the same orchestration as the run's
`set_state` (the kind's `propose`); a run whose change fails is answered ABORT with the reason, and the others go on.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from baton.errors import BatonError
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs import bulk
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.base import ApiModel
from baton.server.schemas.bulk import (
    BULK_OPERATION_LIMIT,
    BulkDeleteRequest,
    BulkDeleteResponse,
    BulkSetStateRequest,
)

# Proposes a bulk request's state to one run in a write transaction of its own, and does what follows a change.
Propose = Callable[[ApiHandler, uuid.UUID, BulkSetStateRequest], Awaitable[TransitionOutcome]]


def bulk_run_handlers(
    target: bulk.BulkTarget,
    bodies: tuple[type[BulkDeleteRequest], type[BulkSetStateRequest], type[ApiModel]],
    *,
    set_state_permission: str,
    propose: Propose,
) -> tuple[type[ApiHandler], type[ApiHandler]]:
    """The bulk-delete and bulk-set-state handlers of `target`'s runs, with their bodies (the delete request, the
    set-state request and answer). Deleting needs the write permission of the kind, as its single `DELETE` does."""
    delete_request, set_state_request, set_state_response = bodies
    noun, path = target.table.name.replace("_", " "), f"/{target.filter_field}/{{id}}"
    most = f"up to `limit` (at most {BULK_OPERATION_LIMIT}) {noun}s matching a filter"

    class BulkDeleteHandler(ApiHandler):
        permission = f"{target.table.name}:write"

        @endpoint(
            f"Delete {most}, each as `DELETE {path}` does",
            body=delete_request,
            response=BulkDeleteResponse,
            optional_body=True,
        )
        async def post(self) -> None:
            request = self.parse_body(delete_request, default_empty=True)
            run_filter = getattr(request, target.filter_field)
            async with self.database.write() as connection:
                deleted = await bulk.delete_matching(connection, target, run_filter, request.limit)
            self.write_json({"deleted": deleted})

    class BulkSetStateHandler(ApiHandler):
        permission = set_state_permission

        @endpoint(
            f"Propose a state to {most} through the orchestration of `POST {path}/set_state`; one result per run",
            body=set_state_request,
            response=set_state_response,
        )
        async def post(self) -> None:
            request = self.parse_body(set_state_request)
            async with self.database.read() as connection:
                run_ids = await bulk.read_matching_ids(
                    connection, target, getattr(request, target.filter_field), request.limit
                )
            results: list[dict[str, Any]] = []
            for run_id in run_ids:
                try:
                    outcome = await propose(self, run_id, request)
                except BatonError as exc:
                    details = {"type": "abort_details", "reason": exc.message}
                    results.append({target.id_field: run_id, "status": "ABORT", "state": None, "details": details})
                    continue
                body = outcome.result_body()
                results.append({target.id_field: run_id, **{key: body[key] for key in ("status", "state", "details")}})
            self.write_json({"results": results})

    kind = target.table.name.title().replace("_", "")
    for handler, operation in ((BulkDeleteHandler, "BulkDelete"), (BulkSetStateHandler, "BulkSetState")):
        handler.__name__ = handler.__qualname__ = f"{kind}{operation}Handler"
    return BulkDeleteHandler, BulkSetStateHandler
