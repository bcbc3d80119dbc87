"""Single sign-on against a real OIDC provider on loopback (oidc-provider-mock, in a thread of the test): sign in
through Chromium, users made on first sign-in with the role their groups give, a group change applied at the next
sign-in, a refused or forged callback, sign-out, and password sign-in turned off but for the break-glass user. Every
sign-in and refusal is looked up in the audit log. (Tokens with a wrong audience, issuer, nonce or signature are
crafted in tests/server/auth/sso/test_id_token.py.)"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from tests.databases import TemplateDatabases
from tests.webui.auth_server import USERS, admin_headers, auth_ui_server
from tests.webui.conftest import UiServer

CLIENT_ID = "baton-ui"
PROVIDER_NAME = "Acme ID"
RULES = [
    {"group": "baton-admins", "role": "admin"},
    {"group": "data", "role": "developer"},
    {"group": "everyone", "role": "viewer"},
    {"group": "data", "role": "operator", "workspace": "analytics"},
]
# The provider's own authlib server warns of its deprecated calls in its thread (warnings are errors in the suite).
pytestmark = [
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning"),
]
#: The provider's pages link a stylesheet on a CDN; the browser gets an empty one instead (no internet in tests).
CDN = "https://cdn.jsdelivr.net/**"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The provider's issuer URL; it refuses an authorization request without a nonce."""
    with run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def ui_server(
    provider: str,
    ui_database: str,
    template_databases: TemplateDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[UiServer]:
    url = template_databases.clone(ui_database, tmp_path_factory.mktemp("ui-db"))
    try:
        yield from auth_ui_server(
            tmp_path_factory.mktemp("ui-home"),
            url,
            BATON_AUTH_OIDC_ISSUER=provider,
            BATON_AUTH_OIDC_CLIENT_ID=CLIENT_ID,
            BATON_AUTH_OIDC_CLIENT_SECRET="client-secret-of-baton",
            BATON_AUTH_OIDC_PROVIDER_NAME=PROVIDER_NAME,
            BATON_AUTH_OIDC_ROLE_RULES=json.dumps(RULES),
            BATON_AUTH_LOCAL_PASSWORDS="false",
            BATON_AUTH_BREAK_GLASS_USERS="alice",
        )
    finally:
        template_databases.drop(url)


def _person(provider: str, sub: str, name: str, groups: list[str]) -> None:
    """What the provider says of `sub` from now on."""
    claims = {"preferred_username": name, "email": f"{name}@acme.test", "groups": groups}
    assert httpx.put(f"{provider}/users/{sub}", json=claims).status_code == 204


def _sso_sign_in(page: Any, server: UiServer, provider: str, sub: str, next_path: str = "/") -> None:
    page.route(CDN, lambda route: route.fulfill(status=200, content_type="text/css", body=""))
    page.goto(f"{server.url}/login?next={urllib.parse.quote(next_path)}")
    page.click("#sign-in-sso")
    page.wait_for_url(re.compile(re.escape(provider) + "/oauth2/authorize"))
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")


def _user(name: str, server: UiServer) -> dict[str, Any]:
    users = httpx.post(server.api_url + "/users/filter", json={"name_like": name}, headers=admin_headers()).json()
    return next(user for user in users if user["name"] == name)


def _audit(server: UiServer, count: int, **condition: str) -> list[dict[str, Any]]:
    """The newest audit entries matching `condition`, once there are `count` (entries are written in batches)."""
    deadline = time.monotonic() + 10
    while True:
        entries = httpx.post(server.api_url + "/audit/filter", json=condition, headers=admin_headers()).json()
        if len(entries) >= count or time.monotonic() > deadline:
            return list(entries)
        time.sleep(0.05)


def _session_cookie(page: Any) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == "baton_session"), None)


def test_signing_in_with_the_provider_makes_the_user_with_the_role_of_their_groups(
    page: Any, ui_server: UiServer, provider: str
) -> None:
    _person(provider, "sub-carol", "carol", ["everyone", "baton-admins"])
    page.goto(ui_server.url + "/variables")
    page.wait_for_url(re.compile(r"/login\?next=%2Fvariables$"))
    assert page.inner_text("#sign-in-sso") == f"Sign in with {PROVIDER_NAME}"
    assert not page.is_visible("#sign-in-password")  # local passwords are off: folded into the break-glass section

    _sso_sign_in(page, ui_server, provider, "sub-carol", "/variables")
    page.wait_for_url(ui_server.url + "/variables")
    assert page.inner_text("#signed-in-name") == "carol"
    assert page.inner_text("#signed-in-role") == "admin"
    carol = _user("carol", ui_server)
    assert (carol["role"], carol["email"], carol["sso_issuer"]) == ("admin", "carol@acme.test", provider)
    [entry] = _audit(ui_server, 1, actor_name="carol", action="auth.sso_sign_in")
    assert (entry["outcome"], entry["detail"]["created"], entry["detail"]["subject"]) == ("success", True, "sub-carol")

    # Sign-out ends the Baton session on the server.
    token = _session_cookie(page)
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/login$"))
    assert httpx.get(ui_server.api_url + "/me", cookies={"baton_session": token or ""}).status_code == 401


