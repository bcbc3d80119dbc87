"""Whether the server may listen where it is asked to: never on the network with authentication off, unless the
operator says so explicitly (`auth_allow_anonymous`), and then with a warning in the start banner."""

from __future__ import annotations

import ipaddress
import socket

from baton.errors import BatonError
from baton.settings import Settings


class ExposedWithoutAuthentication(BatonError):
    """The server was asked to listen on a network address with authentication off."""


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) reaches only this machine; "" and 0.0.0.0 mean every interface."""
    value = host.strip().strip("[]")
    if value.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(value).is_loopback
    except ValueError:
        pass
    if not value:
        return False
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(value, None)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses)


def check_listen_address(settings: Settings, host: str) -> str | None:
    """None when listening on `host` is safe; the banner's warning when it is allowed only by auth_allow_anonymous;
    ExposedWithoutAuthentication when it is refused."""
    if settings.auth_enabled or is_loopback(host):
        return None
    shown = host or "every interface"
    if settings.auth_allow_anonymous:
        return (
            f"WARNING: authentication is off and the server listens on {shown}: anyone who reaches this port can read "
            "every secret and change anything (BATON_AUTH_ALLOW_ANONYMOUS=true). Turn authentication on with "
            "BATON_AUTH_ENABLED=true."
        )
    raise ExposedWithoutAuthentication(
        f"Refusing to listen on {shown} with authentication off: anyone who reaches the port could read every "
        "secret and change anything. Turn authentication on with BATON_AUTH_ENABLED=true and create the first "
        "admin, either with `baton user create NAME --role admin` before starting the server, or by setting "
        "BATON_AUTH_BOOTSTRAP_ADMIN_KEY to an API key (the server then creates the admin service account "
        "`bootstrap-admin` holding it). Or listen on 127.0.0.1 only; or, to serve the network without "
        "authentication anyway, set BATON_AUTH_ALLOW_ANONYMOUS=true."
    )
