"""The bases of the bulk endpoints of flow runs and task runs (`/flow_runs/bulk_delete`, `/bulk_set_state` and
Baton's own `/task_runs/...` twins).

A subclass names its kind of run (`target`), its request and answer models and a summary, and gets a documented
`post`. A bulk delete deletes each matching run as its single `DELETE` does, in one transaction. A bulk state change
proposes the state to each matching run in turn, each in its own transaction through the same orchestration as the
run's `set_state` (the subclass's `propose`); a run whose change fails is answered ABORT with the reason, and the
others go on.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from baton.errors import BatonError
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.runs import bulk
from baton.server.orchestration.context import TransitionOutcome
from baton.server.schemas.base import ApiModel
from baton.server.schemas.bulk import BulkDeleteRequest, BulkDeleteResponse, BulkSetStateRequest


class BulkDeleteHandler(ApiHandler):
    target: ClassVar[bulk.BulkTarget]
    request_model: ClassVar[type[BulkDeleteRequest]]
    summary: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)

        async def post(self: BulkDeleteHandler) -> None:
            await self.delete_runs()

        cls.post = endpoint(  # type: ignore[method-assign]
            cls.summary, body=cls.request_model, response=BulkDeleteResponse, optional_body=True
        )(post)

    async def delete_runs(self) -> None:
        request = self.parse_body(self.request_model, default_empty=True)
        run_filter = getattr(request, self.target.filter_field)
        async with self.database.write() as connection:
            deleted = await bulk.delete_matching(connection, self.target, run_filter, request.limit)
        self.write_json({"deleted": deleted})


class BulkSetStateHandler(ApiHandler):
    target: ClassVar[bulk.BulkTarget]
    request_model: ClassVar[type[BulkSetStateRequest]]
    response_model: ClassVar[type[ApiModel]]
    summary: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)

        async def post(self: BulkSetStateHandler) -> None:
            await self.set_states()

        cls.post = endpoint(cls.summary, body=cls.request_model, response=cls.response_model)(post)  # type: ignore[method-assign]

    async def propose(self, run_id: uuid.UUID, request: BulkSetStateRequest) -> TransitionOutcome:
        """Propose `request.state` to the run in a write transaction of its own, and do what follows a change."""
        raise NotImplementedError

    async def set_states(self) -> None:
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
