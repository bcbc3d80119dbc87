"""Single sign-on pages: `/login/sso` sends the browser to the identity provider, `/login/sso/callback` takes it
back, checks who signed in and starts a Baton session. Both are open routes (the person has no credential yet); the
callback only finishes a sign-in this browser started (the sealed `baton_sso` cookie holds its state). Every SSO
sign-in and every refusal is audited (`auth.sso_sign_in`)."""

from __future__ import annotations

from typing import Any

from baton.errors import BadRequest, BatonError, ObjectNotFound, http_answer
from baton.server.auth.principal import ANONYMOUS
from baton.server.auth.sso.flow import FLOW_COOKIE, FLOW_SECONDS
from baton.server.auth.sso.refusal import SsoRefused
from baton.server.auth.sso.users import SsoIdentity, sign_in_sso_user
from baton.server.auth.sso.workspace_roles import audit_workspace_roles
from baton.webui.pages.sign_in import (
    OpenPageHandler,
    account_principal,
    is_https,
    local_next,
    render_sign_in_page,
    set_private_cookie,
    start_browser_session,
)

CALLBACK_PATH = "/login/sso/callback"
#: Most groups written to an audit entry (some providers send hundreds).
MAX_AUDITED_GROUPS = 50


class SsoPageHandler(OpenPageHandler):
    """Open like the sign-in page (a stale credential makes the visitor anonymous)."""

    def sso_or_404(self) -> Any:
        sso = self.context.sso
        if sso is None or not self.context.access.enabled:
            raise ObjectNotFound("Single sign-on is not configured on this server.")
        return sso

    def redirect_uri(self) -> str:
        """The callback's address as registered with the provider: under BATON_UI_URL when it is set, else as
        this request reached the server."""
        ui_url = self.context.settings.ui_url
        if ui_url:
            return ui_url.rstrip("/") + CALLBACK_PATH
        scheme = "https" if is_https(self) else self.request.protocol
        return f"{scheme}://{self.request.host}{self.context.settings.server_base_path}{CALLBACK_PATH}"


class SsoStartHandler(SsoPageHandler):
    async def get(self) -> None:
        sso = self.sso_or_404()
        url, sealed = await sso.begin(local_next(self.get_query_argument("next", None)), self.redirect_uri())
        set_private_cookie(self, FLOW_COOKIE, sealed, max_age=FLOW_SECONDS)
        # The provider's address, not one of this server's pages: no base path in front of it.
        self.set_status(302)
        self.set_header("Location", url)
        self.finish()


class SsoCallbackHandler(SsoPageHandler):
    async def get(self) -> None:
        sso = self.sso_or_404()
        cookie = self.get_cookie(FLOW_COOKIE)
        self.clear_cookie(FLOW_COOKIE, path=self.cookie_path)
        person: SsoIdentity | None = None
        try:
            error = self.get_query_argument("error", None)
            if error:
                # Whether or not this browser started it, an error answer signs nobody in: say what the provider said.
                described = (self.get_query_argument("error_description", None) or error)[:300]
                raise SsoRefused(f"provider: {error}"[:100], f"The identity provider did not sign you in: {described}")
            pending = await sso.pending(cookie, self.get_query_argument("state", None))
            code = self.get_query_argument("code", None)
            if not code:
                raise BadRequest("The identity provider sent no authorization code back.")
            person = await sso.identify(pending, code, self.redirect_uri())
            role = sso.role_for(person)
            async with self.database.write() as connection:
                user = await sign_in_sso_user(connection, person, role, sso.settings.auth_oidc_role_rules)
                session = await start_browser_session(self, connection, user.account)
        except BatonError as refused:
            self._refuse(refused, person)
            return
        if user.previous_role not in (None, user.account["role"]):
            # The groups took a role away: this process's cached credentials of the user must not outlive it.
            self.context.access.forget()
        if user.workspaces.changes:
            self.context.workspaces.forget()
        account = user.account
        self.context.audit_log.record(
            account_principal(account),
            "auth.sso_sign_in",
            outcome="success",
            status_code=302,
            resource_kind="user",
            resource_id=str(account["id"]),
            resource_name=account["name"],
            address=self.request.remote_ip,
            detail={
                "session_id": str(session["id"]),
                "issuer": person.issuer,
                "subject": person.subject,
                "groups": list(person.groups[:MAX_AUDITED_GROUPS]),
                "role": account["role"],
                "previous_role": user.previous_role,
                "created": user.created,
                "workspace_roles": [change.as_detail() for change in user.workspaces.changes],
                "skipped_workspace_rules": user.workspaces.skipped,
            },
        )
        audit_workspace_roles(
            self.context.audit_log, account_principal(account), user.workspaces.changes, self.request.remote_ip
        )
        self.redirect(pending.next_path)

    def _refuse(self, refused: BatonError, person: SsoIdentity | None) -> None:
        """The sign-in page with the reason, audited as a failed `auth.sso_sign_in`."""
        answer = http_answer(refused)
        status = refused.status if isinstance(refused, SsoRefused) else answer.page_status
        reason = getattr(refused, "reason", None) or answer.title.lower()
        detail: dict[str, Any] = {"reason": reason, "message": refused.message}
        if person is not None:
            detail.update(issuer=person.issuer, subject=person.subject, groups=list(person.groups[:MAX_AUDITED_GROUPS]))
        self.context.audit_log.record(
            ANONYMOUS,
            "auth.sso_sign_in",
            outcome="failure",
            status_code=status,
            resource_kind="user",
            resource_name=person.name if person else None,
            address=self.request.remote_ip,
            detail=detail,
            actor_name=person.name if person else "(single sign-on)",
        )
        self.set_status(status)
        if "Retry-After" in answer.headers:
            self.set_header("Retry-After", answer.headers["Retry-After"])
        render_sign_in_page(self, "/", error=refused.message)


routes = [
    (r"/login/sso/?", SsoStartHandler),
    (r"/login/sso/callback/?", SsoCallbackHandler),
]
