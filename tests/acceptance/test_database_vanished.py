"""A database that disappears (issue 15), through the real CLI: `rm data/us.db*` under a
running `upload-scheduler daemon` used to let it go on uploading into the deleted file
(every record lost, exit 0). It must notice at its next step, before another platform
call: an error line naming the file in its log, a notification, exit status 2. The same
when another file was put at the path (a copy moved there, a new database created).

The fake platform is a separate file, so its `calls` table tells what reached the
platform after the removal, whatever happened to the daemon's database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.daemon_helpers import DatabaseWorkspace, wait_for, workspace
from tests.notify_helpers import LocalServer, local_server

pytestmark = pytest.mark.acceptance

HOOK_PATH = "/hooks/db-lost"
EXIT_LIMIT_SECONDS = 5.0  # an item is three calls of 0.2 s: the in-flight one, then the stop


@pytest.fixture
def receiver() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


@pytest.fixture
def space(tmp_path: Path, receiver: LocalServer) -> Iterator[DatabaseWorkspace]:
    url = f"sqlite:///{(tmp_path / 'data' / 'us.db').as_posix()}"

    def make(root: Path) -> DatabaseWorkspace:
        return DatabaseWorkspace(root, database_url=url)

    with workspace(tmp_path, latency=0.2, make=make) as space:
        config = space.root / "upload-scheduler.toml"
        hook = receiver.url + HOOK_PATH
        with config.open("a", encoding="utf-8") as file:
            file.write(f'\n[notify]\nwebhook_url = "{hook}"\n')
        yield space


def _remove_database(space: DatabaseWorkspace, *, replace: bool) -> None:
    """`rm data/us.db*`: the database with its WAL and shared-memory files; `replace`:
    then a copy of it is moved to its path (a valid database, but another file)."""
    copy = space.database.with_name("copy.db")
    if replace:
        with (
            contextlib.closing(sqlite3.connect(space.database, timeout=10)) as source,
            contextlib.closing(sqlite3.connect(copy)) as target,
        ):
            source.backup(target)
    removed = sorted(space.database.parent.glob(space.database.name + "*"))
    assert space.database in removed
    for path in removed:
        path.unlink()
    if replace:
        os.replace(copy, space.database)


@pytest.mark.parametrize(
    ("replace", "what"),
    [(False, "is gone (deleted or moved away)"), (True, "was replaced by another file")],
    ids=["removed", "replaced"],
)
def test_a_lost_database_stops_the_daemon_before_another_upload(
    space: DatabaseWorkspace, receiver: LocalServer, replace: bool, what: str
) -> None:
    space.queue_products(20)
    daemon = space.start_daemon()
    wait_for(lambda: len(space.platform_calls("add")) >= 2, "the first uploads", timeout=10)

    _remove_database(space, replace=replace)
    removed_at = time.time()  # the fake platform records calls in epoch seconds

    try:
        code = daemon.wait(timeout=EXIT_LIMIT_SECONDS)
    except Exception:
        raise AssertionError(
            f"the daemon still runs {EXIT_LIMIT_SECONDS:g} s after its database was removed; "
            f"{len(space.platform_calls('add'))} upload(s) so far\n{space.log_text()}"
        ) from None
    log = space.log_text()
    assert code == 2, space.output_of(daemon) + log

    path = str(space.database)
    errors = [line for line in log.splitlines() if " ERROR " in line and path in line]
    assert errors, log
    assert f"{path} {what}" in errors[0], errors
    assert path in space.output_of(daemon)

    # Only the item already in flight may still reach the platform: its own calls (its
    # creation and its images), and no other item's.
    after = [call for call in space.platform_calls() if float(call["at"]) > removed_at]
    assert len({call["identifier"] for call in after}) <= 1, (after, log)
    assert sum(call["kind"] == "add" for call in after) <= 1, (after, log)
    assert "stopped after" in log  # a warm stop: leases released, notifier flushed

    messages = [str(seen.json()["text"]) for seen in receiver.wait_for_requests(1, timeout=5)]
    lost = [text for text in messages if path in text]
    assert lost, messages
    assert "database lost" in lost[0] and "db backup" in lost[0], lost
