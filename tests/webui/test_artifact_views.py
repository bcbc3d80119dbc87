"""How artifact data is read for display: the table shapes the Prefect client writes, links, progress, previews."""

from __future__ import annotations

import json

from baton.webui.artifact_views import as_image_url, as_link, as_progress, as_table, as_text, preview


def test_tables_in_the_three_shapes_the_client_writes() -> None:
    rows = as_table(json.dumps([{"a": 1, "b": "<x>"}, {"a": None, "c": [1, 2]}]))
    assert rows is not None and rows.columns == ["a", "b", "c"]
    assert rows.rows == [["1", "<x>", ""], ["", "", "[1,2]"]] and rows.total_rows == 2
    columns = as_table({"name": ["x", "y"], "n": [1]})
    assert columns is not None and columns.columns == ["name", "n"] and columns.rows == [["x", "1"], ["y", ""]]
    lists = as_table([[1, 2], [3]])
    assert lists is not None and lists.columns == ["0", "1"] and lists.rows == [["1", "2"], ["3", ""]]
    assert as_table("not json") is None and as_table({"a": 1}) is None and as_table(42) is None


def test_links_only_clickable_for_web_urls() -> None:
    assert as_link("[Docs](https://example.com/x)") == as_link("[Docs](https://example.com/x)")
    link = as_link("[Docs](https://example.com/x)")
    assert (link.text, link.url, link.clickable) == ("Docs", "https://example.com/x", True)
    bare = as_link("https://example.com")
    assert (bare.text, bare.clickable) == ("https://example.com", True)
    hostile = as_link("[open](javascript:alert(1))")
    assert (hostile.text, hostile.url, hostile.clickable) == ("open", "javascript:alert(1)", False)
    assert not as_link({"not": "a link"}).clickable


def test_progress_images_text_and_previews() -> None:
    assert as_progress(42.5) == 42.5 and as_progress(150) == 100.0 and as_progress(-1) == 0.0
    assert as_progress("37") == 37.0 and as_progress(True) is None and as_progress("x") is None
    assert as_image_url("https://example.com/a.png") == "https://example.com/a.png"
    assert as_image_url("javascript:alert(1)") is None
    assert as_text({"a": 1}) == '{\n  "a": 1\n}' and as_text("plain") == "plain"
    assert preview("line one\n\nline two") == "line one line two"
    assert preview({"a": 1}) == '{"a":1}' and len(preview("x" * 500, 20)) == 20
