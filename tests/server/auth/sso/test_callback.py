"""The single sign-on callback end to end over HTTP, against a tiny provider of the test's own on loopback that
answers the code exchange with ID tokens the test crafts: a right token signs in; a wrong audience, issuer, nonce or
signature, an expired token and a provider that refuses the code are each refused, audited, and start no session;
a key the provider rotated in is fetched again; rules naming workspaces give and take roles there."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
import tornado.httpserver
import tornado.netutil
import tornado.web
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from baton.accounts import DEFAULT_ACCOUNT_ID
from baton.server import workspaces
from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.server.models import workspaces as workspace_models
from baton.server.models.identity import audit
from baton.settings import Settings
from tests.databases import ENABLED_DIALECTS, TemplateDatabases

pytestmark = pytest.mark.asyncio(loop_scope="module")

DIALECT = "sqlite" if "sqlite" in ENABLED_DIALECTS else ENABLED_DIALECTS[0]
CLIENT_ID = "baton"
CLIENT_SECRET = "secret-of-baton"
RULES = [{"group": "ops", "role": "operator"}]


@dataclass
class Provider:
    """What the tiny provider serves: its keys, and the ID token its token endpoint hands out next."""

    issuer: str = ""
    keys: list[RSAKey] = field(default_factory=lambda: [RSAKey.generate_key(2048, {"kid": "k1"}, private=True)])
    id_token: str = ""
    token_error: str | None = None
    token_requests: list[dict[str, str]] = field(default_factory=list)


class _Json(tornado.web.RequestHandler):
    def initialize(self, provider: Provider) -> None:
        self.provider = provider


class _Discovery(_Json):
    def get(self) -> None:
        issuer = self.provider.issuer
        self.write(
            {
                "issuer": issuer,
                "authorization_endpoint": issuer + "/authorize",
                "token_endpoint": issuer + "/token",
                "jwks_uri": issuer + "/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )


class _Keys(_Json):
    def get(self) -> None:
        self.write(KeySet(list(self.provider.keys)).as_dict(private=False))


class _Token(_Json):
    def post(self) -> None:
        form = {name: values[0].decode() for name, values in self.request.body_arguments.items()}
        self.provider.token_requests.append({**form, "authorization": self.request.headers.get("Authorization", "")})
        if self.provider.token_error:
            self.set_status(400)
            self.write({"error": "invalid_grant", "error_description": self.provider.token_error})
            return
        self.write({"access_token": "at", "token_type": "Bearer", "id_token": self.provider.id_token})


@dataclass
class Servers:
    baton: str
    provider: Provider
    context: ServerContext
    #: Workspaces the rules name: "analytics" by name, "reports" by id.
    workspaces: dict[str, uuid.UUID]


def _listen(app: tornado.web.Application) -> tuple[tornado.httpserver.HTTPServer, int]:
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    return server, int(sockets[0].getsockname()[1])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def servers(
    template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Servers]:
    provider = Provider()
    routes = [("/.well-known/openid-configuration", _Discovery), ("/jwks", _Keys), ("/token", _Token)]
    provider_server, provider_port = _listen(
        tornado.web.Application([(p, h, {"provider": provider}) for p, h in routes])
    )
    provider.issuer = f"http://127.0.0.1:{provider_port}"
    directory = tmp_path_factory.mktemp("sso-callback")
    url = template_databases.clone(DIALECT, directory)
    database = Database(url)
    await database.open()
    made = {name: (await workspaces.create_workspace(database, name, ""))["id"] for name in ("analytics", "reports")}
    rules = [
        *RULES,
        {"group": "analysts", "role": "developer", "workspace": "analytics"},
        {"group": "analysts", "role": "viewer", "workspace": str(made["reports"])},
        {"group": "ops", "role": "viewer", "workspace": "ghost"},
    ]
    settings = Settings(
        home=directory,
        api_database_connection_url=url,
        auth_enabled=True,
        auth_oidc_issuer=provider.issuer,
        auth_oidc_client_id=CLIENT_ID,
        auth_oidc_client_secret=CLIENT_SECRET,
        auth_oidc_role_rules=json.dumps(rules),
    )
    context = ServerContext(settings=settings, database=database)
    baton_server, baton_port = _listen(make_app(context, ui=True))
    try:
        yield Servers(f"http://127.0.0.1:{baton_port}", provider, context, made)
    finally:
        for server in (baton_server, provider_server):
            server.stop()
            await server.close_all_connections()
        await context.close()
        await database.dispose()
        template_databases.drop(url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=servers.baton, follow_redirects=False, timeout=30) as http:
        yield http


def _claims(provider: Provider, sent_nonce: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "sub": "sub-olga",
        "exp": now + 300,
        "iat": now,
        "nonce": sent_nonce,
        "preferred_username": "olga",
        "groups": ["ops"],
    }
    return {**claims, **changes}


def _sign(claims: dict[str, Any], key: RSAKey) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


async def _start(client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """Begin a sign-in as a browser would: the authorization request's parameters and the flow cookie."""
    start = await client.get("/login/sso", params={"next": "/runs"})
    assert start.status_code == 302, start.text
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start.headers["location"]).query))
    client.cookies.clear()  # each request says which cookies it sends
    return query, start.cookies["baton_sso"]


