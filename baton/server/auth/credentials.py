"""Secrets Baton hands out or checks: API keys and session tokens (random, stored as SHA-256) and passwords (argon2id,
which is slow on purpose, so it runs off the event loop)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

import argon2

API_KEY_PREFIX = "baton_"
#: How many leading characters of a key are kept to recognise it in lists ("baton_" plus 6).
SHOWN_PREFIX_CHARS = 12
MIN_PASSWORD_CHARS = 8

_hasher = argon2.PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" parameters
# Verified against when an account does not exist, so that the answer takes as long as for one that does.
_DUMMY_HASH = _hasher.hash("baton-no-such-account")


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
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (no such account) it still spends the time of one check."""
    return await asyncio.get_running_loop().run_in_executor(None, _verify, password_hash, password)
