"""ID token checks with tokens crafted by the test with keys of its own: each wrong issuer, audience, nonce,
signature, expiry and algorithm is refused with its reason, and the right token is accepted."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from baton.server.auth.sso.id_token import IdTokenRefused, validate_id_token

ISSUER = "https://idp.example.com/realms/acme"
CLIENT_ID = "baton"
NONCE = "nonce-of-this-sign-in"
NOW = int(time.time())
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1"}, private=True)
ATTACKER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-1"}, private=True)
JWKS = KeySet([PROVIDER_KEY]).as_dict(private=False)


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "u-1", "exp": NOW + 300, "iat": NOW, "nonce": NONCE}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _token(claims: dict[str, Any], key: Any = PROVIDER_KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": "provider-1"}, claims, key, algorithms=[alg])


def _check(token: str, **options: Any) -> dict[str, Any]:
    # Checked at the tokens' own clock (NOW): a long suite runs this module many minutes after it made the tokens.
    options.setdefault("now", NOW)
    return validate_id_token(token, JWKS, issuer=ISSUER, client_id=CLIENT_ID, nonce=NONCE, **options)


def test_a_token_from_the_provider_for_this_client_and_sign_in_is_accepted() -> None:
    claims = _check(_token(_claims(groups=["data"], aud=[CLIENT_ID])))
    assert (claims["sub"], claims["groups"]) == ("u-1", ["data"])


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_token(_claims(aud="another-app")), "audience"),
        (_token(_claims(aud=["another-app", CLIENT_ID])), "audience"),  # several audiences and no azp: not ours
        (_token(_claims(iss="https://evil.example.com")), "issuer"),
        (_token(_claims(nonce="a-replayed-nonce")), "nonce"),
        (_token(_claims(), key=ATTACKER_KEY), "signature"),  # the provider's key id, another key
        (_token(_claims(exp=NOW - 3600)), "expired"),
        (_token(_claims(exp=None)), "malformed"),
        (_token(_claims(nonce=None)), "malformed"),
        (_token(_claims(), key=OctKey.import_key("client-secret-" * 3), alg="HS256"), "signature"),
        ("not.a.token", "malformed"),
    ],
    ids=[
        "wrong-audience",
        "other-audiences",
        "wrong-issuer",
        "wrong-nonce",
        "bad-signature",
        "expired",
        "no-expiry",
        "no-nonce",
        "hmac",
        "garbage",
    ],
)
def test_a_token_that_cannot_be_trusted_is_refused(token: str, reason: str) -> None:
    with pytest.raises(IdTokenRefused) as refused:
        _check(token)
    assert refused.value.reason == reason


def test_unsigned_and_unlisted_algorithms_are_refused() -> None:
    header, payload, _ = _token(_claims()).split(".")
    unsigned = "eyJhbGciOiJub25lIn0." + payload + "."
    with pytest.raises(IdTokenRefused, match="none"):
        _check(unsigned)
    ec_key = ECKey.generate_key("P-256", parameters={"kid": "ec"}, private=True)
    ec_token = jwt.encode({"alg": "ES256", "kid": "ec"}, _claims(), ec_key)
    ec_jwks = KeySet([ec_key]).as_dict(private=False)
    kwargs = {"issuer": ISSUER, "client_id": CLIENT_ID, "nonce": NONCE, "now": NOW}
    assert validate_id_token(ec_token, ec_jwks, algorithms=["ES256"], **kwargs)["sub"] == "u-1"
    with pytest.raises(IdTokenRefused):  # the provider's discovery document does not list ES256
        validate_id_token(ec_token, ec_jwks, algorithms=["RS256"], **kwargs)


def test_a_token_a_little_past_its_expiry_passes_within_the_clock_leeway() -> None:
    assert _check(_token(_claims(exp=NOW - 30)))["sub"] == "u-1"
    with pytest.raises(IdTokenRefused, match="expired"):
        _check(_token(_claims(exp=NOW - 30)), now=NOW + 120)