async def _callback(client: httpx.AsyncClient, query: dict[str, str], flow_cookie: str) -> httpx.Response:
    params = {"state": query["state"], "code": "the-code"}
    answer = await client.get("/login/sso/callback", params=params, headers={"Cookie": f"baton_sso={flow_cookie}"})
    client.cookies.clear()
    return answer


async def _audit(servers: Servers, outcome: str) -> dict[str, Any]:
    """The newest `auth.sso_sign_in` entry with this outcome."""
    await servers.context.audit_log.flush()
    async with servers.context.database.read() as connection:
        condition = audit.audit_condition(action="auth.sso_sign_in", outcome=outcome)
        return (await audit.read_audit_entries(connection, condition, limit=1))[0]


async def test_a_right_token_signs_in_with_pkce_and_the_client_secret(
    servers: Servers, client: httpx.AsyncClient
) -> None:
    provider = servers.provider
    query, flow_cookie = await _start(client)
    provider.id_token = _sign(_claims(provider, query["nonce"]), provider.keys[0])
    answer = await _callback(client, query, flow_cookie)
    assert answer.status_code == 302, answer.text
    assert answer.headers["location"] == "/runs"
    session = answer.cookies["baton_session"]
    me = (await client.get("/api/me", headers={"Cookie": f"baton_session={session}"})).json()
    assert (me["name"], me["role"]) == ("olga", "operator")
    exchange = provider.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code" and exchange["code"] == "the-code"
    assert exchange["redirect_uri"] == servers.baton + "/login/sso/callback"
    assert exchange["authorization"].startswith("Basic ")
    # The verifier whose S256 challenge went to the authorization endpoint.
    assert create_s256_code_challenge(exchange["code_verifier"]) == query["code_challenge"]
    # The flow cookie is spent: the same callback again is refused.
    assert (await _callback(client, query, "")).status_code == 400


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "another-client"}, "audience"),
        ({"iss": "https://evil.example.com"}, "issuer"),
        ({"nonce": "not-this-sign-ins-nonce"}, "nonce"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"signed_by": "attacker"}, "signature"),
    ],
    ids=["audience", "issuer", "nonce", "expired", "signature"],
)
async def test_a_token_that_cannot_be_trusted_signs_nobody_in(
    servers: Servers, client: httpx.AsyncClient, change: dict[str, Any], reason: str
) -> None:
    provider = servers.provider
    query, flow_cookie = await _start(client)
    claims = _claims(provider, query["nonce"], **{k: v for k, v in change.items() if k != "signed_by"})
    key = RSAKey.generate_key(2048, {"kid": "k1"}, private=True) if "signed_by" in change else provider.keys[0]
    provider.id_token = _sign(claims, key)
    answer = await _callback(client, query, flow_cookie)
    assert answer.status_code == 401
    assert "baton_session" not in answer.cookies
    assert 'id="sign-in-error"' in answer.text
    entry = await _audit(servers, "failure")
    assert (entry["detail"]["reason"], entry["status_code"]) == (reason, 401)


async def test_a_refused_code_is_audited(servers: Servers, client: httpx.AsyncClient) -> None:
    servers.provider.token_error = "code already used"
    try:
        query, flow_cookie = await _start(client)
        answer = await _callback(client, query, flow_cookie)
    finally:
        servers.provider.token_error = None
    assert answer.status_code == 401
    assert "code already used" in answer.text
    assert (await _audit(servers, "failure"))["detail"]["reason"] == "exchange"


