"""Helpers for the Yahoo! acceptance tests, run as a user runs them: the Yahoo! sandbox
as a process of its own (`upload-scheduler sandbox serve --platform yahoo`, its output
in a file, never an unread pipe), a config file with the stores (`seller_id` per
account) pointing at it, stores logged in with the real `token login --platform yahoo
--code <the address the browser ended on>`, products imported and queued per store with
the CLI, the manager's processes, and reads of the sandbox's state and verdict."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.acceptance.demo_helpers import (
    cli,
    kill_leftovers,
    ok,
    output,
    queue_rows,
    sandbox_server,
    token_login,
    wait_for,
    write_platform_config,
)
from tests.yahoo_helpers import YahooProduct, catalogue, listing_problems, write_products
from upload_scheduler.platforms.yahoo.sandbox import DEFAULT_CLIENT_SECRET
from upload_scheduler.platforms.yahoo.sandbox.login import login_redirect

CLIENT_ID = "dj00aiZpPWFjY2VwdGFuY2U-"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
STORE_PATH = "ホビー:ロボット"
PRODUCT_CATEGORY = "2084"
HTTP_TIMEOUT = 10.0
FINAL = frozenset({"success", "failed"})
SUCCESS = frozenset({"success"})
PUBLISH_SECONDS = 5.0  # the sandbox publishes half a second after submitItem


@dataclass(frozen=True)
class YahooSandbox:
    """A running Yahoo! sandbox: its URL and the JSONL record of every request."""

    url: str
    record: Path

    def get(self, endpoint: str, **params: str) -> dict[str, Any]:
        """`GET /_sandbox/ENDPOINT` (state, verdict, calls)."""
        answer = httpx.get(f"{self.url}/_sandbox/{endpoint}", params=params, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def control(self, endpoint: str, **form: str) -> dict[str, Any]:
        """`POST /_sandbox/ENDPOINT` (end_logins, expire_tokens, faults, …)."""
        answer = httpx.post(f"{self.url}/_sandbox/{endpoint}", data=form, timeout=HTTP_TIMEOUT)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def state(self) -> dict[str, Any]:
        return self.get("state")

    def verdict(self) -> dict[str, Any]:
        """The verdict on the whole record, expecting every item published."""
        return self.get("verdict", expect_all_published="1")

    def calls(self) -> list[dict[str, Any]]:
        return list(self.get("calls")["calls"])

    def refreshes(self) -> list[dict[str, Any]]:
        """The record's requests to the token endpoint with a refresh token."""
        return [c for c in self.calls() if c.get("grant_type") == "refresh_token"]


@contextmanager
def yahoo_sandbox(folder: Path, *options: str) -> Iterator[YahooSandbox]:
    """`upload-scheduler sandbox serve --platform yahoo --port 0 --record … OPTIONS`."""
    command = [sys.executable, "-m", "upload_scheduler", "sandbox", "serve"]
    command += ["--platform", "yahoo", *options]
    with sandbox_server(folder, command, "the Yahoo! sandbox's URL") as (url, record):
        yield YahooSandbox(url, record)


def write_yahoo_config(
    workdir: Path,
    sandbox_url: str,
    stores: Mapping[str, str],
    *,
    platform: Mapping[str, Any] | None = None,
    interval_seconds: float = 0.5,
    cluster: Mapping[str, Any] | None = None,
) -> Path:
    """A config with `stores` (account -> seller_id) on Yahoo!, both hosts at the
    sandbox, one application (CLIENT_ID) for all of them, one store path and category;
    `platform` adds or replaces keys of `[platforms.yahoo]`."""
    values = {
        "api_base_url": sandbox_url,
        "auth_base_url": sandbox_url,
        "client_id": CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "redirect_uri": REDIRECT_URI,
        "path": STORE_PATH,
        "product_category": PRODUCT_CATEGORY,
        **(platform or {}),
    }
    overrides = {f"account_overrides.{a}": {"seller_id": s} for a, s in stores.items()}
    return write_platform_config(
        workdir,
        "yahoo",
        list(stores),
        {"platforms.yahoo": values, **overrides},
        interval_seconds=interval_seconds,
        cluster=cluster,
    )


def login(workdir: Path, sandbox: YahooSandbox, account: str) -> str:
    """`token login --platform yahoo --account A --code <address>`: the address the
    browser ended on once the store's staff (the sandbox user named as the account)
    agreed, as an operator pastes it."""
    address = login_redirect(sandbox.url, CLIENT_ID, account, redirect_uri=REDIRECT_URI)
    return token_login(workdir, "yahoo", account, address)


def import_and_queue(
    workdir: Path, products: Sequence[YahooProduct], per_account: Mapping[str, int]
) -> dict[str, str]:
    """`products import` of the products, then `add-to-queue --account-id A --limit N`
    for each account in turn (each takes the oldest listings left); ASIN -> the account
    add-to-queue gave it to."""
    path = workdir / "products.csv"
    write_products(path, products)
    ok(cli(workdir, "products", "import", str(path), "--platform", "yahoo"))
    for account, count in per_account.items():
        ok(
            cli(
                workdir,
                *("add-to-queue", "--platform", "yahoo"),
                *("--account-id", account, "--limit", str(count)),
            )
        )
    return {str(r["asin"]): str(r["account_id"]) for r in queue_rows(workdir)}


def done(workdir: Path, account: str | None = None, statuses: frozenset[str] = FINAL) -> int:
    """How many of the account's (or every) queue rows are in `statuses`."""
    return sum(
        1
        for r in queue_rows(workdir)
        if r["status"] in statuses and account in (None, r["account_id"])
    )


