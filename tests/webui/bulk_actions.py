"""Steps the runs tables' bulk-action tests share: take an action through its confirmation dialog."""

from __future__ import annotations

from typing import Any


def confirm_bulk_action(page: Any, action: str, question: str) -> str:
    """Click the `action` bulk button, check the confirmation asks `question`, confirm, and wait for the answer: the
    flash message's text."""
    page.click(f"button[data-bulk={action}]")
    assert page.locator("#confirm-message").inner_text() == question
    page.click("#confirm-ok")
    flash = page.locator("#flash")
    flash.wait_for(state="visible")
    return str(flash.inner_text())
