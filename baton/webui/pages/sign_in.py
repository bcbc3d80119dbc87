"""Signing in and out of the web UI: a name and password form that starts a session (the `baton_session` cookie),
and sign-out, which ends it. Both are audited (`auth.sign_in`, `auth.sign_out`)."""

from __future__ import annotations

import hmac
import urllib.parse
from typing import Any

import tornado.web

from baton.errors import NotAuthenticated, PermissionDenied, TooManyAttempts
from baton.server.api.base import request_cookies
from baton.server.auth import identity
from baton.server.auth.access import CSRF_HEADER, SESSION_COOKIE
from baton.server.auth.principal import ANONYMOUS, Principal
from baton.server.models.identity import sessions
from baton.server.permissions import PUBLIC, SIGNED_IN
from baton.webui.base import LOGIN_PATH, PageHandler

#: The form field that carries the page's CSRF token in a plain form post (sign-out).
CSRF_FIELD = "csrf_token"
MAX_FIELD_CHARS = 1024
PASSWORDS_OFF = "Password sign-in is turned off on this server; use single sign-on."


def local_next(value: str | None) -> str:
    """`value` if it is a path on this server ("/..." but not "//host" or "/\\host"), else "/": the sign-in page
    never sends a browser to another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme or parsed.netloc or any(ch in value for ch in "\r\n\t\\"):
        return "/"
    return value


def is_https(handler: tornado.web.RequestHandler) -> bool:
    forwarded = handler.request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return handler.request.protocol == "https" or forwarded == "https"


def same_origin(handler: tornado.web.RequestHandler) -> bool:
    """False only when the request names an Origin and it is not this server (a cross-site form post)."""
    origin = handler.request.headers.get("Origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == handler.request.host


class OpenPageHandler(PageHandler):
    """A page for visitors who have not signed in (sign-in, single sign-on)."""

    permission = PUBLIC

    async def admit(self) -> None:
        # A stale or revoked credential makes the visitor anonymous here, instead of sending the page to itself.
        try:
            self.principal = await self.context.access.admit(
                self.request.method or "GET",
                PUBLIC,
                self.request.headers,
                request_cookies(self.request),
                host=self.request.host,
            )
        except NotAuthenticated:
            self.principal = ANONYMOUS
            self.clear_cookie(SESSION_COOKIE, path=self.cookie_path)


class SignInPageHandler(OpenPageHandler):
    def get(self) -> None:
        next_path = local_next(self.get_query_argument("next", None))
        if not self.context.access.enabled or self.principal.via == "session":
            self.redirect(next_path)
            return
        self._form(next_path)

    def _form(self, next_path: str, *, name: str = "", error: str | None = None) -> None:
        render_sign_in_page(self, next_path, name=name, error=error)

    async def post(self) -> None:
        next_path = local_next(self.get_body_argument("next", None))
        if not self.context.access.enabled:
            self.redirect(next_path)
            return
        if not same_origin(self):
            raise PermissionDenied("A sign-in must come from this server's own sign-in page.")
        name = self.get_body_argument("name", "")[:MAX_FIELD_CHARS].strip()
        password = self.get_body_argument("password", "")[:MAX_FIELD_CHARS]
        address = self.request.remote_ip
        if not name or not password:
            # Nothing was tried: no failure to count or audit.
            self._form(next_path, name=name, error="Enter your user name and password.")
            return
        settings = self.context.settings
        break_glass = not settings.auth_local_passwords
        if break_glass and name not in settings.auth_break_glass_users:
            self._audit_failure(name, 403, "local passwords off")
            self.set_status(403)
            self._form(next_path, name=name, error=PASSWORDS_OFF)
            return
        try:
            async with self.database.read() as connection:
                account = await self.context.sign_in_guard.check_password(connection, name, password, address)
        except TooManyAttempts as refused:
            self._audit_failure(name, 429, "too many attempts")
            self.set_status(429)
            self.set_header("Retry-After", str(refused.retry_after_seconds))
            self._form(next_path, name=name, error=refused.message)
            return
        except NotAuthenticated as refused:
            self._audit_failure(name, 401, "bad credentials")
            self.set_status(401)
            self._form(next_path, name=name, error=refused.message)
            return
        async with self.database.write() as connection:
            session = await start_browser_session(self, connection, account)
        self.context.audit_log.record(
            account_principal(account),
            "auth.break_glass_sign_in" if break_glass else "auth.sign_in",
            outcome="success",
            status_code=302,
            resource_kind="user",
            resource_id=str(account["id"]),
            resource_name=account["name"],
            address=address,
            detail={"session_id": str(session["id"])},
        )
        self.redirect(next_path)

    def _audit_failure(self, name: str, status: int, reason: str) -> None:
        self.context.audit_log.record(
            ANONYMOUS,
            "auth.sign_in",
            outcome="failure",
            status_code=status,
            resource_kind="user",
            resource_name=name or None,
            address=self.request.remote_ip,
            detail={"reason": reason},
            actor_name=name or "(no name)",
        )


class SignOutHandler(PageHandler):
    """POST only, with the page's CSRF token (form field or header): a link elsewhere cannot sign anyone out. Without
    any credential it is a 401 like every other route that is not open."""

    permission = SIGNED_IN

    async def admit(self) -> None:
        # The session's CSRF token may come as a form field, which AccessControl does not read: check it here.
        if not self.context.access.enabled:
            self.principal = ANONYMOUS
            return
        cookies = request_cookies(self.request)
        try:
            principal = await self.context.access.identify(self.request.headers, cookies, required=True)
        except NotAuthenticated:
            if SESSION_COOKIE not in cookies or "Authorization" in self.request.headers:
                raise
            # The session has ended already (expired, revoked): sign-out only forgets the cookie.
            self.principal = ANONYMOUS
            return
        assert principal is not None
        if principal.via != "session":
            # An API key or Basic credentials have no session to end.
            self.principal = principal
            return
        token = self.get_body_argument(CSRF_FIELD, None) or self.request.headers.get(CSRF_HEADER) or ""
        if not principal.csrf_token or not hmac.compare_digest(token.encode(), principal.csrf_token.encode()):
            raise PermissionDenied("Sign-out needs the page's CSRF token; reload the page and try again.")
        self.principal = principal

    async def post(self) -> None:
        principal = self.principal
        if principal.via == "session" and principal.id is not None:
            async with self.database.write() as connection:
                await sessions.revoke_sessions(connection, principal.id, principal.session_id)
            self.context.access.forget()
            self.context.audit_log.record(
                principal,
                "auth.sign_out",
                outcome="success",
                status_code=302,
                resource_kind="user",
                resource_id=str(principal.id),
                resource_name=principal.name,
                address=self.request.remote_ip,
            )
        self.clear_cookie(SESSION_COOKIE, path=self.cookie_path)
        self.redirect(LOGIN_PATH if self.context.access.enabled else "/")


def render_sign_in_page(handler: PageHandler, next_path: str, *, name: str = "", error: str | None = None) -> None:
    """The sign-in page: the single sign-on button when it is configured, and the password form (folded away as
    the break-glass sign-in when local passwords are off)."""
    settings = handler.context.settings
    handler.render_page(
        "sign_in.html",
        title="Sign in",
        next_path=next_path,
        name=name,
        error=error,
        sso_name=settings.auth_oidc_provider_name if handler.context.sso is not None else None,
        passwords_on=settings.auth_local_passwords,
    )


async def start_browser_session(handler: PageHandler, connection: Any, account: dict[str, Any]) -> dict[str, Any]:
    """A new session for `account` (who has just proved who they are), its token set as the `baton_session` cookie;
    returns the session's row."""
    hours = handler.context.settings.auth_session_hours
    session, token = await identity.start_session(connection, account, hours=hours, address=handler.request.remote_ip)
    set_private_cookie(handler, SESSION_COOKIE, token, max_age=int(hours * 3600))
    return session


def set_private_cookie(handler: PageHandler, name: str, value: str, *, max_age: int) -> None:
    """A cookie scripts cannot read (HttpOnly), sent back on top-level navigations from other sites (SameSite=Lax,
    as the way back from an identity provider is), and Secure under https."""
    handler.set_cookie(
        name, value, path=handler.cookie_path, httponly=True, samesite="Lax", secure=is_https(handler), max_age=max_age
    )


def account_principal(account: dict[str, Any]) -> Principal:
    """The signed-in user as the audit log names them (their permissions do not matter there)."""
    return Principal(
        kind=account["kind"], name=account["name"], role=account["role"], permissions=frozenset(), id=account["id"]
    )


routes = [
    (r"/login/?", SignInPageHandler),
    (r"/logout/?", SignOutHandler),
]
