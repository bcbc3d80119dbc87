"""The bases of the bulk endpoints of flow runs and task runs (`/flow_runs/bulk_delete`, `/bulk_set_state` and
Baton's own `/task_runs/...` twins).

A subclass names its kind of run (`target`), its request model and a summary, and gets a documented `post`. A bulk
delete deletes each matching run as its single `DELETE` does, in one transaction. A bulk state change proposes the
state to each matching run in turn, each in its own transaction through the same orchestration as the run's
`set_state` (the subclass's `propose`); a run whose change fails is answered ABORT with the reason, and the others
go on.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from pydantic import BaseModel

from baton.errors import BatonError
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs import bulk
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.bulk import BulkDeleteRequest, BulkDeleteResponse, BulkSetStateRequest


class BulkRunsHandler(ApiHandler):
    """A concrete subclass (one that sets `summary`) gets a `post` that calls `act`, documented with `summary`, its
    request model and `response_model`."""

    target: ClassVar[bulk.BulkTarget]
    request_model: ClassVar[type[BaseModel]]
    response_model: ClassVar[type[BaseModel]]
    summary: ClassVar[str]
    # Whether an empty body stands for `{}` (every run, up to the limit).
    optional_body: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "summary" not in cls.__dict__:
            return

        async def post(self: BulkRunsHandler) -> None:
            await self.act()

        document = endpoint(
            cls.summary, body=cls.request_model, response=cls.response_model, optional_body=cls.optional_body
        )
        cls.post = document(post)  # type: ignore[method-assign]

    async def act(self) -> None:
        raise NotImplementedError


class BulkDeleteHandler(BulkRunsHandler):
    request_model: ClassVar[type[BulkDeleteRequest]]
    response_model = BulkDeleteResponse
    optional_body = True

    async def act(self) -> None:
        request = self.parse_body(self.request_model, default_empty=True)
        run_filter = getattr(request, self.target.filter_field)
        async with self.database.write() as connection:
            deleted = await bulk.delete_matching(connection, self.target, run_filter, request.limit)
        self.write_json({"deleted": deleted})


class BulkSetStateHandler(BulkRunsHandler):
    request_model: ClassVar[type[BulkSetStateRequest]]

    async def propose(self, run_id: uuid.UUID, request: BulkSetStateRequest) -> TransitionOutcome:
        """Propose `request.state` to the run in a write transaction of its own, and do what follows a change."""
        raise NotImplementedError

    async def act(self) -> None:
        request = self.parse_body(self.request_model)
        run_filter = getattr(request, self.target.filter_field)
        async with self.database.read() as connection:
            run_ids = await bulk.read_matching_ids(connection, self.target, run_filter, request.limit)
        id_field = self.target.id_field
        results: list[dict[str, Any]] = []
        for run_id in run_ids:
            try:
                outcome = await self.propose(run_id, request)
            except BatonError as exc:
                details = {"type": "abort_details", "reason": exc.message}
                results.append({id_field: run_id, "status": "ABORT", "state": None, "details": details})
                continue
            body = outcome.result_body()
            results.append({id_field: run_id, **{key: body[key] for key in ("status", "state", "details")}})
        self.write_json({"results": results})
