"""Serving under a sub-path (`BATON_SERVER_BASE_PATH`, e.g. /orchestrator) behind a proxy that passes paths through.

Inside the server every path is an *application path* (`/api/flows/`, `/runs`): the prefix is taken off each request
before routing (`strip_base_path`) and put back on every address the server sends out: redirects and cookie paths
(`with_base_path`), the URL attributes of rendered pages (`prefix_page_urls`), the OpenAPI document's `servers`, and
the prefix the UI's scripts read from `<body data-base-path>`. Routes, permissions and the browser guard therefore
never see the prefix.
"""

from __future__ import annotations

import re

# The attributes of a rendered page that hold an address to follow: links, sources, form targets, and the two
# data- attributes the UI's scripts navigate to or open. Other data- attributes hold API paths (relative to /api),
# which the scripts prefix themselves.
URL_ATTRIBUTE = re.compile(r"""(\s(?:href|src|action|formaction|data-then|data-stream-url)=)(["'])/(?![/\\])""")


def strip_base_path(base_path: str, path: str) -> str | None:
    """The application path of a request for `path`, or None when `path` is not under `base_path`."""
    if not base_path:
        return path
    if path == base_path or path.startswith(base_path + "?"):
        return "/" + path[len(base_path) :]
    if path.startswith(base_path + "/"):
        return path[len(base_path) :]
    return None


def with_base_path(base_path: str, url: str) -> str:
    """`url` as the client must ask for it: an application path gets the prefix; anything else (a full URL, a
    protocol-relative `//host`, a relative or query-only reference) is left as it is."""
    if base_path and url.startswith("/") and not url.startswith("//"):
        return base_path + url
    return url


def prefix_page_urls(base_path: str, html: str) -> str:
    """`html` with every application path in a URL attribute (see `URL_ATTRIBUTE`) given the prefix. Attribute
    values are escaped when rendered, so a quote always ends one."""
    if not base_path:
        return html
    return URL_ATTRIBUTE.sub(lambda match: f"{match.group(1)}{match.group(2)}{base_path}/", html)
