"""A sign-in in progress: its state, nonce, PKCE verifier and the page to return to, sealed (encrypted and signed
with Fernet) into the short-lived `baton_sso` cookie, so that any API process can finish a sign-in another began.

The key is generated on first use and kept in the `configuration` table, shared by every process of one database.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import BadRequest
from baton.server.models import configuration

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

FLOW_COOKIE = "baton_sso"
FLOW_KEY_NAME = "SSO_FLOW_KEY"
#: How long a person may spend at the identity provider's sign-in page before the callback is refused.
FLOW_SECONDS = 600


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    nonce: str
    code_verifier: str
    next_path: str

    @classmethod
    def start(cls, next_path: str) -> PendingSignIn:
        # 48 bytes of verifier: 64 characters, within PKCE's 43 to 128.
        return cls(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48), next_path)


async def flow_key(connection: AsyncConnection) -> Fernet:
    """The cookie's key: read, or made and stored on the first sign-in (so a write connection)."""
    # Imported on first use, as the block cipher does: cryptography's OpenSSL bindings weigh on an idle server.
    from cryptography.fernet import Fernet

    stored = await configuration.read_configuration(connection, FLOW_KEY_NAME)
    if stored is None:
        stored = await configuration.create_configuration(
            connection, FLOW_KEY_NAME, {"fernet_key": Fernet.generate_key().decode()}
        )
    return Fernet(stored["fernet_key"])


def seal(key: Fernet, pending: PendingSignIn) -> str:
    return key.encrypt(orjson.dumps(asdict(pending))).decode()


def unseal(key: Fernet, cookie: str | None, state: str | None) -> PendingSignIn:
    """The sign-in this browser started and whose state the provider sent back; BadRequest for a callback this
    server did not ask for (no cookie, a forged or stale one, another state)."""
    from cryptography.fernet import InvalidToken

    if not cookie or not state:
        raise BadRequest("This sign-in was not started here or has expired; start it again from the sign-in page.")
    try:
        pending = PendingSignIn(**orjson.loads(key.decrypt(cookie.encode(), ttl=FLOW_SECONDS)))
    except (InvalidToken, ValueError, TypeError):
        raise BadRequest("This sign-in has expired or was not started here; start it again.") from None
    if not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise BadRequest("The sign-in's state does not match the one this browser was given; start it again.")
    return pending
