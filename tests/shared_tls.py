"""One TLS context for every httpx client the tests make.

httpx builds a new context for each client, parsing the whole CA bundle each time, which costs more CPU than most
requests a test sends; the tests make thousands of clients (a health poll every 0.1 s while a server starts, one per
in-process API test, one per `httpx.get`), nearly all to loopback over plain HTTP, where the context is never used.
A client that asks for the default verification (`verify=True`) gets this one context instead: the same CA bundle,
loaded once per process. A client that passes its own `verify` keeps it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import httpx

DEFAULT_TLS = httpx.create_ssl_context()


def _with_shared_context(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, verify: Any = True, **kwargs: Any) -> None:
        init(self, *args, verify=DEFAULT_TLS if verify is True else verify, **kwargs)

    return wrapper


def install() -> None:
    """Make every httpx client in this process share `DEFAULT_TLS` (idempotent)."""
    for client_class in (httpx.Client, httpx.AsyncClient):
        if not getattr(client_class.__init__, "shares_tls_context", False):
            client_class.__init__ = _with_shared_context(client_class.__init__)  # type: ignore[method-assign]
            client_class.__init__.shares_tls_context = True  # type: ignore[attr-defined]
