"""The Deployments page (every deployment with its schedules in words) and a deployment's page: its details and
schedules, upcoming and past runs, and a "Run" form made from its parameter schema; and the "New deployment" form
(written through the JSON API from deployments.js)."""

from __future__ import annotations

from baton.errors import ObjectNotFound, ValidationFailed
from baton.server.models.automations import automations
from baton.server.models.automations.automations import DEPLOYMENT_RESOURCE_PREFIX
from baton.server.models.deployments import deployments
from baton.server.models.runs import flows
from baton.server.models.views import deployment_pages, run_pages
from baton.server.models.views.run_pages import Cursor
from baton.webui import run_listing
from baton.webui.automation_text import describe_trigger
from baton.webui.base import PageHandler
from baton.webui.parameter_form import parameter_fields
from baton.webui.schedule_text import describe_schedule

UPCOMING_RUNS = 10
# The schedule form's time zone suggestions; any IANA zone may be typed (the API checks it).
COMMON_TIME_ZONES = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


class DeploymentsPageHandler(PageHandler):
    permission = "deployment:read"

    async def get(self) -> None:
        name = (self.get_query_argument("name", "") or "").strip() or None
        limit = self.query_int("limit", run_listing.DEFAULT_LIMIT, minimum=1, maximum=run_listing.MAX_LIMIT)
        after, before = self._cursor("after"), self._cursor("before")
        if after and before:
            raise ValidationFailed("A page is either after or before a deployment, not both.")
        async with self.database.read() as connection:
            page = await deployment_pages.read_deployment_page(connection, name, limit, after=after, before=before)
        self.render_page(
            "deployments.html",
            title="Deployments",
            page=page,
            name=name or "",
            limit=limit,
            describe_schedule=describe_schedule,
            encode_cursor=run_listing.encode_cursor,
        )

    def _cursor(self, argument: str) -> Cursor | None:
        token = self.get_query_argument(argument, "")
        # Deployments are paged by name, a text key like the run name sorts'.
        return run_listing.decode_cursor(token, run_pages.RunSort.NAME_ASC) if token else None


class DeploymentPageHandler(PageHandler):
    permission = "deployment:read"

    async def get(self, deployment_id: str) -> None:
        the_id = self.path_uuid(deployment_id, "deployment")
        listing = run_listing.parse_run_listing(self.get_query_arguments)
        async with self.database.read() as connection:
            deployment = await deployments.read_deployment(connection, the_id)
            if deployment is None:
                raise ObjectNotFound(f"There is no deployment with the id {deployment_id}.")
            flow_name = await deployment_pages.read_flow_name(connection, deployment["flow_id"])
            upcoming = await deployment_pages.read_upcoming_runs(connection, the_id, UPCOMING_RUNS)
            # Unless a state is asked for, the runs waiting to start are left to the upcoming runs.
            query = listing.query(deployment_id=the_id, past_only=True)
            past, matching = await run_pages.read_run_list(connection, query, run_listing.COUNT_CAP)
            related = (
                await automations.read_automations_related_to(connection, f"{DEPLOYMENT_RESOURCE_PREFIX}{the_id}")
                if self.principal.may("automation:read")
                else []
            )
        self.render_page(
            "deployment.html",
            title=deployment["name"],
            deployment=deployment,
            flow_name=flow_name,
            upcoming=upcoming,
            upcoming_limit=UPCOMING_RUNS,
            fields=parameter_fields(deployment["parameter_openapi_schema"], deployment["parameters"]),
            describe_schedule=describe_schedule,
            time_zones=COMMON_TIME_ZONES,
            listing=listing,
            result=run_listing.RunListingResult(past, matching),
            base_path=f"/deployments/{the_id}",
            show_flow=False,
            related_automations=related,
            describe_trigger=describe_trigger,
            **run_listing.TEMPLATE_VALUES,
        )


class NewDeploymentPageHandler(PageHandler):
    """The form that creates a deployment; with ?flow=<id>, of that flow, with parameter fields from the schema of
    the flow's latest deployment that has one."""

    permission = "deployment:write"

    async def get(self) -> None:
        flow_arg = self.get_query_argument("flow", "").strip()
        flow_id = self.path_uuid(flow_arg, "flow") if flow_arg else None
        async with self.database.read() as connection:
            flow = await flows.read_flow(connection, flow_id) if flow_id else None
            if flow_id and flow is None:
                raise ObjectNotFound(f"There is no flow with the id {flow_arg}.")
            choices = await deployment_pages.read_flow_choices(connection)
            pools = await deployment_pages.read_work_pool_names(connection)
            schema = await deployment_pages.read_latest_parameter_schema(connection, flow_id) if flow_id else None
        self.render_page(
            "deployment_new.html",
            title="New deployment",
            flow=flow,
            flow_choices=_with_flow(choices, flow),
            pools=pools,
            schema=schema,
            fields=parameter_fields(schema, None),
        )


def _with_flow(choices: list[dict[str, object]], flow: dict[str, object] | None) -> list[dict[str, object]]:
    """The flow choices, with the chosen flow among them even when it is past the list's limit."""
    if flow is None or any(choice["id"] == flow["id"] for choice in choices):
        return choices
    return [{"id": flow["id"], "name": flow["name"]}, *choices]


class DeploymentRedirectHandler(PageHandler):
    """/deployments/deployment/<id> (the Prefect UI's address, which other pages link to) is the deployment's page."""

    permission = "deployment:read"

    def get(self, deployment_id: str) -> None:
        self.redirect(f"/deployments/{self.path_uuid(deployment_id, 'deployment')}")


routes = [
    (r"/deployments/?", DeploymentsPageHandler),
    (r"/deployments/new/?", NewDeploymentPageHandler),
    (r"/deployments/deployment/(?P<deployment_id>[^/]+)/?", DeploymentRedirectHandler),
    (r"/deployments/(?P<deployment_id>[^/]+)/?", DeploymentPageHandler),
]
