"""`AccessControl`: turns a request's credential into a `Principal` and checks it against the route's permission.

Credentials, in the order they are looked for:
- `Authorization: Bearer <API key>` (the Prefect client's PREFECT_API_KEY, Baton's BATON_API_KEY);
- `Authorization: Basic base64(name:secret)` (the Prefect client's PREFECT_API_AUTH_STRING), where the secret is the
  user's password or one of the account's API keys, or `base64(API key)` (an auth string that is a bare key);
- the `baton_session` cookie of a signed-in browser; its writes also need the session's CSRF token in the
  `X-CSRF-Token` header, or an `Origin` header naming the server itself.

Looking a credential up costs a database read, so each process keeps what it found. Every change that can take a
permission away (a revoked key or session, a disabled account, a role changed) bumps one counter in the database
(`models.identity.generation`); a process reads that counter at most every `auth_cache_seconds` (0.5 s by default)
and drops its cache when it moved, so a revocation reaches every API process within a second, and a busy server
spends one small read per half second on it instead of one per request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from baton.errors import NotAuthenticated, PermissionDenied
from baton.server.auth import credentials
from baton.server.auth.principal import ANONYMOUS, Principal
from baton.server.database.types import utcnow
from baton.server.models.identity import accounts, api_keys, roles, sessions
from baton.server.models.identity.generation import read_generation
from baton.server.permissions import BUILT_IN_ROLES, PUBLIC, SIGNED_IN

logger = logging.getLogger("baton.auth")

SESSION_COOKIE = "baton_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Most credentials cached per process; beyond it the cache starts over (a flood of made-up keys cannot grow it).
MAX_CACHED = 10_000
#: How often the last-used times of API keys are written, in seconds.
LAST_USED_FLUSH_SECONDS = 30.0

_NO_CREDENTIAL = object()


class AccessControl:
    """One per server process (on the `ServerContext`)."""

    def __init__(self, settings: Any, database: Any) -> None:
        self.enabled: bool = settings.auth_enabled
        self._database = database
        self._refresh_seconds: float = settings.auth_cache_seconds
        self._generation: int | None = None
        self._checked_at = 0.0
        self._refresh_lock = asyncio.Lock()
        self._custom_roles: dict[str, frozenset[str]] = {}
        #: credential digest -> Principal (or None for a credential found to be bad)
        self._cache: dict[str, Principal | None] = {}
        self._keys_used: dict[uuid.UUID, dt.datetime] = {}
        self._last_used_flushed = time.monotonic()
        #: With local passwords off, the only users whose password is still accepted (the break-glass users).
        self._password_users: frozenset[str] | None = (
            None if settings.auth_local_passwords else frozenset(settings.auth_break_glass_users)
        )

    # --- the check ---------------------------------------------------------------------------------------------

    async def admit(
        self,
        method: str,
        permission: str | None,
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
        *,
        host: str | None = None,
    ) -> Principal:
        """The caller of a request, once it may use the route; NotAuthenticated (401) or PermissionDenied (403)."""
        if not self.enabled:
            return ANONYMOUS
        if permission == PUBLIC:
            # A stale credential does not close an open route: the sign-in page must answer a browser whose session
            # ended (else it would redirect to itself), and a health check a client whose key was revoked.
            try:
                principal = await self.identify(headers, cookies, required=False)
            except NotAuthenticated:
                principal = None
            return principal or ANONYMOUS
        principal = await self.identify(headers, cookies, required=True)
        assert principal is not None
        if principal.via == "session" and method not in SAFE_METHODS:
            try:
                self._check_csrf(principal, headers, host)
            except PermissionDenied as denied:
                denied.principal = principal
                raise
        self.authorize(principal, permission)
        return principal

    def authorize(self, principal: Principal, permission: str | None) -> None:
        if permission is None:
            # A route that declares nothing is closed (a test keeps the route table free of them).
            raise PermissionDenied("This route declares no permission, so nobody may use it.", principal)
        if permission == SIGNED_IN or principal.may(permission):
            return
        raise PermissionDenied(
            f"The role {principal.role!r} of {principal.kind.replace('_', ' ')} {principal.name!r} does not allow "
            f"this (it needs the permission {permission!r}).",
            principal,
        )

    def _check_csrf(self, principal: Principal, headers: Mapping[str, str], host: str | None) -> None:
        token = headers.get(CSRF_HEADER)
        if token and principal.csrf_token and _same_secret(token, principal.csrf_token):
            return
        origin = headers.get("Origin")
        if origin and host and origin.split("://", 1)[-1] == host:
            return
        raise PermissionDenied(
            "A change made with a browser session needs the page's CSRF token (X-CSRF-Token) or a same-origin Origin.",
            principal,
        )

    # --- identification ----------------------------------------------------------------------------------------

    async def identify(
        self, headers: Mapping[str, str], cookies: Mapping[str, str], *, required: bool
    ) -> Principal | None:
        """The principal of the request's credential; None when it has none and none is `required`."""
        authorization = headers.get("Authorization")
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            value = value.strip()
            if scheme.lower() == "bearer" and value:
                return await self.key_principal(value)
            if scheme.lower() == "basic" and value:
                return await self._basic_principal(value)
            raise NotAuthenticated("The Authorization header must be 'Bearer <API key>' or 'Basic <credentials>'.")
        token = cookies.get(SESSION_COOKIE)
        if token:
            return await self.session_principal(token)
        if required:
            raise NotAuthenticated(
                "Sign in first: send an API key as 'Authorization: Bearer <key>' (BATON_API_KEY for Baton's CLI and "
                "workers, PREFECT_API_AUTH_STRING='<account name>:<API key>' for the Prefect client) or sign in to "
                "the web UI."
            )
        return None

    async def key_principal(self, key: str) -> Principal:
        """The account holding API key `key`; NotAuthenticated for an unknown, revoked or expired key."""
        digest = "k" + credentials.sha256_hex(key)
        principal = await self._cached(digest, lambda: self._load_key(digest[1:]))
        if principal is None:
            raise NotAuthenticated(
                "The API key is not valid: it is unknown, revoked or expired, or its account is disabled."
            )
        assert principal.key_id is not None
        self._note_key_used(principal.key_id)
        return principal

    async def session_principal(self, token: str) -> Principal:
        digest = "s" + credentials.sha256_hex(token)
        principal = await self._cached(digest, lambda: self._load_session(digest[1:]))
        if principal is None:
            raise NotAuthenticated("Your session has ended: sign in again.")
        return principal

    async def _basic_principal(self, value: str) -> Principal:
        try:
            name, separator, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            separator, name, secret = "", "", ""
        if not separator and name.startswith(credentials.API_KEY_PREFIX):
            # PREFECT_API_AUTH_STRING set to a bare key: the client sends it as Basic base64(key).
            return await self.key_principal(name)
        if not separator:
            raise NotAuthenticated("Basic credentials must be base64 of 'name:password', 'name:API key' or an API key.")
        return await self._name_and_secret_principal(name, secret)

    async def token_principal(self, token: object) -> Principal:
        """The principal of a websocket's auth message token: an API key (PREFECT_API_KEY) or an auth string
        'name:password' / 'name:API key' (PREFECT_API_AUTH_STRING)."""
        if not isinstance(token, str) or not token:
            # The non-Cloud Prefect client puts PREFECT_API_AUTH_STRING here, never PREFECT_API_KEY.
            raise NotAuthenticated(
                "The auth message carries no token. The Prefect client sends PREFECT_API_AUTH_STRING here, not "
                "PREFECT_API_KEY: set PREFECT_API_AUTH_STRING='<account name>:<API key>'."
            )
        if token.startswith(credentials.API_KEY_PREFIX):
            return await self.key_principal(token)
        name, separator, secret = token.partition(":")
        if not separator:
            raise NotAuthenticated("The token is neither an API key nor 'name:password'.")
        return await self._name_and_secret_principal(name, secret)

    async def _name_and_secret_principal(self, name: str, secret: str) -> Principal:
        if secret.startswith(credentials.API_KEY_PREFIX):
            return await self.key_principal(secret)
        if self._password_users is not None and name not in self._password_users:
            raise NotAuthenticated(
                "Password sign-in is turned off on this server; send an API key instead ('<name>:<API key>')."
            )
        # The digest covers name and password: a cached entry proves this exact pair was checked.
        digest = "b" + credentials.sha256_hex(f"{name}\x00{secret}")
        principal = await self._cached(digest, lambda: self._load_password(name, secret))
        if principal is None:
            raise NotAuthenticated("The user name or password is not valid.")
        return principal

    async def _cached(self, digest: str, load: Any) -> Principal | None:
        await self._refresh_if_due()
        if digest in self._cache:
            principal = self._cache[digest]
        else:
            principal = await load()
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = principal
        if principal is not None and principal.valid_until is not None and principal.valid_until <= utcnow():
            return None
        return principal

    async def _load_key(self, key_hash: str) -> Principal | None:
        async with self._database.read() as connection:
            row = await api_keys.find_key_holder(connection, key_hash)
        if row is None or row["disabled"]:
            return None
        return self._principal(row, via="api_key", key_id=row["key_id"], extra_expiry=row["key_expires_at"])

    async def _load_session(self, token_hash: str) -> Principal | None:
        async with self._database.read() as connection:
            row = await sessions.find_session_holder(connection, token_hash)
        if row is None or row["disabled"]:
            return None
        return self._principal(
            row,
            via="session",
            session_id=row["session_id"],
            csrf_token=row["csrf_token"],
            extra_expiry=row["session_expires_at"],
        )

    async def _load_password(self, name: str, password: str) -> Principal | None:
        async with self._database.read() as connection:
            row = await accounts.read_account_by_name(connection, "user", name)
        if not await credentials.verify_password(row["password_hash"] if row else None, password):
            return None
        assert row is not None
        if row["disabled"]:
            return None
        return self._principal(row, via="basic")

    def _principal(
        self, row: Mapping[str, Any], *, extra_expiry: dt.datetime | None = None, **fields: Any
    ) -> Principal:
        expiries = [when for when in (row.get("expires_at"), extra_expiry) if when is not None]
        return Principal(
            kind=row["kind"],
            name=row["name"],
            role=row["role"],
            permissions=self.role_permissions(row["role"]),
            id=row["id"],
            valid_until=min(expiries) if expiries else None,
            **fields,
        )

    def role_permissions(self, role: str) -> frozenset[str]:
        """What `role` grants: a built-in role's set, a custom role's as last loaded, nothing for an unknown one."""
        built_in = BUILT_IN_ROLES.get(role)
        if built_in is not None:
            return built_in
        return self._custom_roles.get(role, frozenset())

    # --- freshness ---------------------------------------------------------------------------------------------

    async def _refresh_if_due(self) -> None:
        if time.monotonic() - self._checked_at < self._refresh_seconds:
            return
        async with self._refresh_lock:
            if time.monotonic() - self._checked_at < self._refresh_seconds:
                return
            async with self._database.read() as connection:
                generation = await read_generation(connection)
                if generation != self._generation:
                    custom = await roles.read_custom_roles(connection)
            if generation != self._generation:
                self._cache.clear()
                self._custom_roles = {row["name"]: frozenset(row["permissions"]) for row in custom}
                self._generation = generation
            self._checked_at = time.monotonic()
        await self._flush_last_used_if_due()

    def forget(self) -> None:
        """Drop every cached credential now (this process made a change that takes a permission away)."""
        self._checked_at = 0.0
        self._generation = None

    def _note_key_used(self, key_id: uuid.UUID) -> None:
        self._keys_used[key_id] = utcnow()

    async def _flush_last_used_if_due(self) -> None:
        if not self._keys_used or time.monotonic() - self._last_used_flushed < LAST_USED_FLUSH_SECONDS:
            return
        used, self._keys_used = self._keys_used, {}
        self._last_used_flushed = time.monotonic()
        try:
            async with self._database.write() as connection:
                await api_keys.mark_keys_used(connection, used, max(used.values()))
        except Exception:  # noqa: BLE001 - a lost last-used time must not fail the request that triggered the write
            logger.warning("Could not record when %d API keys were last used.", len(used), exc_info=True)


def _same_secret(given: str, expected: str) -> bool:
    import hmac

    return hmac.compare_digest(given.encode(), expected.encode())
