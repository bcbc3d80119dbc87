"""Single sign-on for one server process: starting a sign-in (where to send the browser, and the sealed cookie)
and finishing it (the code exchanged, the ID token checked, the groups turned into a role)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from baton.server.auth.sso import flow
from baton.server.auth.sso.id_token import IdTokenRefused, validate_id_token
from baton.server.auth.sso.provider import OidcProvider
from baton.server.auth.sso.refusal import SsoRefused
from baton.server.auth.sso.roles import DEFAULT_WORKSPACE, claim_values, roles_by_workspace
from baton.server.auth.sso.users import SsoIdentity
from baton.server.database.engine import Database


class SingleSignOn:
    """Made on first use by the server context when BATON_AUTH_OIDC_ISSUER and _CLIENT_ID are set."""

    def __init__(self, settings: Any, database: Database) -> None:
        secret = settings.auth_oidc_client_secret
        self.settings = settings
        self.database = database
        self.provider = OidcProvider(
            settings.auth_oidc_issuer,
            settings.auth_oidc_client_id,
            secret.get_secret_value() if secret is not None else None,
            settings.auth_oidc_scopes,
        )
        self._key: Fernet | None = None

    async def _flow_key(self) -> Fernet:
        if self._key is None:
            async with self.database.write() as connection:
                self._key = await flow.flow_key(connection)
        return self._key

    async def begin(self, next_path: str, redirect_uri: str) -> tuple[str, str]:
        """(the provider's authorization URL to send the browser to, the sealed value of the flow cookie)."""
        pending = flow.PendingSignIn.start(next_path)
        url = await self.provider.authorization_url(
            redirect_uri, state=pending.state, nonce=pending.nonce, code_verifier=pending.code_verifier
        )
        return url, flow.seal(await self._flow_key(), pending)

    async def pending(self, cookie: str | None, state: str | None) -> flow.PendingSignIn:
        """The sign-in this browser began with this state; BadRequest otherwise (see `flow.unseal`)."""
        return flow.unseal(await self._flow_key(), cookie, state)

    async def identify(self, pending: flow.PendingSignIn, code: str, redirect_uri: str) -> SsoIdentity:
        """Who signed in: the code exchanged (with the PKCE verifier), the ID token checked, the claims read (from
        userinfo too when the ID token lacks them); IdTokenRefused or SsoRefused otherwise."""
        token = await self.provider.exchange_code(redirect_uri, code, pending.code_verifier)
        claims = await self._checked_claims(token["id_token"], pending.nonce)
        settings = self.settings
        wanted = (settings.auth_oidc_username_claim, settings.auth_oidc_email_claim, settings.auth_oidc_groups_claim)
        if any(name not in claims for name in wanted) and isinstance(token.get("access_token"), str):
            extra = await self.provider.userinfo(token["access_token"])
            if extra.get("sub") == claims["sub"]:
                claims = {**extra, **claims}
        name = claims.get(settings.auth_oidc_username_claim)
        if not isinstance(name, str) or not name.strip():
            raise SsoRefused(
                "no user name",
                f"The identity provider sent no '{settings.auth_oidc_username_claim}' claim to name the user "
                "(BATON_AUTH_OIDC_USERNAME_CLAIM).",
            )
        email = claims.get(settings.auth_oidc_email_claim)
        return SsoIdentity(
            issuer=claims["iss"],
            subject=claims["sub"],
            name=name.strip(),
            email=email if isinstance(email, str) else None,
            groups=tuple(claim_values(claims.get(settings.auth_oidc_groups_claim))),
        )

    async def _checked_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        metadata = await self.provider.metadata()
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        check = {"issuer": metadata["issuer"], "client_id": self.provider.client_id, "nonce": nonce}
        keys = await self.provider.keys()
        try:
            return validate_id_token(id_token, keys, algorithms=algorithms, **check)
        except IdTokenRefused as refused:
            if refused.reason != "signature" or self.provider.has_key(keys, _key_id(id_token)):
                raise
        # Signed with a key id the cached set lacks: the provider may have rotated its keys.
        return validate_id_token(id_token, await self.provider.keys(refresh=True), algorithms=algorithms, **check)

    def role_for(self, person: SsoIdentity) -> str:
        """The role in the default workspace: the first rule matching a group, else BATON_AUTH_OIDC_DEFAULT_ROLE;
        SsoRefused (403) when neither gives one."""
        roles = roles_by_workspace(self.settings.auth_oidc_role_rules, person.groups)
        role = roles.get(DEFAULT_WORKSPACE) or self.settings.auth_oidc_default_role
        if role is None:
            raise SsoRefused(
                "no role",
                "None of your groups gives you a role in Baton; ask an admin to add one to BATON_AUTH_OIDC_ROLE_RULES.",
                403,
            )
        return str(role)


def _key_id(token: str) -> str | None:
    try:
        kid = extract_compact(token.encode()).headers().get("kid")
    except (JoseError, ValueError):
        return None
    return kid if isinstance(kid, str) else None