def test_a_group_change_takes_effect_at_the_next_sign_in(page: Any, ui_server: UiServer, provider: str) -> None:
    _person(provider, "sub-dave", "dave", ["everyone", "data"])
    _sso_sign_in(page, ui_server, provider, "sub-dave")
    page.wait_for_url(ui_server.url + "/")
    assert page.inner_text("#signed-in-role") == "developer"  # the first matching rule for the default workspace
    dave_id = _user("dave", ui_server)["id"]

    _person(provider, "sub-dave", "dave", ["everyone"])  # removed from "data"
    page.context.clear_cookies()
    _sso_sign_in(page, ui_server, provider, "sub-dave")
    page.wait_for_url(ui_server.url + "/")
    assert page.inner_text("#signed-in-role") == "viewer"
    dave = _user("dave", ui_server)
    assert (dave["id"], dave["role"]) == (dave_id, "viewer")  # the same user, linked by issuer and subject
    newest = _audit(ui_server, 2, actor_name="dave", action="auth.sso_sign_in")[0]
    assert (newest["detail"]["previous_role"], newest["detail"]["role"]) == ("developer", "viewer")

    _person(provider, "sub-dave", "dave", ["contractors"])  # no rule gives a role, and there is no default role
    page.context.clear_cookies()
    _sso_sign_in(page, ui_server, provider, "sub-dave")
    page.wait_for_url(re.compile(r"/login/sso/callback\?"))
    assert "None of your groups gives you a role" in page.inner_text("#sign-in-error")
    page.browser_errors.expect("status of 403")
    assert _session_cookie(page) is None
    refused = _audit(ui_server, 1, actor_name="dave", action="auth.sso_sign_in", outcome="failure")[0]
    assert (refused["status_code"], refused["detail"]["reason"]) == (403, "no role")


def test_a_sign_in_the_person_denies_at_the_provider_is_refused(page: Any, ui_server: UiServer, provider: str) -> None:
    page.route(CDN, lambda route: route.fulfill(status=200, content_type="text/css", body=""))
    page.goto(ui_server.url + "/login")
    page.click("#sign-in-sso")
    page.wait_for_url(re.compile(re.escape(provider)))
    page.click("button:has-text('Deny')")
    page.wait_for_url(re.compile(r"/login/sso/callback\?.*error=access_denied"))
    assert "The identity provider did not sign you in" in page.inner_text("#sign-in-error")
    page.browser_errors.expect("status of 401")
    entries = _audit(ui_server, 1, action="auth.sso_sign_in", outcome="failure", actor_name="(single sign-on)")
    assert any(entry["detail"]["reason"] == "provider: access_denied" for entry in entries)


def test_the_start_sends_pkce_and_a_nonce_and_the_callback_refuses_a_state_it_did_not_issue(
    ui_server: UiServer, provider: str
) -> None:
    start = httpx.get(ui_server.url + "/login/sso", params={"next": "//evil.example/"}, follow_redirects=False)
    assert start.status_code == 302
    location = urllib.parse.urlsplit(start.headers["location"])
    query = dict(urllib.parse.parse_qsl(location.query))
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider}/oauth2/authorize"
    assert query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["nonce"] and query["state"] and "openid" in query["scope"].split()
    assert query["redirect_uri"] == ui_server.url + "/login/sso/callback"
    cookie = next(v for v in start.headers.get_list("set-cookie") if v.startswith("baton_sso="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert query["state"] not in cookie and query["nonce"] not in cookie  # sealed, not readable

    sealed = cookie.split(";", 1)[0].split("=", 1)[1]
    callback = ui_server.url + "/login/sso/callback"
    forged = httpx.get(callback, params={"state": "forged", "code": "x"}, cookies={"baton_sso": sealed})
    assert forged.status_code == 400
    assert "state does not match" in forged.text
    no_cookie = httpx.get(callback, params={"state": query["state"], "code": "x"})
    assert no_cookie.status_code == 400
    entries = _audit(ui_server, 2, action="auth.sso_sign_in", outcome="failure", actor_name="(single sign-on)")
    assert sum(entry["status_code"] == 400 for entry in entries) >= 2


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_with_local_passwords_off_only_the_break_glass_user_signs_in_with_a_password(ui_server: UiServer) -> None:
    refused = httpx.post(ui_server.url + "/login", data={"name": "dora", "password": USERS["dora"][1]})
    assert refused.status_code == 403
    assert "Password sign-in is turned off" in refused.text
    me = httpx.get(ui_server.api_url + "/me", headers=_basic("dora", USERS["dora"][1]))
    assert me.status_code == 401 and "Password sign-in is turned off" in me.json()["detail"]

    alice = httpx.post(ui_server.url + "/login", data={"name": "alice", "password": USERS["alice"][1]})
    assert alice.status_code == 302
    assert httpx.get(ui_server.api_url + "/me", headers=_basic("alice", USERS["alice"][1])).status_code == 200
    [entry] = _audit(ui_server, 1, actor_name="alice", action="auth.break_glass_sign_in")
    assert entry["outcome"] == "success"
    [dora] = _audit(ui_server, 1, actor_name="dora", action="auth.sign_in")
    assert (dora["outcome"], dora["detail"]["reason"]) == ("failure", "local passwords off")
