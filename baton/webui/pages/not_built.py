"""Pages whose feature has an API but no UI yet: they say so and point to the API reference and CLI."""

from __future__ import annotations

from dataclasses import dataclass

from baton.webui.base import PageHandler


@dataclass(frozen=True)
class NotBuiltPage:
    path: str
    title: str
    summary: str
    docs_anchor: str
    cli: str | None = None


NOT_BUILT_PAGES: list[NotBuiltPage] = [
    NotBuiltPage("/", "Dashboard", "The dashboard shows recent flow-run activity.", "flow-runs"),
    NotBuiltPage("/runs", "Runs", "Flow runs and their states.", "flow-runs"),
    NotBuiltPage("/flows", "Flows", "Flows and their runs.", "flows"),
    NotBuiltPage("/blocks", "Blocks", "Blocks hold stored configuration.", "blocks", "baton block ls"),
    NotBuiltPage("/variables", "Variables", "Variables are named JSON values.", "variables", "baton variable ls"),
    NotBuiltPage("/artifacts", "Artifacts", "Artifacts are what runs publish.", "artifacts", "baton artifact ls"),
    NotBuiltPage("/concurrency", "Concurrency", "Concurrency limits.", "concurrency", "baton concurrency-limit ls"),
    NotBuiltPage("/notifications", "Notifications", "Notification policies.", "notifications"),
    NotBuiltPage("/deployments", "Deployments", "Deployments say what to run and when.", "deployments"),
    NotBuiltPage("/work-pools", "Work Pools", "Work pools hand scheduled runs to workers.", "work-pools"),
    NotBuiltPage(
        "/events",
        "Events",
        "Events record what happened to every run, flow and deployment.",
        "events",
    ),
]


class NotBuiltPageHandler(PageHandler):
    def initialize(self, context: object, page: NotBuiltPage) -> None:  # type: ignore[override]
        super().initialize(context)  # type: ignore[arg-type]
        self.page = page

    def get(self) -> None:
        page = self.page
        self.render_page(
            "not_built.html", title=page.title, summary=page.summary, docs_anchor=page.docs_anchor, cli=page.cli
        )


routes = [(page.path.rstrip("/") + "/?", NotBuiltPageHandler, {"page": page}) for page in NOT_BUILT_PAGES]
