"""`PageHandler`: renders a page inside the layout, and HTML error pages (statuses from `baton.errors.http_answer`)."""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
import uuid
from collections.abc import Mapping
from http.client import responses
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import tornado.escape
import tornado.web

from baton import __version__
from baton.errors import BatonError, NotAuthenticated, ObjectNotFound, PermissionDenied, ValidationFailed, http_answer
from baton.server.api.base import request_cookies
from baton.server.api.workspace_access import admit_to_workspace
from baton.server.auth.principal import ANONYMOUS, Principal
from baton.server.base_path import prefix_page_urls, with_base_path
from baton.server.browser_guard import page_headers
from baton.server.context import ServerContext
from baton.server.permissions import SIGNED_IN, PermissionSpec, route_permission
from baton.server.workspaces import WorkspaceReference, workspace_of
from baton.webui import formatting, workspace_scope
from baton.webui.navigation import NAVIGATION, NavigationEntry, static_url
from baton.webui.workspace_scope import WorkspaceChoice

logger = logging.getLogger("baton.webui")

#: Where a caller who has not signed in is sent.
LOGIN_PATH = "/login"

TEMPLATE_PATH = Path(__file__).parent / "templates"


class PageHandler(tornado.web.RequestHandler):
    """Base of every UI page. Pages read through the data layer directly; actions go through the JSON API."""

    context: ServerContext

    def initialize(self, context: ServerContext) -> None:
        self.context = context

    @property
    def database(self) -> Any:
        return self.context.database

    def get_template_path(self) -> str:
        return str(TEMPLATE_PATH)

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        for name, value in page_headers().items():
            self.set_header(name, value)

    #: The permission each HTTP method of the page needs (see baton.server.permissions); every page declares it.
    permission: ClassVar[PermissionSpec | None] = None
    #: Who is looking (set by `prepare`; anonymous with authentication off). In a workspace, with the role held there.
    principal: Principal = ANONYMOUS
    # The caller with their own role, when a workspace's role replaced it in `principal`.
    _account_principal: Principal | None = None
    #: The path this page's workspace is under (`/workspaces/{id}`; empty for the default workspace), once admitted.
    workspace_path: str = ""
    #: The workspaces the sidebar's switcher offers (set once the caller is admitted).
    workspace_choices: list[WorkspaceChoice] = []

    async def prepare(self) -> None:
        self.context.request_started()
        self._counted = True
        reference = workspace_of(self.request)
        if reference is not None and workspace_scope.is_global_path(self.request.path):
            raise ObjectNotFound(f"There is no page at {self.request.path} in a workspace.")
        if reference is None:
            await self.admit()
        else:
            await self.admit_to_workspace(reference)
        self.workspace_choices = await workspace_scope.switchable_workspaces(
            self.context.workspaces, self.account_principal, everyone=not self.context.access.enabled
        )

    @property
    def account_principal(self) -> Principal:
        """The caller with their own role: it decides the global pages and the workspaces they may switch to (in a
        workspace, `principal` holds the role given there)."""
        return self._account_principal or self.principal

    def shows_entry(self, entry: NavigationEntry) -> bool:
        """Whether the sidebar shows `entry`: a global page's by the caller's own role, others by the role held in
        the page's workspace."""
        who = self.account_principal if workspace_scope.is_global_path(entry.path) else self.principal
        return entry.visible_to(who)

    async def admit(self) -> None:
        """Find the caller and check the page's permission; a caller who has not signed in is sent to the sign-in
        page (GET) or answered 401."""
        self.principal = await self._admit_caller(route_permission(type(self), self.request.method or "GET"))

    async def admit_to_workspace(self, reference: WorkspaceReference) -> None:
        """Admit the caller to a page of the workspace `reference` names and bind the page's context to it: the
        not-found page, the same for both, when the workspace does not exist or the caller holds no role there."""
        self.principal = self._account_principal = account = await self._admit_caller(SIGNED_IN)

        async def admitted(_permission: str | None) -> Principal:
            return account

        permission = route_permission(type(self), self.request.method or "GET")
        try:
            self.context, self.principal = await admit_to_workspace(self.context, reference, permission, admitted)
        except PermissionDenied as denied:
            # The caller holds a role in the workspace (without one it is not found): the error page's links stay in it.
            self.workspace_path = workspace_scope.page_prefix(uuid.UUID(reference.workspace_id))
            if isinstance(denied.principal, Principal):
                self.principal = denied.principal
            raise
        self.workspace_path = workspace_scope.page_prefix(self.context.workspace_id)

    async def _admit_caller(self, permission: str | None) -> Principal:
        method = self.request.method or "GET"
        try:
            return await self.context.access.admit(
                method, permission, self.request.headers, request_cookies(self.request), host=self.request.host
            )
        except NotAuthenticated:
            if method not in ("GET", "HEAD"):
                raise
            reference = workspace_of(self.request)
            here = self.request.uri or "/"
            if reference is not None:
                here = workspace_scope.page_prefix(reference.workspace_id) + here
            self.redirect(LOGIN_PATH + "?" + urllib.parse.urlencode({"next": here}))
            raise tornado.web.Finish() from None
        except PermissionDenied as denied:
            # The error page shows the refused caller's sidebar (what they may open, who is signed in).
            if isinstance(denied.principal, Principal):
                self.principal = denied.principal
            raise

    def on_finish(self) -> None:
        if getattr(self, "_counted", False):
            self.context.request_finished()
            self._counted = False

    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        section = workspace_scope.section_path(self.request.path)
        namespace.update(
            navigation=NAVIGATION,
            shows_entry=self.shows_entry,
            current_path=self.request.path,
            static=static_url,
            version=__version__,
            principal=self.principal,
            auth_enabled=self.context.access.enabled,
            csrf_token=self.principal.csrf_token or "",
            disabled_unless=self.disabled_unless,
            now=dt.datetime.now(dt.UTC),
            server_base_path=self.context.settings.server_base_path,
            workspace_path=self.workspace_path,
            api_base=workspace_scope.api_base(self.context.workspace_id),
            workspace_choices=self.workspace_choices,
            current_workspace=self.context.workspace_id,
            switch_section=section,
            switcher_entries=workspace_scope.switcher_entries(self.workspace_choices, self.context.workspace_id),
            switch_page_url=workspace_scope.switch_page_url(section),
            global_api_segments=" ".join(sorted(workspace_scope.GLOBAL_API_SEGMENTS)),
            global_page_segments=" ".join(sorted(workspace_scope.GLOBAL_PAGE_SEGMENTS)),
            **formatting.TEMPLATE_FUNCTIONS,
        )
        return namespace

    # --- addresses under BATON_SERVER_BASE_PATH (baton.server.base_path) -----------------------------------------

    def redirect(self, url: str, permanent: bool = False, status: int | None = None) -> None:
        """Redirect to `url`, an application path (`/runs`) or a full URL; the page's workspace (for a workspace's
        page) and the server's sub-path are added."""
        url = workspace_scope.in_workspace(self.workspace_path, url)
        super().redirect(with_base_path(self.context.settings.server_base_path, url), permanent, status)

    def page_urls(self, html: str) -> str:
        """`html` (a page or a fragment of one) with its links in the page's workspace and under the sub-path."""
        html = workspace_scope.prefix_workspace_urls(self.workspace_path, html)
        return prefix_page_urls(self.context.settings.server_base_path, html)

    @property
    def cookie_path(self) -> str:
        """The Path of the cookies the UI sets: the server's sub-path, or /."""
        return self.context.settings.server_base_path or "/"

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> Any:
        """Finish the response; a page's links, sources and form targets get the server's sub-path."""
        rewritten = self.context.settings.server_base_path or self.workspace_path
        is_page = self._headers.get("Content-Type", "").startswith("text/html")
        if rewritten and is_page and isinstance(chunk, str | bytes):
            chunk = self.page_urls(tornado.escape.to_unicode(chunk))
        return super().finish(chunk)

    def disabled_unless(self, permission: str) -> str:
        """Attributes for a control the caller may not use: `disabled` with a title that names the missing
        permission (empty when the caller has it). Templates write it with {% raw %}."""
        if self.principal.may(permission):
            return ""
        reason = f"Your role {self.principal.role!r} does not allow this (it needs the permission {permission!r})."
        return f' disabled aria-disabled="true" title="{tornado.escape.xhtml_escape(reason)}"'

    def render_page(self, template: str, *, title: str, **values: Any) -> None:
        """Render `template` (which extends layout.html); `title` becomes the page's <title> and heading."""
        self.render(template, title=title, **values)

    # --- input -------------------------------------------------------------------------------------------------

    def path_uuid(self, value: str, what: str) -> uuid.UUID:
        """A UUID from the URL; anything else is the not-found page, since no such object can exist."""
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise ObjectNotFound(f"There is no {what} with the id {value!r}.") from exc

    def query_int(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise ValidationFailed(f"The {name!r} parameter must be a whole number, not {raw!r}.") from exc
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            raise ValidationFailed(f"The {name!r} parameter must be between {minimum}{upper}.")
        return value

    # --- errors ------------------------------------------------------------------------------------------------

    def log_exception(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Baton's own errors are answered on purpose, not logged as crashes; a 5xx answer to one is a warning."""
        if isinstance(value, BatonError):
            answer = http_answer(value)
            if answer.page_status >= 500:
                logger.warning(
                    "%s %s answered %d: %s", self.request.method, self.request.path, answer.page_status, value.message
                )
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """An HTML error page: a Baton error's status, title, message and headers (`baton.errors.http_answer`), or
        the HTTP reason and, for a crash, a pointer to the log."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, BatonError):
            answer = http_answer(error)
            self._write_error_page(answer.page_status, answer.title, answer.message, answer.headers)
            return
        reason = kwargs.get("reason")
        if isinstance(error, tornado.web.HTTPError) and error.reason:
            reason = error.reason
        heading = reason or responses.get(status_code, "Unknown")
        if status_code >= 500:
            message = "Something went wrong on the server; its log has the details."
        else:
            message = heading
        self._write_error_page(status_code, heading, message)

    def _write_error_page(
        self, status: int, heading: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.clear()
        self.set_status(status)
        for name, value in (headers or {}).items():
            self.set_header(name, value)
        try:
            self.render("error.html", title=heading, status=status, message=message)
        except Exception:  # the layout itself failed: fall back to a page that cannot
            logger.exception("The error page could not be rendered")
            self.finish(f"<!doctype html><title>{status}</title><p>{tornado.escape.xhtml_escape(message)}</p>")


class NotFoundPageHandler(PageHandler):
    """Any UI path that no route matches."""

    permission = SIGNED_IN

    async def prepare(self) -> None:
        await super().prepare()
        raise ObjectNotFound(f"There is no page at {self.request.path}.")
