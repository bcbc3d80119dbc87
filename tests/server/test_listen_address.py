"""Which addresses count as this machine only, and what the server says about the others with authentication off."""

from __future__ import annotations

import pytest

from baton.server.listen_address import ExposedWithoutAuthentication, check_listen_address, is_loopback
from baton.settings import Settings


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("name.invalid", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_check_listen_address() -> None:
    assert check_listen_address(Settings(), "127.0.0.1") is None
    assert check_listen_address(Settings(auth_enabled=True), "0.0.0.0") is None
    with pytest.raises(ExposedWithoutAuthentication, match="BATON_AUTH_ENABLED=true"):
        check_listen_address(Settings(), "192.168.1.10")
    warning = check_listen_address(Settings(auth_allow_anonymous=True), "")
    assert warning is not None and "every interface" in warning
