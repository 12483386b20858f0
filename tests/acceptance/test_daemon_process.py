"""The real `python -m upload_scheduler daemon`, in subprocesses, against the file-backed
fake platform: a warm stop on SIGTERM, kill -9 and restart without a double upload, and
the refusal of a second daemon for the same account.

Every wait is bounded; daemons write to files, never to an unread pipe.
"""

from __future__ import annotations

import re
import signal
import sys
import time
from collections import Counter
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

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals"),
]

LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def _mid_batch(space: Workspace) -> str | None:
    """The ASIN being uploaded once at least one item of the batch has succeeded."""
    rows = space.queue()
    uploading = [r["asin"] for r in rows if r["status"] == "uploading"]
    if uploading and any(r["status"] == "success" for r in rows):
        return uploading[0]
    return None


def _creation_in_flight(space: Workspace) -> str | None:
    """An item claimed whose creation call the platform has not answered yet."""
    answered = {c["identifier"] for c in space.platform_calls("add")}
    for row in space.queue():
        if row["status"] == "uploading" and row["asin"] not in answered:
            return row["asin"]
    return None


def _images_in_flight(space: Workspace) -> str | None:
    """An item the platform has created but whose images are still being added."""
    created = {i["identifier"]: i["images"] for i in space.platform_items()}
    for row in space.queue():
        if row["status"] == "uploading" and created.get(row["asin"], 2) < 2:
            return row["asin"]
    return None


def _all_succeeded(space: Workspace) -> bool:
    statuses = space.statuses()
    return bool(statuses) and set(statuses.values()) == {"success"}


def test_sigterm_mid_batch_finishes_the_current_item_and_exits_0(tmp_path: Path) -> None:
    with workspace(tmp_path, latency=0.3) as space:
        space.queue_products(6)  # 3 calls of 0.3 s each: an item takes about 0.9 s
        daemon = space.start_daemon()

        in_flight = wait_for(lambda: _mid_batch(space), "an item uploading mid-batch")
        code, took = stop(daemon, signal.SIGTERM)

        output = space.output_of(daemon)
        assert code == 0, output
        assert took < 5.0, f"took {took:.1f} s to stop"
        statuses = space.statuses()
        assert "uploading" not in statuses.values(), statuses
        assert statuses[in_flight] == "success", statuses  # the current item finished
        assert "pending" in statuses.values(), statuses  # and the batch did not go on
        items = {i["identifier"]: i for i in space.platform_items()}
        assert set(items) == {a for a, s in statuses.items() if s == "success"}
        assert items[in_flight]["images"] == 2
        lease = space.lease()
        assert lease is not None and lease["lease_owner"] is None  # released for a restart
        log = space.log_file.read_text(encoding="utf-8").splitlines()
        assert log and all(LOG_LINE.match(line) for line in log), log
        assert any("signal" in line for line in log), log
        [uploaded] = [line for line in log if f"ASIN {in_flight}" in line and "success" in line]
        row = next(r for r in space.queue() if r["asin"] == in_flight)
        assert row["platform_item_id"] in uploaded
        assert "attempt 1" in uploaded and "3 call(s)" in uploaded


def test_kill_9_mid_upload_and_restart_uploads_every_item_exactly_once(tmp_path: Path) -> None:
    with workspace(tmp_path, latency=0.3) as space:
        asins = space.queue_products(4)
        killed: list[str] = []

        # Killed while an item's creation call is in flight.
        daemon = space.start_daemon()
        killed.append(wait_for(lambda: _creation_in_flight(space), "a creation in flight"))
        daemon.send_signal(signal.SIGKILL)
        assert daemon.wait(timeout=10) == -signal.SIGKILL

        # Restarted at once (the lease of a dead process on this host is taken over),
        # then killed after the platform created an item, while its images are added.
        daemon = space.start_daemon()
        killed.append(wait_for(lambda: _images_in_flight(space), "images being added"))
        daemon.send_signal(signal.SIGKILL)
        assert daemon.wait(timeout=10) == -signal.SIGKILL
        assert "uploading" in space.statuses().values()

        daemon = space.start_daemon()
        wait_for(lambda: _all_succeeded(space), "every item uploaded", timeout=30)
        code, _ = stop(daemon)
        assert code == 0, space.output_of(daemon)

        items = space.platform_items()
        per_identifier = Counter((i["account_id"], i["identifier"]) for i in items)
        assert per_identifier == Counter({(ACCOUNT, a): 1 for a in asins}), per_identifier
        assert all(i["images"] == 2 for i in items), [dict(i) for i in items]
        ids = {i["identifier"]: str(i["id"]) for i in items}
        for row in space.queue():
            assert row["status"] == "success"
            assert row["platform_item_id"] == ids[row["asin"]]
            assert row["lease_owner"] is None
        # The item killed after its creation was looked up, found, and completed.
        finds = {(c["identifier"], c["outcome"]) for c in space.platform_calls("find")}
        assert (killed[1], "found") in finds, finds


def test_a_second_daemon_for_the_same_account_exits_1_naming_the_first(tmp_path: Path) -> None:
    with workspace(tmp_path, latency=0.0) as space:
        space.queue_products(1)
        first = space.start_daemon("first")
        holder = wait_for(
            lambda: (
                (lease := space.lease()) is not None and lease["lease_pid"] == first.pid and lease
            ),
            "the first daemon's lease",
        )
        wait_for(lambda: _all_succeeded(space), "the first daemon at work")

        started = time.monotonic()
        second = run_cli("daemon", "--platform", PLATFORM, "--account", ACCOUNT, cwd=space.root)
        took = time.monotonic() - started

        assert second.returncode == 1, second.stdout + second.stderr
        assert took < 10.0
        message = second.stderr
        assert f"PID {first.pid}" in message, message
        assert f"host {holder['lease_host']}" in message, message
        # The first daemon is untouched: still running, still holding the lease.
        assert first.poll() is None
        lease = space.lease()
        assert lease is not None and lease["lease_pid"] == first.pid
        code, took = stop(first)
        assert code == 0, space.output_of(first)
        assert took < 5.0


def test_a_second_signal_aborts_at_once_and_a_restart_recovers_the_item(tmp_path: Path) -> None:
    with workspace(tmp_path, latency=0.5) as space:
        [asin] = space.queue_products(1)  # 3 calls of 0.5 s: the item takes 1.5 s
        daemon = space.start_daemon()
        wait_for(lambda: _creation_in_flight(space), "a creation in flight")

        daemon.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        code, took = stop(daemon, signal.SIGTERM)

        # Exit code 130, with the item neither finished nor released: an abort, not a
        # warm stop; the lease brings the item back.
        assert code == 130, space.output_of(daemon)
        assert took < 5.0
        assert space.statuses() == {asin: "uploading"}

        restarted = space.start_daemon()
        wait_for(lambda: _all_succeeded(space), "the item uploaded after the restart")
        code, _ = stop(restarted)
        assert code == 0, space.output_of(restarted)
        assert [i["identifier"] for i in space.platform_items()] == [asin]
