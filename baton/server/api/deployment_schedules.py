"""`/deployments/{id}/schedules`: list, add, change and remove a deployment's schedules. A change replaces the
deployment's future auto-scheduled runs, which the scheduler then makes again at once."""

from __future__ import annotations

import datetime as dt

import orjson
from pydantic import BaseModel, Field, RootModel

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.api.deployments import DeploymentApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.deployments import deployment_runs, deployment_schedules, deployments
from baton.server.schedules import run_times
from baton.server.schemas.deployments import DeploymentSchedule, DeploymentScheduleCreate, DeploymentScheduleUpdate
from baton.server.schemas.schedules import Schedule

PREVIEW_MAX_COUNT = 20


class ScheduleCreateList(RootModel[list[DeploymentScheduleCreate]]):
    """The body of `POST /deployments/{id}/schedules`: an array of schedules."""


class DeploymentSchedulesHandler(DeploymentApiHandler):
    permission = {"GET": "deployment:read", "POST": "deployment:write"}

    @endpoint("A deployment's schedules", response=list[DeploymentSchedule])
    async def get(self, deployment_id: str) -> None:
        async with self.database.read() as connection:
            row = await deployments.read_deployment_or_404(connection, self.path_uuid(deployment_id))
        self.write_json(row["schedules"])

    @endpoint("Add schedules to a deployment", body=ScheduleCreateList, response=list[DeploymentSchedule], status=201)
    async def post(self, deployment_id: str) -> None:
        schedules = self.parse_body(ScheduleCreateList)
        the_id = self.path_uuid(deployment_id)
        async with self.database.write() as connection:
            await deployments.read_deployment_or_404(connection, the_id)
            rows = await deployment_schedules.create_deployment_schedules(connection, the_id, schedules.root)
        await self.reschedule(the_id)
        self.write_json(rows, status=201)


class DeploymentScheduleHandler(DeploymentApiHandler):
    permission = {"PATCH": "deployment:write", "DELETE": "deployment:write"}

    @endpoint("Change one of a deployment's schedules", body=DeploymentScheduleUpdate, status=204)
    async def patch(self, deployment_id: str, schedule_id: str) -> None:
        update = self.parse_body(DeploymentScheduleUpdate)
        the_id = self.path_uuid(deployment_id)
        async with self.database.write() as connection:
            await deployments.read_deployment_or_404(connection, the_id)
            found = await deployment_schedules.update_deployment_schedule(
                connection, the_id, self.path_uuid(schedule_id, "schedule_id"), update
            )
            if found:
                await deployment_runs.delete_scheduled_runs(connection, the_id, future_only=True)
        if not found:
            raise ObjectNotFound(f"Deployment {deployment_id} has no schedule {schedule_id}.")
        await self.reschedule(the_id)
        self.write_no_content()

    @endpoint("Remove one of a deployment's schedules", status=204)
    async def delete(self, deployment_id: str, schedule_id: str) -> None:
        the_id = self.path_uuid(deployment_id)
        async with self.database.write() as connection:
            await deployments.read_deployment_or_404(connection, the_id)
            found = await deployment_schedules.delete_deployment_schedule(
                connection, the_id, self.path_uuid(schedule_id, "schedule_id")
            )
            if found:
                await deployment_runs.delete_scheduled_runs(connection, the_id, future_only=True)
        if not found:
            raise ObjectNotFound(f"Deployment {deployment_id} has no schedule {schedule_id}.")
        await self.reschedule(the_id)
        self.write_no_content()


class SchedulePreview(BaseModel):
    """What `GET /ui/schedules/preview` reads: a schedule in the API's shape and how many run times to list."""

    schedule: Schedule
    count: int = Field(default=5, ge=1, le=PREVIEW_MAX_COUNT)


class SchedulePreviewHandler(DeploymentApiHandler):
    """The next run times of a schedule not yet saved (the web UI's schedule form previews them): the schedule is
    the `schedule` query parameter, as JSON in the shape the schedules endpoints take; a bad one is a 422."""

    permission = "deployment:read"

    @endpoint("The next run times of a schedule", query={"schedule": "The schedule as JSON", "count": "How many"})
    async def get(self) -> None:
        text = self.get_query_argument("schedule", "")
        try:
            schedule = orjson.loads(text) if text else None
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed(
                "Invalid request received.",
                [{"loc": ["query", "schedule"], "msg": f"Not valid JSON: {exc}", "type": "json_invalid"}],
            ) from exc
        count = self.get_query_argument("count", "5")
        preview = self.validate(SchedulePreview, {"schedule": schedule, "count": count})
        times = run_times(preview.schedule, preview.count, dt.datetime.now(dt.UTC))
        self.write_json({"times": [moment.isoformat() for moment in times]})


routes = [
    (r"/ui/schedules/preview/?", SchedulePreviewHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/schedules/?", DeploymentSchedulesHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/schedules/(?P<schedule_id>[^/]+)/?", DeploymentScheduleHandler),
]
