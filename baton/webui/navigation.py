"""The sidebar's entries and the URLs of the UI's static files."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC_PATH = Path(__file__).parent / "static"
STATIC_PREFIX = "/ui-static/"


@dataclass(frozen=True)
class NavigationEntry:
    label: str
    path: str

    def is_current(self, request_path: str) -> bool:
        if self.path == "/":
            return request_path == "/"
        return request_path == self.path or request_path.startswith(self.path + "/")


NAVIGATION = (
    NavigationEntry("Dashboard", "/"),
    NavigationEntry("Runs", "/runs"),
    NavigationEntry("Flows", "/flows"),
    NavigationEntry("Deployments", "/deployments"),
    NavigationEntry("Work Pools", "/work-pools"),
    NavigationEntry("Blocks", "/blocks"),
    NavigationEntry("Variables", "/variables"),
    NavigationEntry("Artifacts", "/artifacts"),
    NavigationEntry("Concurrency", "/concurrency"),
    NavigationEntry("Notifications", "/notifications"),
    NavigationEntry("Events", "/events"),
    NavigationEntry("Settings", "/settings"),
)


@functools.cache
def _content_hash(name: str) -> str:
    return hashlib.sha256((STATIC_PATH / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The URL of a static file with its content hash, so browsers may cache it for a year."""
    return f"{STATIC_PREFIX}{name}?v={_content_hash(name)}"
