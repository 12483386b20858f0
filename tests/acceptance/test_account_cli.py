"""`account pause|resume|list` as a user runs them, against a real daemon process on the
file-backed fake platform: the paused daemon finishes its item, claims nothing more and
stays alive; `check-queue`, `account list` and `manager status` show the pause.

The commands alone run on SQLite and PostgreSQL (the `database_url` fixture); the test
with a running daemon stays on SQLite: it takes a quarter of a minute, and the integration
tests (test_account_pause.py) run the daemon's side of a pause on both.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import (
    ACCOUNT,
    PLATFORM,
    Workspace,
    stop,
    wait_for,
    workspace,
)

pytestmark = pytest.mark.acceptance


@pytest.fixture
def database_workspace(tmp_path: Path, database_url: str) -> Iterator[Workspace]:
    """The daemon tests' workspace with its config on the fixture's database."""
    with workspace(tmp_path, latency=0.0, database=database_url) as space:
        yield space


def _ok(*args: str, cwd: Path) -> str:
    done = run_cli(*args, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_pause_stops_a_running_daemon_after_its_item_and_resume_restarts_it(
    tmp_path: Path,
) -> None:
    with workspace(tmp_path, latency=0.05) as space:
        space.queue_products(30)
        daemon = space.start_daemon()

        def successes() -> int:
            return sum(1 for s in space.statuses().values() if s == "success")

        wait_for(lambda: successes() >= 1, "a first upload")
        out = _ok(
            "account", "pause", "--platform", PLATFORM, "--account", ACCOUNT,
            "--reason", "BASE restricted the shop", cwd=tmp_path,
        )  # fmt: skip
        assert "until resumed" in out
        # The item in flight (if any) finishes; nothing else starts.
        wait_for(lambda: "uploading" not in space.statuses().values(), "the current item")
        done_at_pause = successes()
        time.sleep(2.5)  # more than two check intervals and a dozen item slots
        assert successes() == done_at_pause < 30
        assert daemon.poll() is None, space.output_of(daemon)

        shown = _ok("check-queue", "--platform", PLATFORM, cwd=tmp_path)
        assert f"paused: {ACCOUNT} until resumed (operator: BASE restricted the shop)" in shown
        listed = json.loads(_ok("account", "list", "--json", cwd=tmp_path))
        [account] = listed["accounts"]
        assert account["paused"] is True
        assert account["pause_reason"] == "operator: BASE restricted the shop"
        assert account["paused_until"] is None
        assert account["queue"]["success"] == done_at_pause
        assert account["usage"]["creations"]["used"] == done_at_pause
        assert account["token"] is None
        status = run_cli("manager", "status", "--json", cwd=tmp_path)
        [process] = json.loads(status.stdout)["processes"]
        assert process["pause_reason"] == "operator: BASE restricted the shop"

        resumed = _ok(
            "account", "resume", "--platform", PLATFORM, "--account", ACCOUNT, cwd=tmp_path
        )
        assert "Resumed" in resumed
        wait_for(lambda: successes() == 30, "the rest after resume")
        code, _ = stop(daemon)
        assert code == 0
        assert len(space.platform_items()) == 30


def test_pause_until_a_time_and_bad_input(tmp_path: Path, database_workspace: Workspace) -> None:
    out = _ok(
        "account", "pause", "--platform", PLATFORM, "--account", ACCOUNT,
        "--until", "2h", cwd=tmp_path,
    )  # fmt: skip
    assert "Paused fake/acct_1 until " in out and "operator: paused by the operator" in out
    [account] = json.loads(_ok("account", "list", "--json", cwd=tmp_path))["accounts"]
    assert account["paused_until"] is not None

    past = run_cli(
        "account", "pause", "--platform", PLATFORM, "--account", ACCOUNT,
        "--until", "2020-01-01 09:00", cwd=tmp_path,
    )  # fmt: skip
    assert past.returncode == 1 and "not in the future" in past.stderr
    unknown = run_cli("account", "pause", "--platform", PLATFORM, "--account", "nope", cwd=tmp_path)
    assert unknown.returncode == 1 and "not configured" in unknown.stderr

    _ok("account", "resume", "--platform", PLATFORM, "--account", ACCOUNT, cwd=tmp_path)
    again = _ok("account", "resume", "--platform", PLATFORM, "--account", ACCOUNT, cwd=tmp_path)
    assert "was not paused" in again
    [account] = json.loads(_ok("account", "list", "--json", cwd=tmp_path))["accounts"]
    assert account["paused"] is False