async def test_a_key_the_provider_rotated_in_is_fetched(servers: Servers, client: httpx.AsyncClient) -> None:
    provider = servers.provider
    for kid in ("k1", "k3"):
        if kid != provider.keys[-1].kid:
            provider.keys.append(RSAKey.generate_key(2048, {"kid": kid}, private=True))
        query, flow_cookie = await _start(client)
        provider.id_token = _sign(_claims(provider, query["nonce"]), provider.keys[-1])
        answer = await _callback(client, query, flow_cookie)
        assert answer.status_code == 302, answer.text  # k3 was not in the keys cached at k1's sign-in
        entry = await _audit(servers, "success")
        assert (entry["detail"]["subject"], entry["detail"]["role"]) == ("sub-olga", "operator")


async def _sign_in(servers: Servers, client: httpx.AsyncClient, **claims: Any) -> str:
    """The session cookie of a sign-in whose ID token carries `claims`."""
    provider = servers.provider
    query, flow_cookie = await _start(client)
    provider.id_token = _sign(_claims(provider, query["nonce"], **claims), provider.keys[-1])
    answer = await _callback(client, query, flow_cookie)
    assert answer.status_code == 302, answer.text
    return str(answer.cookies["baton_session"])


async def _health_in(servers: Servers, client: httpx.AsyncClient, name: str, session: str) -> int:
    """The status of GET .../health under the workspace's URL: 200 with a role there, 404 without."""
    path = f"/api/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{servers.workspaces[name]}/health"
    return (await client.get(path, headers={"Cookie": f"baton_session={session}"})).status_code


async def test_groups_give_roles_in_the_workspaces_the_rules_name_and_the_next_sign_in_takes_them_away(
    servers: Servers, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="baton.server.auth.sso.workspace_roles")
    claims = {"sub": "sub-wendy", "preferred_username": "wendy", "groups": ["ops", "analysts"]}
    session = await _sign_in(servers, client, **claims)
    assert await _health_in(servers, client, "analytics", session) == 200
    assert await _health_in(servers, client, "reports", session) == 200
    entry = await _audit(servers, "success")
    wendy = uuid.UUID(entry["resource_id"])
    given = {(item["workspace"], item["role"], item["previous_role"]) for item in entry["detail"]["workspace_roles"]}
    assert given == {("analytics", "developer", None), ("reports", "viewer", None)}
    assert entry["detail"]["skipped_workspace_rules"] == [{"workspace": "ghost", "reason": "no such workspace"}]
    assert "names workspace 'ghost', which does not exist" in caplog.text
    async with servers.context.database.read() as connection:
        role = await workspace_models.read_member_role(connection, servers.workspaces["analytics"], wendy)
        condition = audit.audit_condition(action="workspace.set_member")
        entries = await audit.read_audit_entries(connection, condition, limit=10)
    assert role == "developer"
    # Each change is also an entry like an admin's, by the user, naming the workspace.
    by_workspace = {entry["resource_id"]: entry for entry in entries if entry["actor_name"] == "wendy"}
    analytics_entry = by_workspace[str(servers.workspaces["analytics"])]
    assert (analytics_entry["resource_name"], analytics_entry["detail"]["role"]) == ("analytics", "developer")
    assert analytics_entry["detail"]["by"] == "single sign-on"

    # Out of "analysts": the next sign-in removes both memberships, and the workspaces answer 404 at once.
    session = await _sign_in(servers, client, **{**claims, "groups": ["ops"]})
    assert await _health_in(servers, client, "analytics", session) == 404
    assert await _health_in(servers, client, "reports", session) == 404
    entry = await _audit(servers, "success")
    taken = {(item["workspace"], item["role"], item["previous_role"]) for item in entry["detail"]["workspace_roles"]}
    assert taken == {("analytics", None, "developer"), ("reports", None, "viewer")}
    async with servers.context.database.read() as connection:
        for workspace_id in servers.workspaces.values():
            assert await workspace_models.read_member_role(connection, workspace_id, wendy) is None
        condition = audit.audit_condition(action="workspace.remove_member")
        removed = await audit.read_audit_entries(connection, condition, limit=10)
    assert {entry["resource_name"] for entry in removed if entry["actor_name"] == "wendy"} == {"analytics", "reports"}
