"""Checking an OIDC ID token: its signature against the provider's keys, its issuer, audience, expiry and nonce.

Every refusal is an `IdTokenRefused` whose `reason` is one short word for the audit log (signature, issuer,
audience, expired, nonce, malformed) and whose message says what was wrong, never the token.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Collection, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, DecodeError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from baton.errors import NotAuthenticated

#: Asymmetric algorithms only: "none" and the HMAC family (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
#: Clock skew allowed between Baton and the provider, in seconds.
LEEWAY_SECONDS = 60
_CLAIM_REASONS = {"iss": "issuer", "aud": "audience", "azp": "audience", "exp": "expired", "nonce": "nonce"}


class IdTokenRefused(NotAuthenticated):
    """The ID token cannot be trusted; `reason` names the failed check."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def validate_id_token(
    token: str,
    keys: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: Collection[str] = SIGNING_ALGORITHMS,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of `token` once its signature (by one of the JWKS `keys`), issuer, audience, expiry and nonce are
    right; IdTokenRefused otherwise."""
    allowed = [name for name in algorithms if name in SIGNING_ALGORITHMS]
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(dict(keys)), algorithms=allowed)  # type: ignore[arg-type]
    except BadSignatureError:
        raise IdTokenRefused("signature", "The ID token's signature is not the identity provider's.") from None
    except DecodeError:
        raise IdTokenRefused("malformed", "The ID token is not a well-formed JWT.") from None
    except JoseError as exc:
        # An unknown key id, an algorithm not allowed, a token that is not a JWS at all.
        raise IdTokenRefused("signature", f"The ID token cannot be verified: {exc.description}") from None
    except ValueError:
        raise IdTokenRefused("malformed", "The ID token is not a well-formed JWT.") from None
    claims = dict(decoded.claims)
    registry = jwt.JWTClaimsRegistry(
        now=int(time.time() if now is None else now),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise IdTokenRefused("expired", "The ID token has expired; sign in again.") from None
    except MissingClaimError as exc:
        raise IdTokenRefused("malformed", f"The ID token lacks the claims {exc.claim}.") from None
    except ClaimError as exc:
        reason = _CLAIM_REASONS.get(exc.claim.split(",")[0], "malformed")
        raise IdTokenRefused(reason, f"The ID token's {exc.claim!r} claim is missing or not this server's.") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise IdTokenRefused("audience", "The ID token names other audiences and was not issued to this server.")
    if not isinstance(claims["nonce"], str) or not hmac.compare_digest(claims["nonce"].encode(), nonce.encode()):
        raise IdTokenRefused("nonce", "The ID token's nonce is not the one this sign-in sent (a replayed token?).")
    return claims
