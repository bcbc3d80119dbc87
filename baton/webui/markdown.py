"""A small, safe Markdown renderer for artifacts: headings, paragraphs, lists, quotes, code, pipe tables, emphasis
and links.

Safe by construction: every piece of the source is HTML-escaped before anything else happens, the only tags in the
output are the ones this module writes, and only http(s) links become clickable. Raw HTML in the source is shown as
text, as are constructs outside the subset.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tornado.escape import xhtml_escape

# Deeper quotes are flattened (a hostile document could nest thousands).
MAX_QUOTE_DEPTH = 5
# Longer sources are shown as plain text: every pattern here is linear, but a page must stay quick to render.
MAX_RENDERED_CHARACTERS = 200_000

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(<?([^()\s<>]+)>?(?: \"[^\"()]*\")?\)")
_STRONG = re.compile(r"\*\*(?=[^\s*])([^*]+)(?<=\S)\*\*|__(?=[^\s_])([^_]+)(?<=\S)__")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=[^\s_])([^_]+)(?<=\S)_(?![\w_])")
_CODE_SPAN = re.compile(r"`([^`]+)`")


def is_web_url(url: str) -> bool:
    """True for an absolute http or https URL: the only kind the UI turns into a link from user data."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def render_markdown(text: str) -> str:
    """`text` as HTML (see the module docstring for what is understood)."""
    if len(text) > MAX_RENDERED_CHARACTERS:
        return "<pre>" + xhtml_escape(text) + "</pre>"
    return _blocks(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 0)


def _blocks(lines: list[str], depth: int) -> str:
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(_inline(line.strip()) for line in paragraph) + "</p>")
            paragraph.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            flush()
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            flush()
            end = index + 1
            while end < len(lines) and not lines[end].strip().startswith(fence.group(1)):
                end += 1
            out.append("<pre><code>" + xhtml_escape("\n".join(lines[index + 1 : end])) + "</code></pre>")
            index = end + 1
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            text = heading.group(2).rstrip().rstrip("#").rstrip()
            out.append(f"<h{level}>{_inline(text)}</h{level}>")
            index += 1
            continue
        if _RULE.match(line):
            flush()
            out.append("<hr>")
            index += 1
            continue
        if _QUOTE.match(line):
            flush()
            quoted = []
            while index < len(lines) and (match := _QUOTE.match(lines[index])):
                quoted.append(match.group(1))
                index += 1
            inner = _blocks(quoted, depth + 1) if depth < MAX_QUOTE_DEPTH else _inline(" ".join(quoted))
            out.append(f"<blockquote>{inner}</blockquote>")
            continue
        if _BULLET.match(line) or _NUMBERED.match(line):
            flush()
            pattern, tag = (_BULLET, "ul") if _BULLET.match(line) else (_NUMBERED, "ol")
            items: list[str] = []
            while index < len(lines) and lines[index].strip():
                match = pattern.match(lines[index])
                if match:
                    items.append(match.group(1))
                elif lines[index][:1].isspace():  # an indented continuation of the item above
                    items[-1] += " " + lines[index].strip()
                else:
                    break
                index += 1
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + f"</{tag}>")
            continue
        if "|" in line and index + 1 < len(lines) and _TABLE_DIVIDER.match(lines[index + 1]):
            flush()
            header = _cells(line)
            rows = []
            index += 2
            while index < len(lines) and "|" in lines[index] and lines[index].strip():
                rows.append(_cells(lines[index]))
                index += 1
            out.append(_table(header, rows))
            continue
        paragraph.append(line)
        index += 1
    flush()
    return "\n".join(out)


def _cells(line: str) -> list[str]:
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", stripped)]


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{_inline(cell)}</th>' for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in (row + [""] * len(header))[: len(header)]) + "</tr>"
        for row in rows
    )
    return f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _inline(text: str) -> str:
    """Code spans, links and emphasis in one line; everything else escaped."""
    pieces = _CODE_SPAN.split(text)
    out = []
    # split() with one group alternates: text, code, text, code, ..., text
    for position, piece in enumerate(pieces):
        out.append("<code>" + xhtml_escape(piece.strip()) + "</code>" if position % 2 else _links(piece))
    return "".join(out)


def _links(text: str) -> str:
    out = []
    last = 0
    for match in _LINK.finditer(text):
        out.append(_emphasis(xhtml_escape(text[last : match.start()])))
        label, url = match.group(1), match.group(2)
        if is_web_url(url):
            out.append(
                f'<a href="{xhtml_escape(url)}" rel="noopener noreferrer nofollow">{_emphasis(xhtml_escape(label))}</a>'
            )
        else:  # not a web address: shown, not followed
            out.append(_emphasis(xhtml_escape(label)) + " (" + xhtml_escape(url) + ")")
        last = match.end()
    out.append(_emphasis(xhtml_escape(text[last:])))
    return "".join(out)


def _emphasis(escaped: str) -> str:
    """Bold and italic on already-escaped text (the markers are not characters that escaping changes)."""
    escaped = _STRONG.sub(lambda match: f"<strong>{match.group(1) or match.group(2)}</strong>", escaped)
    return _EMPHASIS.sub(lambda match: f"<em>{match.group(1) or match.group(2)}</em>", escaped)
