"""The artifact Markdown renderer: the subset it understands, and nothing from the source ever becomes markup."""

from __future__ import annotations

import re
import time

import pytest

from baton.webui.markdown import is_web_url, render_markdown

ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "strong", "em", "code", "pre", "a", "ul", "ol", "li"}
ALLOWED_TAGS |= {"blockquote", "hr", "table", "thead", "tbody", "tr", "th", "td"}


def test_the_subset() -> None:
    html = render_markdown(
        "# Title\n\nSome **bold**, *italic*, `co<de>` and [a link](https://example.com/a?b=1&c=2).\n"
        "\n- one\n  more\n- two\n1. first\n\n> quoted\n\n```\n<raw> & code\n```\n"
        "\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\n---\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html and "<code>co&lt;de&gt;</code>" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">a link</a>' in html
    assert "<ul><li>one more</li><li>two</li></ul>" in html and "<ol><li>first</li></ol>" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html
    assert "<pre><code>&lt;raw&gt; &amp; code</code></pre>" in html
    assert '<th scope="col">a</th>' in html and "<td>2</td>" in html and "<hr>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '[x](https://ok.example" onmouseover="alert(1))',
        "| <iframe src=x> | b |\n|---|---|\n| <svg onload=alert(1)> | c |",
        "# <style>body{}</style>",
        "**<b>nested</b>**",
        "> " * 50 + "<script>deep</script>",
    ],
)
def test_source_never_becomes_markup(source: str) -> None:
    html = render_markdown(source)
    tags = re.findall(r"<(/?[a-zA-Z0-9]+)([^>]*)>", html)
    assert {name.lstrip("/") for name, _ in tags} <= ALLOWED_TAGS, html
    for _, attributes in tags:
        # The only attributes are the renderer's own: scope on headers, and href/rel on http(s) links.
        assert re.fullmatch(r'( (scope="col"|class="table"|href="https?://[^"<>]*"|rel="[a-z ]+"))*', attributes), html


def test_web_urls() -> None:
    assert is_web_url("https://example.com") and is_web_url("HTTP://example.com/x")
    assert not is_web_url("javascript:alert(1)") and not is_web_url("/relative") and not is_web_url("https://")
    assert not is_web_url("ftp://example.com") and not is_web_url("http://[::1")


@pytest.mark.parametrize("source", ["*a " * 60_000, "_a " * 60_000, "**a " * 40_000, "[a" * 90_000, "`" * 190_000])
def test_hostile_sources_render_in_linear_time(source: str) -> None:
    # Each of these took tens of seconds with backtracking patterns; an artifact page must stay quick.
    started = time.perf_counter()
    render_markdown(source)
    assert time.perf_counter() - started < 1.0


def test_very_long_sources_are_plain_text() -> None:
    html = render_markdown("# x <b>\n" * 30_000)
    assert html.startswith("<pre>") and "<h1>" not in html and "&lt;b&gt;" in html
