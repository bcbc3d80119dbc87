"""The sub-path helpers (baton.server.base_path) and the setting that names the sub-path."""

from __future__ import annotations

import pytest

from baton.errors import SettingsError
from baton.server.base_path import prefix_page_urls, strip_base_path, with_base_path
from baton.settings import load_settings


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/orchestrator", "/"),
        ("/orchestrator?next=/runs", "/?next=/runs"),
        ("/orchestrator/", "/"),
        ("/orchestrator/api/health", "/api/health"),
        ("/orchestratorx/api/health", None),
        ("/api/health", None),
        ("/", None),
    ],
)
def test_strip_base_path(path: str, expected: str | None) -> None:
    assert strip_base_path("/orchestrator", path) == expected


def test_no_base_path_changes_nothing() -> None:
    assert strip_base_path("", "/api/health") == "/api/health"
    assert with_base_path("", "/runs") == "/runs"
    assert prefix_page_urls("", '<a href="/runs">') == '<a href="/runs">'


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/runs?state=Failed", "/orchestrator/runs?state=Failed"),
        ("//evil.example/x", "//evil.example/x"),
        ("https://docs.prefect.io/", "https://docs.prefect.io/"),
        ("?page=2", "?page=2"),
    ],
)
def test_with_base_path(url: str, expected: str) -> None:
    assert with_base_path("/orchestrator", url) == expected


def test_prefix_page_urls_touches_addresses_only() -> None:
    page = (
        '<a href="/runs">Runs</a> <img src=\'/ui-static/x.svg\'> <form action="/login" method="post">'
        '<button data-then="/flows" data-api-path="/flows/1">Delete</button> <a href="//cdn.example/x">'
        '<a href="https://example.com/a">x</a> <a href="#main">skip</a> <code>href="/not-an-attribute"</code>'
        '<div data-stream-url="/runs/flow-run/1/stream?logs=1"></div>'
    )
    assert prefix_page_urls("/orchestrator", page) == (
        "<a href=\"/orchestrator/runs\">Runs</a> <img src='/orchestrator/ui-static/x.svg'> "
        '<form action="/orchestrator/login" method="post">'
        '<button data-then="/orchestrator/flows" data-api-path="/flows/1">Delete</button> <a href="//cdn.example/x">'
        '<a href="https://example.com/a">x</a> <a href="#main">skip</a> <code>href="/not-an-attribute"</code>'
        '<div data-stream-url="/orchestrator/runs/flow-run/1/stream?logs=1"></div>'
    )


@pytest.mark.parametrize("value", ["orchestrator", "/orchestrator/", "/a//b", "/a?b", "/a b"])
def test_a_bad_base_path_is_refused(value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("BATON_HOME", str(tmp_path))
    monkeypatch.setenv("BATON_SERVER_BASE_PATH", value)
    with pytest.raises(SettingsError, match="sub-path"):
        load_settings()


def test_the_default_ui_address_includes_the_base_path(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("BATON_HOME", str(tmp_path))
    monkeypatch.setenv("BATON_SERVER_BASE_PATH", "/orchestrator")
    assert load_settings().effective_ui_url == "http://127.0.0.1:4200/orchestrator"
