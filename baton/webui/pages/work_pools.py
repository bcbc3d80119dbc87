"""The Work Pools page (each pool's status, limit, queues and online workers), a pool's page with its queues and
workers, and the forms that create and edit a pool (they write through the JSON API from work_pool_form.js)."""

from __future__ import annotations

from baton.server.models.views import deployment_pages
from baton.server.models.work_pools import work_pools, workers
from baton.webui.base import PageHandler

# A pool's page lists at most this many workers, the most recent heartbeat first.
MAX_WORKERS = 200


class WorkPoolsPageHandler(PageHandler):
    permission = "work_pool:read"

    async def get(self) -> None:
        async with self.database.read() as connection:
            pools = await deployment_pages.read_work_pool_summaries(connection)
        self.render_page("work_pools.html", title="Work Pools", pools=pools, max_pools=deployment_pages.MAX_POOLS)


class WorkPoolPageHandler(PageHandler):
    permission = "work_pool:read"

    async def get(self, name: str) -> None:
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
            queues = await deployment_pages.read_pool_queues(connection, pool["id"])
            pool_workers = await workers.filter_workers(connection, pool["id"], None, MAX_WORKERS, 0)
            deployment_counts = await deployment_pages.count_pool_deployments(connection, pool["id"])
        self.render_page(
            "work_pool.html",
            title=pool["name"],
            pool=pool,
            queues=queues,
            workers=pool_workers,
            deployment_counts=deployment_counts,
        )


class NewWorkPoolPageHandler(PageHandler):
    permission = "work_pool:write"

    def get(self) -> None:
        self.render_page("work_pool_form.html", title="New work pool", pool=None)


class EditWorkPoolPageHandler(PageHandler):
    permission = "work_pool:write"

    async def get(self, name: str) -> None:
        async with self.database.read() as connection:
            pool = await work_pools.read_work_pool_or_404(connection, name)
        self.render_page("work_pool_form.html", title=f"Edit {pool['name']}", pool=pool)


routes = [
    (r"/work-pools/?", WorkPoolsPageHandler),
    (r"/work-pools/new/?", NewWorkPoolPageHandler),
    (r"/work-pools/(?P<name>[^/]+)/edit/?", EditWorkPoolPageHandler),
    (r"/work-pools/(?P<name>[^/]+)/?", WorkPoolPageHandler),
]
