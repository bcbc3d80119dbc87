"""The layout in a real browser: every sidebar link opens a page with a title, themes, local times, errors."""

from __future__ import annotations

import re
from typing import Any

import httpx

from baton.settings import Settings
from baton.webui.navigation import NAVIGATION
from baton.webui.pages.settings import retention_rows
from tests.webui.conftest import UiServer


def test_every_sidebar_link_opens_a_titled_page(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/settings")
    links = page.locator("nav.sidebar ul a")
    assert links.count() == len(NAVIGATION)
    for entry in NAVIGATION:
        response = page.goto(ui_server.url + entry.path)
        assert response.status == 200, entry.path
        assert page.title() == f"{entry.label} · Baton"
        current = page.locator('nav.sidebar a[aria-current="page"]')
        assert current.count() == 1 and current.inner_text() == entry.label


def test_settings_page_shows_version_and_hides_secrets(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/settings")
    assert page.locator("dl.facts").inner_text().count("0.1.0") == 1
    table = page.locator("#all-settings").inner_text()
    assert "BATON_API_DATABASE_CONNECTION_URL" in table
    assert "BATON_SERVER_API_MAX_BODY_BYTES" in table
    # The test database has no password; the encryption key of blocks is a secret and must never show.
    html = httpx.get(ui_server.url + "/settings").text
    assert "-----BEGIN" not in html
    retention = page.locator("#retention tbody tr")
    assert retention.first.inner_text().split("\t")[1:] == ["90 days", "BATON_FLOW_RUNS_RETENTION_DAYS"]
    assert "365 days" in page.locator("#retention").inner_text()


def test_retention_of_zero_days_reads_kept_forever(tmp_path: Any) -> None:
    rows = {setting: kept for _, kept, setting in retention_rows(Settings(home=tmp_path, events_retention_days=0))}
    assert rows["BATON_EVENTS_RETENTION_DAYS"] == "Kept forever"
    assert rows["BATON_LOGS_RETENTION_DAYS"] == "30 days"


def test_theme_and_clock_preferences_persist(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/settings")
    page.select_option("#pref-theme", "dark")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.click("[data-action=toggle-theme]")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

    page.select_option("#pref-clock", "24")
    started = page.locator("dl.facts time").inner_text()
    assert re.search(r"\b([01]\d|2[0-3]):[0-5]\d:[0-5]\d\b", started), started
    assert "AM" not in started and "PM" not in started
    page.select_option("#pref-clock", "12")
    assert re.search(r"\b(AM|PM)\b", page.locator("dl.facts time").inner_text(), re.I)
    # The browser runs in Europe/Berlin: times are local and say which zone they are in.
    assert page.locator("#timezone-label").inner_text() == "Europe/Berlin"
    assert re.search(r"GMT\+1|CET", page.locator("dl.facts time").inner_text())


def test_unknown_page_is_a_404_page_that_escapes_the_path(page: Any, ui_server: UiServer) -> None:
    response = page.goto(ui_server.url + "/no-such-page/<b>x</b>")
    assert response.status == 404
    page.browser_errors.expect("404")
    assert page.title() == "Not found · Baton"
    assert page.locator("main b").count() == 0
    assert "<b>x</b>" in page.locator("main").inner_text() or "%3Cb%3Ex%3C/b%3E" in page.locator("main").inner_text()


def test_static_files_are_cached_by_content_hash(ui_server: UiServer) -> None:
    html = httpx.get(ui_server.url + "/settings").text
    css = re.search(r'href="(/ui-static/baton\.css\?v=[0-9a-f]{12})"', html)
    assert css, html[:500]
    response = httpx.get(ui_server.url + css.group(1))
    assert response.status_code == 200 and "max-age=31536000" in response.headers["Cache-Control"]
    assert httpx.get(ui_server.url + "/ui-static/../settings.py").status_code in (403, 404)


def test_with_authentication_off_there_is_nothing_to_sign_in_to(page: Any, ui_server: UiServer) -> None:
    response = httpx.get(ui_server.url + "/login", params={"next": "/runs"}, follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/runs"
    page.goto(ui_server.url + "/login")
    page.wait_for_url(ui_server.url + "/")
    assert page.locator("#signed-in").count() == 0
    assert page.get_attribute('meta[name="csrf-token"]', "content") == ""
    # Every write control is usable: the anonymous caller may do everything.
    page.goto(ui_server.url + "/variables")
    assert page.locator("text=New variable").count() == 1
    page.goto(ui_server.url + "/roles")
    assert page.locator("#role-form").count() == 1
