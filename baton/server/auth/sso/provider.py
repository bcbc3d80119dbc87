"""The identity provider as Baton sees it: its discovery document and signing keys, fetched when a sign-in needs
them and cached, and its authorization and token endpoints (through authlib's OAuth 2 client, with PKCE).

This is the only module that talks to the provider. A provider that cannot be reached, or answers with something
that is not OIDC, is a ServiceUnavailable (503) naming the address; a refused code exchange is an
IdTokenRefused("exchange").
"""

from __future__ import annotations

import asyncio
import base64
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx
from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from baton.errors import ServiceUnavailable
from baton.server.auth.sso.id_token import IdTokenRefused

DISCOVERY_PATH = "/.well-known/openid-configuration"
#: How long the discovery document and keys are trusted before they are fetched again; a token signed with a key
#: not in the cached set makes the keys be fetched at once (the provider rotated them).
CACHE_SECONDS = 3600.0
#: The provider's endpoints are on the company network; a sign-in waits at most this long for each answer.
TIMEOUT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 30
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class OidcProvider:
    """One per server process and issuer: the cached discovery document and keys, and the calls a sign-in makes."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None, scopes: Sequence[str]) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = " ".join(dict.fromkeys(["openid", *scopes]))
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (cached for CACHE_SECONDS), checked to be this issuer's."""
        if self._metadata is not None and time.monotonic() - self._metadata[0] < CACHE_SECONDS:
            return self._metadata[1]
        async with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata[0] >= CACHE_SECONDS:
                document = await self._get_json(self.issuer + DISCOVERY_PATH)
                self._check_metadata(document)
                self._metadata = (time.monotonic(), document)
            return self._metadata[1]

    def _check_metadata(self, document: dict[str, Any]) -> None:
        missing = [name for name in REQUIRED_METADATA if not isinstance(document.get(name), str)]
        if missing:
            raise self._unavailable(f"its discovery document lacks {', '.join(missing)}")
        if document["issuer"].rstrip("/") != self.issuer:
            # OIDC Discovery 4.3: the document must name the issuer it was fetched for.
            raise self._unavailable(f"its discovery document names another issuer, {document['issuer']!r}")
        insecure = [name for name in REQUIRED_METADATA if not is_secure_transport(document[name])]
        if insecure:
            raise self._unavailable(f"{', '.join(insecure)} is not https (only loopback addresses may use http)")

    async def keys(self, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's JWKS (cached; `refresh` fetches it again, for a key id the cached set lacks)."""
        if not refresh and self._keys is not None and time.monotonic() - self._keys[0] < CACHE_SECONDS:
            return self._keys[1]
        document = await self._get_json((await self.metadata())["jwks_uri"])
        if not isinstance(document.get("keys"), list):
            raise self._unavailable("its jwks_uri does not answer with a key set")
        self._keys = (time.monotonic(), document)
        return document

    def has_key(self, keys: dict[str, Any], key_id: str | None) -> bool:
        return key_id is None or any(key.get("kid") == key_id for key in keys["keys"] if isinstance(key, dict))

    async def authorization_url(self, redirect_uri: str, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the authorization endpoint with the code flow's parameters and the S256 PKCE
        challenge of `code_verifier`."""
        endpoint = (await self.metadata())["authorization_endpoint"]
        return str(
            prepare_grant_uri(
                endpoint,
                client_id=self.client_id,
                response_type="code",
                redirect_uri=redirect_uri,
                scope=self.scope,
                state=state,
                nonce=nonce,
                code_challenge=create_s256_code_challenge(code_verifier),
                code_challenge_method="S256",
            )
        )

    async def exchange_code(self, redirect_uri: str, code: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for `code` (with `id_token`); IdTokenRefused("exchange") when refused.

        A confidential client authenticates with HTTP Basic (client_secret_basic, every provider's default); a
        public one sends its client id only, PKCE's verifier being its proof."""
        endpoint = (await self.metadata())["token_endpoint"]
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.client_secret:
            credentials = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
        else:
            body += "&client_id=" + urllib.parse.quote(self.client_id, safe="")
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.post(endpoint, content=body, headers=headers)
            token = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._unavailable(f"its token endpoint failed ({exc.__class__.__name__})") from None
        if not isinstance(token, dict):
            raise self._unavailable("its token endpoint did not answer with a JSON object")
        if response.status_code != 200 or "error" in token:
            problem = token.get("error_description") or token.get("error") or f"HTTP {response.status_code}"
            raise IdTokenRefused("exchange", f"The identity provider refused the sign-in: {problem}")
        if not isinstance(token.get("id_token"), str):
            raise IdTokenRefused("exchange", "The identity provider answered without an ID token; is openid a scope?")
        return token

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        """The userinfo endpoint's claims, or {} when the provider has none."""
        endpoint = (await self.metadata()).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        return await self._get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"})

    async def _get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.get(url, headers=headers)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise self._unavailable(f"{url} failed ({exc.__class__.__name__}: {exc})") from None
        if not isinstance(document, dict):
            raise self._unavailable(f"{url} did not answer with a JSON object")
        return document

    def _unavailable(self, problem: str) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"Single sign-on is unavailable: the identity provider {self.issuer} cannot be used, {problem}.",
            RETRY_AFTER_SECONDS,
        )
