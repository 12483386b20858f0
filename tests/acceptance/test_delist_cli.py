"""`delist` as a user runs it: items uploaded by a real daemon process on the file-backed
fake platform are deleted by the same running daemon once delete jobs are queued.

On SQLite only, like the other tests with a daemon process: the delist itself and the
daemon's delete jobs run on SQLite and PostgreSQL in tests/integration/test_delist.py."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import PLATFORM, stop, wait_for, workspace

pytestmark = pytest.mark.acceptance


def test_delist_queues_delete_jobs_that_the_running_daemon_carries_out(tmp_path: Path) -> None:
    with workspace(tmp_path, latency=0.0) as space:
        asins = space.queue_products(4, prefix="B0DELIST")
        daemon = space.start_daemon()
        wait_for(lambda: set(space.statuses().values()) == {"success"}, "the uploads")

        usage = run_cli("delist", "--platform", PLATFORM, cwd=tmp_path)
        assert usage.returncode == 2 and "exactly one of" in usage.stderr
        dry = run_cli(
            "delist", "--platform", PLATFORM, "--asin", asins[0], "--dry-run", cwd=tmp_path
        )
        assert dry.returncode == 0, dry.stderr
        assert "Would queue 1 delete job(s)" in dry.stdout and "Dry run" in dry.stdout
        assert len(space.queue()) == 4

        wanted = tmp_path / "asins.txt"
        wanted.write_text(f"# restricted items\n{asins[0]}\n{asins[2]}\nB0UNKNOWN1\n", "utf-8")
        done = run_cli("delist", "--platform", PLATFORM, "--file", str(wanted), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Queued 2 delete job(s)" in done.stdout
        assert "skipped B0UNKNOWN1: no fake listing" in done.stdout

        wait_for(lambda: len(space.platform_items()) == 2, "the deletes")
        assert sorted(i["identifier"] for i in space.platform_items()) == [asins[1], asins[3]]
        wait_for(
            lambda: len(space.queue()) == 6 and set(space.statuses().values()) == {"success"},
            "the jobs",
        )
        with contextlib.closing(sqlite3.connect(space.database)) as db:
            statuses = dict(db.execute("SELECT asin, status FROM listings"))
        assert statuses == {
            asins[0]: "delisted",
            asins[1]: "listed",
            asins[2]: "delisted",
            asins[3]: "listed",
        }
        shown = run_cli("check-queue", "--platform", PLATFORM, cwd=tmp_path)
        assert "success (delete)" in shown.stdout
        assert [c["kind"] for c in space.platform_calls("delete")] == ["delete", "delete"]
        code, _ = stop(daemon)
        assert code == 0
