"""The seed README's two workflows ("ワークフロー例"), run as its user runs them: the real
command line in subprocesses, the manager's real daemon processes, and the BASE sandbox
as a separate process. Time is compressed through configuration (short spacing,
`--within 1m`), never by mocks; the sandbox's record of every request is the judge."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.demo_helpers import (
    ACCOUNTS,
    ZONE,
    cli,
    current_window,
    kill_leftovers,
    log_has,
    login_all,
    ok,
    queue_json,
    sandbox_process,
    wait_for,
    wait_until_drained,
    write_config,
    write_products,
)
from upload_scheduler.demo.spacing import spacing_problems
from upload_scheduler.platforms.thebase.sandbox import check_calls

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="stops processes with POSIX signals"),
]

# The daily workflow's budgets are tight on purpose: each shop may create exactly the
# 100 items it is given and make 150 calls an hour, and the sandbox refuses beyond that.
DAILY_LIMIT = 100
HOUR_CALL_LIMIT = 150
# Half a second: planned slots are 0.6 s apart, and a single gap can be told from the
# sandbox's time-stamping jitter (up to 0.2 s on a saturated machine).
MIN_INTERVAL = 0.25
URGENT_WITHIN_SECONDS = 5.0


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "shop-ops"
    folder.mkdir()
    try:
        yield folder
    finally:
        cli(folder, "manager", "stop")
        kill_leftovers(folder)


def test_daily_workflow_300_imported_200_queued_within_half_a_minute(workdir: Path) -> None:
    hours = current_window()
    sandbox_options = [
        "--hour-limit",
        str(HOUR_CALL_LIMIT),
        "--daily-item-limit",
        str(DAILY_LIMIT),
        "--latency",
        "0.01",
        "--p-server-error",
        "0.02",
        "--p-lost-response",
        "0.02",
        "--seed",
        "300",
    ]
    with sandbox_process(workdir / "sandbox", *sandbox_options) as sandbox:
        write_config(
            workdir,
            sandbox.url,
            hours=hours,
            platform={
                "min_interval_seconds": MIN_INTERVAL,
                "hour_call_limit": HOUR_CALL_LIMIT,
                "daily_limit": DAILY_LIMIT,
                "max_attempts": 5,
            },
        )
        login_all(workdir, sandbox.url)
        write_products(workdir / "products.csv", 300)

        # 1. Import a CSV of 300 products (CP932, as Excel saves it).
        imported = ok(cli(workdir, "products", "import", "products.csv"))
        assert "Imported: 300" in imported, imported
        # 2. Queue 200 of them over the next half minute, shared by the two shops.
        queued = ok(
            cli(
                workdir,
                "add-to-queue",
                "--distribute",
                "--start",
                "now",
                "--within",
                "30s",
                "--limit",
                "200",
            )
        )
        assert "Queued 200 item(s)" in queued, queued
        # 3. Look at the queue.
        shown = ok(cli(workdir, "check-queue"))
        assert "pending" in shown and ACCOUNTS[0] in shown and ACCOUNTS[1] in shown
        stats = queue_json(workdir, "--limit", "0")["statistics"]
        assert stats["pending"] == 200, stats
        # 4. Start the manager in the background.
        ok(cli(workdir, "manager", "start", "--detach"))
        # 5. Wait for the queue to drain (half a minute of slots, plus retries).
        stats = wait_until_drained(workdir, timeout=100)
        # 6. Successes and failures, as the seed's operator checks them.
        ok(cli(workdir, "check-queue", "--status", "success"))
        ok(cli(workdir, "check-queue", "--status", "failed"))
        # 7. The manager's status, then 8. stop it.
        status = ok(cli(workdir, "manager", "status"))
        assert status.count("Running") >= 2, status
        ok(cli(workdir, "manager", "stop"))
        calls = sandbox.calls()
        created = sandbox.created()

    assert stats["success"] == 200, stats
    successes = queue_json(workdir, "--status", "success", "--limit", "1000")["items"]
    listed = {(i["account_id"], i["asin"]) for i in successes}
    # 9. The sandbox's record: every item created exactly once, by the shop it was
    # given to; spacing, call budgets and item budgets kept; no call outside hours.
    assert set(created) == listed
    assert set(created.values()) == {1}, [k for k, n in created.items() if n > 1]
    verdict = check_calls(
        calls,
        business_hours=hours,
        zone=ZONE,
        hour_call_limit=HOUR_CALL_LIMIT,
        daily_limit=DAILY_LIMIT,
    )
    assert verdict.ok, verdict.problems
    assert verdict.items_created == 200
    # Spacing as the sandbox saw it: every run of up to 20 creations of a shop spans its
    # intervals, less one request's time-stamping jitter (upload_scheduler.demo.spacing).
    assert spacing_problems(calls, MIN_INTERVAL) == []


def test_urgent_items_reach_the_platform_within_5_seconds_while_daemons_idle(
    workdir: Path,
) -> None:
    with sandbox_process(workdir / "sandbox") as sandbox:
        # The seed's settings: a 60 s check interval and nothing due.
        write_config(
            workdir,
            sandbox.url,
            interval_seconds=60,
            platform={"min_interval_seconds": 1.0},
        )
        login_all(workdir, sandbox.url)
        write_products(workdir / "products.csv", 10)
        ok(cli(workdir, "products", "import", "products.csv"))
        ok(cli(workdir, "add-to-queue", "--distribute", "--limit", "5"))  # tomorrow
        assert queue_json(workdir, "--show-due")["items"] == []
        ok(cli(workdir, "manager", "start", "--detach"))
        wait_for(
            lambda: all(log_has(workdir, a, "daemon started") for a in ACCOUNTS),
            30,
            "both daemons to start",
        )
        time.sleep(1.0)  # idle: past their start-up, waiting for work

        ok(cli(workdir, "add-to-queue", "--priority", "20", "--limit", "3"))
        returned = time.monotonic()
        urgent = {
            (i["account_id"], i["asin"])
            for i in queue_json(workdir, "--limit", "100")["items"]
            if i["priority"] == 20
        }
        assert len(urgent) == 3, urgent
        wait_for(
            lambda: urgent <= set(sandbox.created()),
            URGENT_WITHIN_SECONDS - (time.monotonic() - returned),
            "the 3 urgent items on the platform",
            poll=0.05,
        )
        elapsed = time.monotonic() - returned
        ok(cli(workdir, "manager", "stop"))
        created = sandbox.created()

    assert elapsed <= URGENT_WITHIN_SECONDS, elapsed
    assert set(created) == urgent, "only the urgent items were due"
    assert set(created.values()) == {1}
