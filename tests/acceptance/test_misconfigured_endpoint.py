"""A wrong `api_base_url` through the real command line (issue 14): the BASE sandbox as a
process, a shop logged in, then the config's URL pointed at a path the sandbox does not
serve (a 404 page, not BASE's JSON error), and `upload-scheduler daemon` started as a
user starts it. The account pauses until resumed, the webhook hears it once, and no item
fails or spends an attempt: the URL is wrong, not the items."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.daemon_helpers import stop
from tests.acceptance.demo_helpers import (
    ACCOUNTS,
    Sandbox,
    cli,
    kill_leftovers,
    login_all,
    ok,
    sandbox_process,
    spawn,
    spawned_output,
    wait_for,
    write_config,
)
from tests.acceptance.manager_helpers import queue_rows
from tests.notify_helpers import LocalServer, local_server

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="stops processes with POSIX signals"),
]

ACCOUNT = ACCOUNTS[0]
ACCOUNT_KEY = f"base/{ACCOUNT}"
HOOK_PATH = "/services/T0MIS/B0MIS/hooksecretMis7q"
WRONG_PREFIX = "/wrong-prefix"
ASINS = [f"B0MISCONF{n}" for n in range(5)]
# A daemon's start, one claimed burst and one notification.
PAUSE_SECONDS = 15.0
# Daemon ticks (interval_seconds = 1) after the pause in which nothing more may happen.
QUIET_SECONDS = 3.0


def configure(workdir: Path, api_url: str, webhook: LocalServer) -> None:
    write_config(
        workdir,
        api_url,
        accounts=(ACCOUNT,),
        interval_seconds=1.0,
        platform={"min_interval_seconds": 0, "retry_delay_seconds": 0.2, "max_attempts": 2},
        cluster={"lease_ttl_seconds": 3},
        notify={"webhook_url": webhook.url + HOOK_PATH},
    )


def queue_products(workdir: Path) -> None:
    path = workdir / "products.csv"
    rows = ["asin,title,description,price,stock"]
    rows += [f"{asin},普通の商品 {asin},説明文です。,1980,3" for asin in ASINS]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ok(cli(workdir, "products", "import", str(path), "--account-id", ACCOUNT))
    queued = ok(cli(workdir, "add-to-queue", "--limit", str(len(ASINS))))
    assert f"Queued {len(ASINS)} item(s)" in queued, queued


def account_entry(workdir: Path) -> dict[str, Any]:
    listed = json.loads(ok(cli(workdir, "account", "list", "--json")))
    (entry,) = [a for a in listed["accounts"] if a["account_id"] == ACCOUNT]
    return dict(entry)


def webhook_texts(webhook: LocalServer) -> list[str]:
    texts = []
    for seen in webhook.seen():
        assert seen.path == HOOK_PATH, seen.path
        texts.append(str(seen.json()["text"]))
    return texts


def statuses(workdir: Path) -> dict[str, tuple[str, int]]:
    return {str(r["asin"]): (str(r["status"]), int(r["attempts"])) for r in queue_rows(workdir)}


def evidence(workdir: Path, sandbox: Sandbox, webhook: LocalServer) -> str:
    parts = [
        f"webhook got: {webhook_texts(webhook)!r}",
        f"queue: {statuses(workdir)!r}",
        f"sandbox saw: {[(c['path'], c.get('outcome')) for c in sandbox.calls()]!r}",
    ]
    for log in sorted((workdir / "logs").glob("*.log")):
        parts.append(f"--- {log.name}\n{log.read_text(encoding='utf-8', errors='replace')}")
    for out in sorted(workdir.glob("*.out")):
        parts.append(f"--- {out.name}\n{spawned_output(workdir, out.stem)}")
    return "\n".join(parts)


def test_the_sandbox_answers_a_path_outside_the_api_with_a_404_page(tmp_path: Path) -> None:
    """What the daemon below meets: a 404 without BASE's {"error": ...} body."""
    with sandbox_process(tmp_path / "sandbox") as sandbox:
        answer = httpx.post(f"{sandbox.url}{WRONG_PREFIX}/1/items/add", data={"a": "1"}, timeout=5)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "error" not in answer.text
        inside = httpx.get(f"{sandbox.url}/1/no_such_endpoint", timeout=5)
        assert inside.json()["error"] == "not_found"  # inside the API: BASE's own envelope


def test_a_wrong_api_base_url_pauses_the_account_and_fails_no_item(tmp_path: Path) -> None:
    workdir = tmp_path / "shop"
    workdir.mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    with local_server() as webhook, sandbox_process(tmp_path / "sandbox") as sandbox:
        try:
            configure(workdir, sandbox.url, webhook)
            login_all(workdir, sandbox.url, (ACCOUNT,))
            queue_products(workdir)
            # The same shop and database; only the URL is now wrong (a path prefix the
            # sandbox does not serve), as a typo in the config would make it.
            configure(workdir, sandbox.url + WRONG_PREFIX, webhook)

            daemon = spawn(workdir, "daemon", "daemon", "--platform", "base", "--account", ACCOUNT)
            processes.append(daemon)

            def paused() -> dict[str, Any] | None:
                entry = account_entry(workdir)
                return entry if entry["paused"] else None

            def said() -> list[str]:
                return [t for t in webhook_texts(webhook) if "account paused" in t]

            try:
                entry = wait_for(paused, PAUSE_SECONDS, "the account paused", poll=0.3)
                wait_for(said, PAUSE_SECONDS, "an 'account paused' message")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{evidence(workdir, sandbox, webhook)}") from None
            assert entry is not None  # wait_for returns only a true value
            reason = entry["pause_reason"]
            assert f"check api_base_url (answered 404 for {WRONG_PREFIX}/1/items/add)" in reason
            assert entry["paused_until"] is None  # until someone resumes it

            time.sleep(QUIET_SECONDS)  # a few daemon ticks: the pause holds, nothing more
            assert daemon.poll() is None, evidence(workdir, sandbox, webhook)
            assert statuses(workdir) == {asin: ("pending", 0) for asin in ASINS}, evidence(
                workdir, sandbox, webhook
            )
            [message] = webhook_texts(webhook)  # one message, not one per item
            assert message.startswith(f"[upload-scheduler] account paused: {ACCOUNT_KEY}\n")
            assert "check api_base_url" in message, message
            assert "hooksecret" not in message
            # One call reached the wrong path, none the API: nothing was created.
            api = [c for c in sandbox.calls() if "/1/items" in str(c["path"])]
            assert [(c["path"], c["outcome"], c["status"]) for c in api] == [
                (f"{WRONG_PREFIX}/1/items/add", "no_route", 404)
            ], evidence(workdir, sandbox, webhook)

            code, _ = stop(daemon)
            assert code == 0, evidence(workdir, sandbox, webhook)
            assert account_entry(workdir)["paused"]  # the pause outlives the daemon
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=10)
            kill_leftovers(workdir)
