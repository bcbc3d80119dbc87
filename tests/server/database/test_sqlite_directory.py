"""The SQLite database's folder is created on first use, and a folder that cannot be created is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from baton.errors import SettingsError
from baton.server.database.dialects.sqlite import ensure_database_directory


@pytest.mark.parametrize("template", ["sqlite+aiosqlite:///{}", "sqlite+aiosqlite:///file:{}?mode=rwc&uri=true"])
def test_the_folder_of_a_file_database_is_created(template: str, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "baton.db"
    ensure_database_directory(sa.make_url(template.format(target)))
    assert target.parent.is_dir()
    assert not target.exists()


def test_a_folder_that_cannot_be_created_is_a_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingsError, match=f"Cannot create the folder {blocker}/sub"):
        ensure_database_directory(sa.make_url(f"sqlite+aiosqlite:///{blocker}/sub/baton.db"))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true&check_same_thread=false",
        # A named memory database whose name looks like a path: a folder "file:named" must not appear.
        "sqlite+aiosqlite:///file:named/baton?mode=memory&cache=shared&uri=true",
    ],
)
def test_memory_databases_need_no_folder(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A memory database's name is not a path: nothing may appear in the working directory.
    monkeypatch.chdir(tmp_path)
    ensure_database_directory(sa.make_url(url))
    assert list(tmp_path.iterdir()) == []
