"""Two hosts on one PostgreSQL database (issue 8): each account is worked by exactly one
of them, the other's daemon waits as standby, and when a host dies (its manager and
daemons killed with -9) the survivor takes every account over once the leases expire,
uploading nothing twice and keeping the spacing. The hosts are two work folders with
their own host ids (UPLOAD_SCHEDULER_HOST_ID), managers and logs; the platform is the
BASE sandbox as a separate process, whose record of every request is the judge."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.acceptance.cli import run_cli
from tests.acceptance.demo_helpers import (
    CLIENT_ID,
    CONFIG_NAME,
    REDIRECT_URI,
    kill_leftovers,
    output,
    processes_of,
    sandbox_process,
    wait_for,
    write_config,
    write_products,
)
from tests.backends import postgres_only
from upload_scheduler.platforms.thebase.sandbox import check_calls
from upload_scheduler.platforms.thebase.sandbox.login import authorize_code
from upload_scheduler.platforms.thebase.sandbox.record import ADD_PATH

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="kills process trees with POSIX signals"),
    postgres_only,
]

ACCOUNTS = ("shop_1", "shop_2", "shop_3")
LEASE_TTL = 3.0
MIN_INTERVAL = 0.3
ITEMS = 45  # 15 per shop, spread over 30 s: uploads go on across the kill


def _write_config(folder: Path, database_url: str, sandbox_url: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_config(
        folder,
        sandbox_url,
        platform={"min_interval_seconds": MIN_INTERVAL},
        accounts=ACCOUNTS,
        database=database_url,
        cluster={"standby": True, "lease_ttl_seconds": LEASE_TTL},
    )


def _cli(folder: Path, host: str, *args: str) -> subprocess.CompletedProcess[str]:
    config = str((folder / CONFIG_NAME).resolve())
    return run_cli("--config", config, *args, cwd=folder, env={"UPLOAD_SCHEDULER_HOST_ID": host})


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, output(result)
    return result.stdout


def _status(folder: Path, host: str) -> dict[str, dict[str, Any]]:
    report = json.loads(_ok(_cli(folder, host, "manager", "status", "--json")))
    return {p["account_id"]: p for p in report["processes"]}


def _holders(folder: Path, host: str) -> dict[str, str | None]:
    return {account: p["lease_host"] for account, p in _status(folder, host).items()}


def _added_after(calls: list[dict[str, Any]], moment: datetime) -> set[str]:
    """Shops that created an item after `moment`."""
    return {
        str(c["shop"])
        for c in calls
        if c.get("path") == ADD_PATH
        and c.get("outcome") == "ok"
        and datetime.fromisoformat(c["time"]) > moment
    }


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    host_a, host_b = tmp_path / "host-a", tmp_path / "host-b"
    try:
        yield host_a, host_b
    finally:
        for folder, host in ((host_a, "host-a"), (host_b, "host-b")):
            if (folder / CONFIG_NAME).exists():
                _cli(folder, host, "manager", "stop")
            kill_leftovers(folder)


def test_a_dead_hosts_accounts_are_taken_over_by_the_standby_host(
    database_url: str, hosts: tuple[Path, Path], tmp_path: Path
) -> None:
    host_a, host_b = hosts
    with sandbox_process(tmp_path / "sandbox", "--latency", "0.02") as sandbox:
        for folder in hosts:
            _write_config(folder, database_url, sandbox.url)
        # One database: tokens, products and the queue are set up once, from host A.
        for account in ACCOUNTS:
            code = authorize_code(sandbox.url, CLIENT_ID, REDIRECT_URI, account)
            _ok(_cli(host_a, "host-a", "token", "login", "--account", account, "--code", code))
        write_products(host_a / "products.csv", ITEMS)
        _ok(_cli(host_a, "host-a", "products", "import", "products.csv"))
        _ok(
            _cli(
                host_a,
                "host-a",
                "add-to-queue",
                "--distribute",
                "--start",
                "now",
                "--within",
                "30s",
                "--limit",
                str(ITEMS),
            )
        )

        # 1. Host A works every account; host B's daemons wait as standby.
        _ok(_cli(host_a, "host-a", "manager", "start", "--detach"))
        wait_for(
            lambda: set(_holders(host_a, "host-a").values()) == {"host-a"},
            30,
            "host A to hold every account",
        )
        _ok(_cli(host_b, "host-b", "manager", "start", "--detach"))
        standby = wait_for(
            lambda: (
                (s := _status(host_b, "host-b"))
                and all(p["standby"] and p["lease_host"] == "host-a" for p in s.values())
                and s
            ),
            30,
            "host B's daemons to stand by",
        )
        assert {p["state"] for p in standby.values()} == {"running"}

        wait_for(
            lambda: (
                _added_after(sandbox.calls(), datetime.min.replace(tzinfo=UTC)) == set(ACCOUNTS)
            ),
            30,
            "host A to upload for every account",
        )

        # 2. Host A dies: its manager and daemons are killed with -9, leases left behind.
        victims = processes_of(host_a)
        assert len(victims) == 1 + len(ACCOUNTS), [p.cmdline() for p in victims]
        killed_at = datetime.now(UTC)
        for process in victims:
            process.kill()
        psutil.wait_procs(victims, timeout=10)

        # 3. Within TTL + 10 s host B uploads for every account.
        wait_for(
            lambda: _added_after(sandbox.calls(), killed_at) == set(ACCOUNTS),
            LEASE_TTL + 10,
            "host B to upload for every account",
        )
        assert set(_holders(host_b, "host-b").values()) == {"host-b"}

        # 4. Everything is uploaded once, spaced, with no limit answer.
        def drained() -> bool:
            stats = json.loads(
                _ok(_cli(host_b, "host-b", "check-queue", "--json", "--limit", "0"))
            )["statistics"]
            return stats["pending"] + stats["uploading"] == 0 and stats["success"] == ITEMS

        wait_for(drained, 90, "every item to be uploaded", poll=1.0)
        calls = sandbox.calls()
    verdict = check_calls(calls, min_interval_seconds=MIN_INTERVAL, tolerance_seconds=0.05)
    assert verdict.problems == (), verdict.problems
    created = [c for c in calls if c.get("path") == ADD_PATH and c.get("outcome") == "ok"]
    assert len({(c["shop"], c["identifier"]) for c in created}) == ITEMS
