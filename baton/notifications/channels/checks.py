"""Checks of block data shared by the channels; each returns the problems it finds as sentences for a person."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def text(data: Mapping[str, Any], field: str, *, required: bool = True) -> list[str]:
    """Problems of a text field: missing or blank when required, or not text."""
    value = data.get(field)
    if value is None or value == "":
        return [f"{field} is required"] if required else []
    if not isinstance(value, str):
        return [f"{field} must be text"]
    if required and not value.strip():
        return [f"{field} is required"]
    return []


def web_url(data: Mapping[str, Any], field: str = "url", *, https_only: bool = True) -> list[str]:
    """Problems of a URL field; with `https_only`, plain http is accepted for a loopback host only (local proxies)."""
    problems = text(data, field)
    if problems:
        return problems
    try:
        parts = urlsplit(data[field].strip())
        host = parts.hostname
    except ValueError:
        return [f"{field} is not a valid URL"]
    if https_only and not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)):
        return [f"{field} must be an https:// URL"]
    if parts.scheme not in ("http", "https"):
        return [f"{field} must be an http:// or https:// URL"]
    if not host:
        return [f"{field} must include a host name"]
    return []


def text_list(data: Mapping[str, Any], field: str, *, required: bool = False, what: str = "value") -> list[str]:
    """Problems of a list of text: not a list, an empty or non-text item, or empty when `required`."""
    value = data.get(field)
    if value is None or value == []:
        return [f"{field} must list at least one {what}"] if required else []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        return [f"{field} must be a list of {what}s"]
    return []


def text_map(data: Mapping[str, Any], field: str) -> list[str]:
    """Problems of an optional mapping of text to text (headers, details)."""
    value = data.get(field)
    if value is None:
        return []
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        return [f"{field} must map names to text values"]
    return []


def choice(data: Mapping[str, Any], field: str, choices: tuple[Any, ...]) -> list[str]:
    """Problems of an optional field limited to `choices`."""
    value = data.get(field)
    if value is None or value in choices:
        return []
    return [f"{field} must be one of {', '.join(str(option) for option in choices)}"]


def is_public_address(address: str) -> bool:
    """Whether an IP address is reachable on the public internet (not loopback, private, link-local or reserved)."""
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global
