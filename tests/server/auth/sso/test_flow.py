"""The sealed sign-in cookie: the callback takes only the state this browser was given, within the time allowed."""

from __future__ import annotations

import time
from dataclasses import asdict

import orjson
import pytest
from cryptography.fernet import Fernet

from baton.errors import BadRequest
from baton.server.auth.sso.flow import FLOW_SECONDS, PendingSignIn, seal, unseal

KEY = Fernet(Fernet.generate_key())


def test_the_callback_gets_back_what_the_start_sealed() -> None:
    pending = PendingSignIn.start("/runs")
    assert unseal(KEY, seal(KEY, pending), pending.state) == pending
    assert 43 <= len(pending.code_verifier) <= 128  # RFC 7636


@pytest.mark.parametrize("case", ["no cookie", "other state", "other key", "tampered", "stale"])
def test_a_callback_this_server_did_not_start_is_refused(case: str) -> None:
    pending = PendingSignIn.start("/")
    sealed = seal(KEY, pending)
    state = pending.state
    key = KEY
    if case == "no cookie":
        sealed = ""
    elif case == "other state":
        state = PendingSignIn.start("/").state
    elif case == "other key":
        key = Fernet(Fernet.generate_key())
    elif case == "tampered":
        sealed = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    else:
        sealed = KEY.encrypt_at_time(orjson.dumps(asdict(pending)), int(time.time()) - FLOW_SECONDS - 5).decode()
    with pytest.raises(BadRequest):
        unseal(key, sealed, state)
