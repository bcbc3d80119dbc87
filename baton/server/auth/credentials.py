"""Secrets Baton hands out or checks: API keys and session tokens (random, stored as SHA-256) and passwords (argon2id,
which is slow on purpose, so it runs off the event loop)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argon2

API_KEY_PREFIX = "baton_"
#: How many leading characters of a key are kept to recognise it in lists ("baton_" plus 6).
SHOWN_PREFIX_CHARS = 12
MIN_PASSWORD_CHARS = 8


@functools.cache
def _hasher() -> argon2.PasswordHasher:
    """argon2id with the library's RFC 9106 "low memory" parameters. Made on first use: a server with
    authentication off never hashes a password, and each hash costs 64 MiB for a moment."""
    import argon2

    return argon2.PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when an account does not exist, so that the answer takes as long as for one that does."""
    return _hasher().hash("baton-no-such-account")


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def shown_prefix(key: str) -> str:
    return key[:SHOWN_PREFIX_CHARS]


def new_token() -> str:
    """A session token or CSRF token: 256 random bits."""
    return secrets.token_urlsafe(32)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def password_problem(password: str) -> str | None:
    """Why `password` cannot be used, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"A password has at least {MIN_PASSWORD_CHARS} characters."
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (no such account) it still spends the time of one check."""
    return await asyncio.get_running_loop().run_in_executor(None, _verify, password_hash, password)
