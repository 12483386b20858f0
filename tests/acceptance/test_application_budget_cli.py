"""The shared budget of an application through the real CLI (issue 16): two accounts on
`[platforms.fake]` with `day_call_limit_scope = "application"` and one client_id share a
day budget of 12 calls; each runs its own `upload-scheduler daemon` process, with short
intervals from the config file. Together they never make more than 12 calls (the fake
platform's own record of the calls it received, and our database's count), both end
paused until the next midnight (the fake platform has no reset zone of its own: the
accounts' zone, Tokyo), `account list` (text and --json) says why, and `queue explain`
names the application's budget for an item left waiting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import (
    CONFIG,
    EXIT_TIMEOUT,
    PLATFORM,
    DatabaseWorkspace,
    stop,
    wait_for,
    with_settings,
)
from upload_scheduler.store import account_state
from upload_scheduler.store.tables import application_usage

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="stops the daemons with SIGTERM"),
]

ACCOUNTS = ("acct_1", "acct_2")
CLIENT_ID = "app-shared"
LIMIT = 12  # an item costs 3 calls (one creation, two images): 4 items a day
ITEMS = 6  # per account: 36 calls wanted, 12 allowed
REASON = "rate limit: application day call budget spent"
TOKYO = ZoneInfo("Asia/Tokyo")
# After both are paused, this long with nothing more reaching the platform (many spacing
# intervals and pause polls of both daemons).
QUIET_SECONDS = 1.5


@pytest.fixture
def space(tmp_path: Path, database_url: str) -> Iterator[DatabaseWorkspace]:
    config = CONFIG.format(account=ACCOUNTS[0], latency=0.0)
    config = config.replace(f'fake = ["{ACCOUNTS[0]}"]', f"fake = {json.dumps(list(ACCOUNTS))}")
    config = config.replace('database = "sqlite:///data/us.db"', f'database = "{database_url}"')
    config = with_settings(config, "daemon", {"interval_seconds": 1.0})
    config = with_settings(
        config,
        f"platforms.{PLATFORM}",
        {
            "min_interval_seconds": 0.1,
            "client_id": CLIENT_ID,
            "day_call_limit": LIMIT,
            "day_call_limit_scope": "application",
        },
    )
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    workspace = DatabaseWorkspace(tmp_path, database_url=database_url)
    try:
        yield workspace
    finally:
        workspace.cleanup()


def _cli(space: DatabaseWorkspace, *args: str) -> str:
    # Wide enough that the table's cells are not wrapped.
    done = run_cli(*args, cwd=space.root, env={**space.env(), "COLUMNS": "400"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _queue(space: DatabaseWorkspace) -> None:
    lines = ["asin,title,price,images"]
    asins = [f"B0APP{n:05d}" for n in range(ITEMS * len(ACCOUNTS))]
    images = "https://img.example/1.jpg|https://img.example/2.jpg"
    lines += [f"{a},Item {a},1500,{images}" for a in asins]
    products = space.root / "products.csv"
    products.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _cli(space, "products", "import", str(products), "--platform", PLATFORM)
    for account in ACCOUNTS:
        _cli(
            space,
            "add-to-queue",
            "--platform",
            PLATFORM,
            "--account-id",
            account,
            "--limit",
            str(ITEMS),
        )


def _daemon(space: DatabaseWorkspace, account: str) -> subprocess.Popen[bytes]:
    """`upload-scheduler daemon` for one account, its output to a file (as
    Workspace.start_daemon does for the workspace's one account)."""
    path = space.root / f"daemon-{account}.out"
    output = path.open("wb")
    space._outputs.append(output)
    command = [sys.executable, "-m", "upload_scheduler", "daemon"]
    process = subprocess.Popen(
        [*command, "--platform", PLATFORM, "--account", account],
        cwd=space.root,
        env=space.env(),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    space.processes.append(process)
    space._output_paths[process.pid] = path
    return process


def _accounts(space: DatabaseWorkspace) -> dict[str, dict[str, object]]:
    listed = json.loads(_cli(space, "account", "list", "--platform", PLATFORM, "--json"))
    return {a["account_id"]: a for a in listed["accounts"]}


def _both_paused(space: DatabaseWorkspace) -> bool:
    """Read from the database (one CLI run per poll would be slow); `account list` is
    checked once they are."""
    with space.connect() as conn:
        reasons = [account_state.read_pause(conn, PLATFORM, a)[0] for a in ACCOUNTS]
    return all(reason and reason.startswith(REASON) for reason in reasons)


def _counted(space: DatabaseWorkspace) -> int:
    with space.connect() as conn:
        rows = conn.execute(
            select(application_usage.c.calls).where(
                application_usage.c.platform == PLATFORM,
                application_usage.c.application == CLIENT_ID,
            )
        ).scalars()
        return sum(rows)


def test_two_daemons_on_one_application_stop_at_its_day_budget_and_say_why(
    space: DatabaseWorkspace,
) -> None:
    started = datetime.now(UTC)
    midnight = datetime.combine(
        started.astimezone(TOKYO).date() + timedelta(days=1), datetime.min.time(), TOKYO
    )
    if midnight - started < timedelta(minutes=2):
        pytest.skip("the budget's day would end during the test")
    _queue(space)
    daemons = [_daemon(space, account) for account in ACCOUNTS]

    wait_for(lambda: _both_paused(space), "both accounts paused for the budget", timeout=30)
    received = len(space.platform_calls())
    time.sleep(QUIET_SECONDS)  # nothing more may reach the platform while paused

    calls = space.platform_calls()
    assert len(calls) == received, calls
    assert 0 < len(calls) <= LIMIT
    assert {c["kind"] for c in calls} <= {"add", "image"}
    assert _counted(space) == len(calls)
    # Only answered calls count: every item uploaded used its 3, none was started after.
    statuses = space.statuses()
    done = [a for a, s in statuses.items() if s == "success"]
    assert len(done) * 3 == len(calls) == LIMIT
    assert set(statuses.values()) == {"success", "pending"}
    waiting = [r for r in space.queue() if r["status"] == "pending"]
    assert all(r["attempts"] == 0 for r in waiting)  # no attempt spent while held

    listed = _accounts(space)
    for account in ACCOUNTS:
        entry = listed[account]
        assert entry["paused"] is True
        assert f"application {CLIENT_ID}" in str(entry["pause_reason"])
        assert datetime.fromisoformat(str(entry["paused_until"])) == midnight
    text = _cli(space, "account", "list", "--platform", PLATFORM)
    rows = [line for line in text.splitlines() if any(f" {a} " in line for a in ACCOUNTS)]
    assert len(rows) == len(ACCOUNTS), text
    assert all(REASON in row and CLIENT_ID in row for row in rows), text

    explained = json.loads(_cli(space, "queue", "explain", str(waiting[0]["id"]), "--json"))
    first = explained["reasons"][0]
    assert first["code"] == "application_budget", explained
    assert CLIENT_ID in first["text"] and "is spent" in first["text"], explained
    assert datetime.fromisoformat(first["until"]) == midnight
    plain = _cli(space, "queue", "explain", str(waiting[0]["id"]))
    assert f"the day call budget of application {CLIENT_ID} is spent" in plain, plain

    for daemon in daemons:
        code, _ = stop(daemon)
        assert code == 0, space.output_of(daemon)
    assert all(d.wait(timeout=EXIT_TIMEOUT) == 0 for d in daemons)
