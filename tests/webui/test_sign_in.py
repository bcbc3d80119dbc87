"""Signing in and out over plain HTTP with authentication on: the session cookie's attributes, `next` that cannot
leave the server, a cross-site sign-in refused, sign-out that needs the page's CSRF token, and the rate limit."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from baton.webui.pages.sign_in import local_next
from tests.databases import TemplateDatabases
from tests.webui.auth_server import USERS, admin_headers, auth_ui_server
from tests.webui.conftest import UiServer

SESSION_HOURS = 2


@pytest.fixture(scope="module")
def ui_server(
    ui_database: str, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UiServer]:
    url = template_databases.clone(ui_database, tmp_path_factory.mktemp("ui-db"))
    try:
        yield from auth_ui_server(tmp_path_factory.mktemp("ui-home"), url, BATON_AUTH_SESSION_HOURS=str(SESSION_HOURS))
    finally:
        template_databases.drop(url)


def _post_login(server: UiServer, name: str, password: str, **options: object) -> httpx.Response:
    data = {"name": name, "password": password, **{k: v for k, v in options.items() if k == "next"}}
    headers = options.get("headers") or {}
    assert isinstance(headers, dict)
    return httpx.post(server.url + "/login", data=data, headers=headers, follow_redirects=False)


def _cookie_header(response: httpx.Response) -> str:
    headers = [value for value in response.headers.get_list("set-cookie") if value.startswith("baton_session=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def _csrf_token(server: UiServer, cookies: dict[str, str]) -> str:
    page = httpx.get(server.url + "/account", cookies=cookies)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert match, page.text[:500]
    return match.group(1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("", "/"),
        ("/runs?state=FAILED", "/runs?state=FAILED"),
        ("/flows/x#part", "/flows/x#part"),
        ("//evil.example/path", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("runs", "/"),
        ("/runs\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_next_is_only_a_path_on_this_server(value: str | None, expected: str) -> None:
    assert local_next(value) == expected


def test_the_session_cookie_is_http_only_lax_and_lasts_the_session_hours(ui_server: UiServer) -> None:
    response = _post_login(ui_server, "alice", USERS["alice"][1], next="/runs?state=FAILED")
    assert response.status_code == 302
    assert response.headers["location"] == "/runs?state=FAILED"
    cookie = _cookie_header(response)
    attributes = {part.strip().split("=", 1)[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert attributes["path"] == "Path=/"
    assert attributes["max-age"] == f"Max-Age={SESSION_HOURS * 3600}"
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    me = httpx.get(ui_server.api_url + "/me", cookies={"baton_session": token}).json()
    assert (me["name"], me["role"], me["kind"]) == ("alice", "admin", "user")

    # Behind a TLS proxy the cookie is Secure.
    behind_tls = _post_login(ui_server, "alice", USERS["alice"][1], headers={"X-Forwarded-Proto": "https"})
    assert behind_tls.status_code == 302
    assert "secure" in _cookie_header(behind_tls).lower().replace(" ", "").split(";")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/%5Cevil"])
def test_sign_in_never_redirects_off_the_server(ui_server: UiServer, target: str) -> None:
    response = _post_login(ui_server, "alice", USERS["alice"][1], next=target)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location == (target if target == "/%5Cevil" else "/")
    # Signed in already, the sign-in page sends the browser on, to the same safe place.
    token = _cookie_header(response).split(";", 1)[0].split("=", 1)[1]
    again = httpx.get(
        ui_server.url + "/login", params={"next": target}, cookies={"baton_session": token}, follow_redirects=False
    )
    assert again.status_code == 302 and again.headers["location"] == location


def test_a_cross_site_sign_in_is_refused(ui_server: UiServer) -> None:
    response = _post_login(ui_server, "alice", USERS["alice"][1], headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert not [value for value in response.headers.get_list("set-cookie") if value.startswith("baton_session=")]
    same_site = _post_login(ui_server, "alice", USERS["alice"][1], headers={"Origin": ui_server.url})
    assert same_site.status_code == 302


def test_a_stale_cookie_shows_the_sign_in_form(ui_server: UiServer) -> None:
    response = httpx.get(ui_server.url + "/login", cookies={"baton_session": "no-such-session"}, follow_redirects=False)
    assert response.status_code == 200
    assert 'id="sign-in-form"' in response.text
    # The page offers nothing but the form to a visitor who has not signed in.
    assert 'href="/runs"' not in response.text and "Signed in as" not in response.text


def test_sign_out_needs_the_csrf_token_and_revokes_the_session(ui_server: UiServer) -> None:
    token = _cookie_header(_post_login(ui_server, "alice", USERS["alice"][1])).split(";", 1)[0].split("=", 1)[1]
    cookies = {"baton_session": token}
    refused = httpx.post(ui_server.url + "/logout", cookies=cookies, follow_redirects=False)
    assert refused.status_code == 403
    assert httpx.get(ui_server.api_url + "/me", cookies=cookies).status_code == 200

    csrf = _csrf_token(ui_server, cookies)
    response = httpx.post(ui_server.url + "/logout", data={"csrf_token": csrf}, cookies=cookies, follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/login"
    cleared = _cookie_header(response)
    assert cleared.startswith("baton_session=;") or cleared.startswith('baton_session="";')
    assert "expires=" in cleared.lower()
    assert httpx.get(ui_server.api_url + "/me", cookies=cookies).status_code == 401
    page = httpx.get(ui_server.url + "/runs", cookies=cookies, follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"] == "/login?next=%2Fruns"


def test_failed_sign_ins_are_limited_per_account_with_retry_after(ui_server: UiServer) -> None:
    for _ in range(5):
        wrong = _post_login(ui_server, "victor", "wrong-password")
        assert wrong.status_code == 401
        assert "The user name or password is not valid." in wrong.text
    # Even the right password is refused while the limit holds, and the page says for how long.
    limited = _post_login(ui_server, "victor", USERS["victor"][1])
    assert limited.status_code == 429
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 300
    assert f"try again in {retry_after} seconds" in limited.text
    assert 'id="sign-in-form"' in limited.text
    assert not [value for value in limited.headers.get_list("set-cookie") if value.startswith("baton_session=")]
    # Another account from the same address is not locked out.
    assert _post_login(ui_server, "alice", USERS["alice"][1]).status_code == 302

    entries = httpx.post(
        ui_server.api_url + "/audit/filter",
        json={"actor_name": "victor", "action": "auth.sign_in"},
        headers=admin_headers(),
    ).json()
    assert [entry["status_code"] for entry in entries] == [429, 401, 401, 401, 401, 401]
    assert {entry["outcome"] for entry in entries} == {"failure"}
    assert all(entry["address"] == "127.0.0.1" for entry in entries)


def test_sign_out_without_a_live_session(ui_server: UiServer) -> None:
    assert httpx.post(ui_server.url + "/logout", follow_redirects=False).status_code == 401
    # A session that ended already (another tab signed out): the browser only forgets the cookie.
    stale = httpx.post(ui_server.url + "/logout", cookies={"baton_session": "ended"}, follow_redirects=False)
    assert stale.status_code == 302 and stale.headers["location"] == "/login"
    assert _cookie_header(stale).startswith(("baton_session=;", 'baton_session="";'))


def test_an_empty_sign_in_form_is_not_counted_as_a_failure(ui_server: UiServer) -> None:
    before = httpx.post(
        ui_server.api_url + "/audit/count", json={"action": "auth.sign_in"}, headers=admin_headers()
    ).json()
    response = _post_login(ui_server, "", "")
    assert response.status_code == 200 and "Enter your user name and password." in response.text
    after = httpx.post(
        ui_server.api_url + "/audit/count", json={"action": "auth.sign_in"}, headers=admin_headers()
    ).json()
    assert after == before
