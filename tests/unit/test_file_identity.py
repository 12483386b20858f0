"""The database file's identity (store/file_identity.py): what a daemon records when it
opens its SQLite file and compares before each burst, so that a file deleted or replaced
under it is noticed (issue 15, "A database that disappears")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from upload_scheduler.store.file_identity import (
    FileIdentity,
    OpenedFile,
    change,
    database_file,
    identity_of,
    record,
)


def _url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


def test_the_file_of_an_sqlite_url_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_file("sqlite:///data/us.db") == tmp_path / "data" / "us.db"
    assert database_file(_url(tmp_path / "x.db")) == tmp_path / "x.db"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:shared?mode=memory&uri=true",
        "postgresql+psycopg://u:p@localhost/db",
    ],
)
def test_no_file_to_watch(url: str) -> None:
    assert database_file(url) is None
    assert record(url) is None


def test_a_missing_file_is_not_recorded(tmp_path: Path) -> None:
    assert identity_of(tmp_path / "none.db") is None
    assert identity_of(tmp_path / "none" / "deeper.db") is None
    assert record(_url(tmp_path / "none.db")) is None


def test_the_same_file_is_unchanged_even_when_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "us.db"
    path.write_bytes(b"one")
    opened, identity = record(_url(path)), identity_of(path)
    assert identity is not None and opened == OpenedFile(path, identity)
    path.write_bytes(b"two, longer")  # `cp backup us.db` writes into the same file
    assert change(opened) is None


def test_a_deleted_file_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "us.db"
    path.write_bytes(b"db")
    opened = record(_url(path))
    assert opened is not None
    path.unlink()
    assert change(opened) == "is gone (deleted or moved away)"


def test_a_moved_folder_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "data" / "us.db"
    path.parent.mkdir()
    path.write_bytes(b"db")
    opened = record(_url(path))
    assert opened is not None
    path.parent.rename(tmp_path / "elsewhere")
    assert change(opened) == "is gone (deleted or moved away)"


def test_a_file_put_in_its_place_is_another_file(tmp_path: Path) -> None:
    """Deleted and re-created (the old `check-queue` did this), or another file moved
    over it: the path exists but the daemon's connections write elsewhere."""
    path = tmp_path / "us.db"
    path.write_bytes(b"db")
    opened = record(_url(path))
    assert opened is not None
    other = tmp_path / "other.db"
    other.write_bytes(b"db")
    # Keep the old file alive (as the daemon's open connection does), so its inode
    # cannot be reused by the new one.
    with path.open("rb"):
        os.replace(other, path)
        assert change(opened) == "was replaced by another file"


def test_identity_is_device_and_inode(tmp_path: Path) -> None:
    path = tmp_path / "us.db"
    path.write_bytes(b"db")
    st = os.stat(path)
    assert identity_of(path) == FileIdentity(st.st_dev, st.st_ino)
