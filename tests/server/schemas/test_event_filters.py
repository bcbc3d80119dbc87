"""Label patterns: globs as `fnmatch.fnmatchcase` reads them, negated by a leading `!`."""

from __future__ import annotations

import fnmatch

import pytest

from baton.server.schemas.event_filters import label_matches

PATTERNS = ["prefect.flow-run.1", "prefect.flow-run.*", "prefect.*.1", "*", "a?c", "a[bc]d", "a[!b]d", "ab*", "ab**"]
VALUES = ["prefect.flow-run.1", "prefect.flow-run.", "prefect.flow-run.2\nx", "prefect.task-run.1", "", "abc", "acd"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_label_pattern_matches_as_fnmatch_does(pattern: str) -> None:
    for value in VALUES:
        assert label_matches(pattern, value) is fnmatch.fnmatchcase(value, pattern), value
        assert label_matches(f"!{pattern}", value) is not fnmatch.fnmatchcase(value, pattern), value
    assert label_matches(pattern, None) is False
    assert label_matches(f"!{pattern}", None) is False
