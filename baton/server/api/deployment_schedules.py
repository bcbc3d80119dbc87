"""`/deployments/{id}/schedules`: list, add, change and remove a deployment's schedules. A change replaces the
deployment's future auto-scheduled runs, which the scheduler then makes again at once."""

from __future__ import annotations

from pydantic import RootModel

from baton.errors import ObjectNotFound
from baton.server.api.deployments import DeploymentApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.deployments import deployment_runs, deployment_schedules, deployments
from baton.server.schemas.deployments import DeploymentSchedule, DeploymentScheduleCreate, DeploymentScheduleUpdate


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


routes = [
    (r"/deployments/(?P<deployment_id>[^/]+)/schedules/?", DeploymentSchedulesHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/schedules/(?P<schedule_id>[^/]+)/?", DeploymentScheduleHandler),
]