def manager_status(workdir: Path) -> dict[str, Any]:
    result = cli(workdir, "manager", "status", "--json")
    assert result.returncode in (0, 3), output(result)
    return dict(json.loads(result.stdout))


def daemon_pid(workdir: Path, account: str) -> int | None:
    """The PID of the account's daemon while the manager reports it running."""
    for process in manager_status(workdir)["processes"]:
        if process["account_id"] == account and process["state"] == "running":
            return int(process["pid"])
    return None


def accounts_listed(workdir: Path) -> dict[str, dict[str, Any]]:
    """`account list --platform yahoo --json`, per account."""
    listed = json.loads(ok(cli(workdir, "account", "list", "--platform", "yahoo", "--json")))
    return {str(a["account_id"]): a for a in listed["accounts"]}


def logs(workdir: Path) -> str:
    """The daemons' and the manager's logs, for a failure message."""
    paths = sorted((workdir / "logs").glob("*.log"))
    return "\n".join(
        f"--- {p.name}\n{p.read_text(encoding='utf-8', errors='replace')}" for p in paths
    )


def kill_midway(
    workdir: Path, account: str, after: int, *, wait_seconds: float, restart_seconds: float
) -> tuple[int, int, int]:
    """kill -9 the account's daemon once `after` of its items are done (still the daemon
    the manager started), then wait for the manager to start another: (the killed PID,
    the account's items done then, the new PID)."""
    pid = wait_for(lambda: daemon_pid(workdir, account), restart_seconds, f"{account}'s daemon")
    wait_for(
        lambda: done(workdir, account) >= after,
        wait_seconds,
        f"{after} of {account}'s items done\n{logs(workdir)}",
        poll=0.02,
    )
    assert account in psutil.Process(pid).cmdline(), manager_status(workdir)
    os.kill(pid, signal.SIGKILL)
    done_then = done(workdir, account)
    restarted = wait_for(
        lambda: (p := daemon_pid(workdir, account)) is not None and p != pid and p,
        restart_seconds,
        f"the manager restarting {account}'s daemon",
    )
    return pid, done_then, restarted


@dataclass
class YahooRun:
    """A work folder with its config, stores logged in, products imported and queued,
    and the sandbox they list on."""

    workdir: Path
    sandbox: YahooSandbox
    stores: dict[str, str]  # account -> seller_id
    products: dict[str, YahooProduct]  # by ASIN
    given: dict[str, str]  # ASIN -> the account add-to-queue gave it to
    item_code_prefix: str = ""

    def evidence(self) -> str:
        return "\n" + logs(self.workdir)

    def wait_drained(self, timeout: float) -> None:
        wait_for(
            lambda: done(self.workdir) == len(self.products),
            timeout,
            "every item success or failed" + self.evidence(),
            poll=0.2,
        )

    def stop_manager(self) -> dict[str, dict[str, Any]]:
        """`manager stop` (which must succeed); the processes as `manager status --json`
        reported them just before, per account."""
        report = {p["account_id"]: p for p in manager_status(self.workdir)["processes"]}
        stopped = cli(self.workdir, "manager", "stop")
        assert stopped.returncode == 0, output(stopped)
        return report

    def queue_problems(self) -> list[dict[str, Any]]:
        """Queue rows not `success` on the account they were given to, with the
        item_code as the platform's id."""
        return [
            r
            for r in queue_rows(self.workdir)
            if (r["status"], r["account_id"], r["platform_item_id"])
            != ("success", self.given[r["asin"]], self.item_code_prefix + r["asin"])
        ]

    def judge_stores(self) -> dict[str, Any]:
        """Assert what the stores hold (`listing_problems`) once the last publishes took
        effect; the verdict."""
        expected = {
            seller: {
                self.item_code_prefix + asin: self.products[asin]
                for asin, owner in self.given.items()
                if owner == account
            }
            for account, seller in self.stores.items()
        }
        wait_for(
            lambda: self.sandbox.verdict()["ok"],
            PUBLISH_SECONDS,
            "the sandbox's verdict ok: " + json.dumps(self.sandbox.verdict()["problems"]),
        )
        verdict = self.sandbox.verdict()
        problems = listing_problems(self.sandbox.state(), verdict, expected)
        assert problems == [], "\n".join(problems)
        return verdict


@contextmanager
def yahoo_run(
    tmp_path: Path,
    sandbox_options: Sequence[str],
    stores: Mapping[str, str],
    per_account: Mapping[str, int],
    asins: Sequence[str],
    *,
    platform: Mapping[str, Any],
    big: Sequence[str] = (),
) -> Iterator[YahooRun]:
    """The sandbox (`sandbox_options`), a config with `stores` and `platform`'s keys, each
    account logged in, the `catalogue` of `asins` imported and queued per account; the
    manager stopped and every process of the folder ended afterwards."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    with yahoo_sandbox(tmp_path / "sandbox", *sandbox_options) as sandbox:
        try:
            write_yahoo_config(
                workdir, sandbox.url, stores, platform=platform, cluster={"lease_ttl_seconds": 3}
            )
            for account in stores:
                assert f"Logged in yahoo/{account}" in login(workdir, sandbox, account)
            products = catalogue(sandbox.url, asins, big=big)
            given = import_and_queue(workdir, products, per_account)
            by_asin = {p.asin: p for p in products}
            prefix = str(platform.get("item_code_prefix", ""))
            yield YahooRun(workdir, sandbox, dict(stores), by_asin, given, prefix)
        finally:
            cli(workdir, "manager", "stop")
            kill_leftovers(workdir)
