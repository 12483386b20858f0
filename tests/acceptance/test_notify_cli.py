"""Failure notifications as production sends them (issue 14): the real command line in
subprocesses, a config file with `[notify]`, the BASE sandbox as a process, and a
Chatwork-compatible and a Slack-compatible receiver on 127.0.0.1 in this process.
Nothing is handed to the daemon: every other test passes its own notifier, which is how
daemons that sent nothing at all went unnoticed."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.acceptance.daemon_helpers import stop
from tests.acceptance.demo_helpers import (
    ACCOUNTS,
    CLIENT_SECRET,
    Sandbox,
    cli,
    kill_leftovers,
    login_all,
    ok,
    output,
    sandbox_process,
    spawn,
    spawned_output,
    stored_tokens,
    wait_for,
    write_config,
)
from tests.acceptance.manager_helpers import queue_rows
from tests.notify_helpers import LocalServer, local_server

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="stops processes with POSIX signals"),
]

TOKEN_ENV = "UPLOAD_SCHEDULER_TEST_CHATWORK_TOKEN"
CHATWORK_TOKEN = "cw-acceptance-3d9f7a61e2"  # distinctive, so a leak is easy to find
ROOM = "31415"
HOOK_SECRET = "hooksecretAcc9k2Wq"
HOOK_PATH = f"/services/T0ACC/B0ACC/{HOOK_SECRET}"
ACCOUNT = ACCOUNTS[0]
ACCOUNT_KEY = f"base/{ACCOUNT}"
MAX_ATTEMPTS = 2
NG_WORD = "医薬品"
# The first event of an account goes out at once (the notifier coalesces only what
# follows it within a minute); this bounds a daemon's start plus one item.
MESSAGE_SECONDS = 15.0
# A rate limit lasts until the next full hour: closer to it than this, a test waits for
# the new hour rather than see its pause end halfway.
HOUR_MARGIN_SECONDS = 20

T = TypeVar("T")


@dataclass
class Receivers:
    chatwork: LocalServer
    webhook: LocalServer

    def notify_config(self) -> dict[str, str]:
        """The `[notify]` section a user writes, pointed at the local receivers."""
        return {
            "chatwork_token_env": TOKEN_ENV,
            "chatwork_room_id": ROOM,
            "chatwork_api_url": self.chatwork.url,
            "webhook_url": self.webhook.url + HOOK_PATH,
        }

    def chatwork_messages(self) -> list[str]:
        """Each post's text, once it is checked to be Chatwork's v2 call to our room."""
        texts = []
        for seen in self.chatwork.seen():
            assert seen.path == f"/v2/rooms/{ROOM}/messages", seen.path
            assert seen.headers.get("x-chatworktoken") == CHATWORK_TOKEN
            texts.append(seen.form()["body"][0])
        return texts

    def webhook_messages(self) -> list[str]:
        """Each post's text, once it is checked to be a Slack-style JSON post."""
        texts = []
        for seen in self.webhook.seen():
            assert seen.path == HOOK_PATH, seen.path
            assert seen.headers.get("content-type") == "application/json"
            texts.append(str(seen.json()["text"]))
        return texts


@dataclass
class Scene:
    """A shop folder, the sandbox and the two receivers of one test."""

    workdir: Path
    sandbox: Sandbox
    receivers: Receivers
    secrets: set[str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def configure(self, accounts: tuple[str, ...], rules: dict[str, Any] | None = None) -> None:
        """Short intervals, no spacing, two attempts; every account logged in."""
        write_config(
            self.workdir,
            self.sandbox.url,
            accounts=accounts,
            interval_seconds=1.0,
            platform={
                "min_interval_seconds": 0,
                "retry_delay_seconds": 0.2,
                "max_attempts": MAX_ATTEMPTS,
            },
            cluster={"lease_ttl_seconds": 3},
            notify=self.receivers.notify_config(),
            rules=rules,
        )
        login_all(self.workdir, self.sandbox.url, accounts)
        self.secrets |= stored_tokens(self.workdir)

    def queue(self, account: str, titles: dict[str, str]) -> None:
        """Import products (asin → title) for `account` and queue them for now."""
        path = self.workdir / f"products_{account}.csv"
        rows = ["asin,title,description,price,stock"]
        rows += [f"{asin},{title},説明文です。,1980,3" for asin, title in titles.items()]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        ok(cli(self.workdir, "products", "import", str(path), "--account-id", account))
        queued = ok(cli(self.workdir, "add-to-queue", "--limit", str(len(titles))))
        assert f"Queued {len(titles)} item(s)" in queued, queued

    def daemon(self) -> subprocess.Popen[bytes]:
        """`upload-scheduler daemon --platform base --account A`, as a user starts it."""
        process = spawn(
            self.workdir, "daemon", "daemon", "--platform", "base", "--account", ACCOUNT
        )
        self.processes.append(process)
        return process

    def cleanup(self) -> None:
        """Whatever the test did: its daemons, the manager and its children end."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
        kill_leftovers(self.workdir)

    def statuses(self) -> dict[str, tuple[str, int]]:
        return {
            str(r["asin"]): (str(r["status"]), int(r["attempts"])) for r in queue_rows(self.workdir)
        }

    def expect_message(self, *words: str) -> tuple[str, str]:
        """The first message on each receiver that holds every one of `words`."""

        def found() -> tuple[str, str] | None:
            chatwork = [t for t in self.receivers.chatwork_messages() if all(w in t for w in words)]
            webhook = [t for t in self.receivers.webhook_messages() if all(w in t for w in words)]
            return (chatwork[0], webhook[0]) if chatwork and webhook else None

        return self.wait(found, f"a message with {words} on both receivers")

    def wait(self, predicate: Callable[[], T | None], what: str) -> T:
        """`wait_for`, bounded by MESSAGE_SECONDS, that shows the evidence when it fails."""
        try:
            value = wait_for(predicate, MESSAGE_SECONDS, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.evidence()}") from None
        assert value is not None  # wait_for returns only a true value
        return value

    def paused(self) -> bool:
        """Whether `account list` reports the account paused."""
        listed = json.loads(ok(cli(self.workdir, "account", "list", "--json")))
        (entry,) = [a for a in listed["accounts"] if a["account_id"] == ACCOUNT]
        return bool(entry["paused"])

    def assert_only(self, chatwork: str, webhook: str) -> None:
        """Each receiver got this one message and nothing else, the same text on both."""
        assert self.receivers.chatwork_messages() == [chatwork], self.evidence()
        assert self.receivers.webhook_messages() == [webhook], self.evidence()
        assert chatwork == webhook

    def all_messages(self) -> list[str]:
        return self.receivers.chatwork_messages() + self.receivers.webhook_messages()

    def assert_no_secret(self) -> None:
        """Neither receiver got a token, the webhook's secret path or the client secret."""
        self.secrets |= stored_tokens(self.workdir)
        for text in self.all_messages():
            leaked = [s for s in self.secrets if s in text]
            assert not leaked, f"a secret in a message: {text!r}"

    def evidence(self) -> str:
        """What a failing test shows: the messages, the queue, the logs."""
        parts = [
            f"chatwork got: {self.receivers.chatwork_messages()!r}",
            f"webhook got: {self.receivers.webhook_messages()!r}",
            f"queue: {self.statuses()!r}",
        ]
        for log in sorted((self.workdir / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text(encoding='utf-8', errors='replace')}")
        for out in sorted(self.workdir.glob("*.out")):
            parts.append(f"--- {out.name}\n{spawned_output(self.workdir, out.stem)}")
        return "\n".join(parts)


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    """The Chatwork token lives in the environment, as `chatwork_token_env` asks; every
    process started from here inherits it. No process of the folder outlives the test."""
    workdir = tmp_path / "shop"
    workdir.mkdir()
    monkeypatch.setenv(TOKEN_ENV, CHATWORK_TOKEN)
    secrets = {CHATWORK_TOKEN, HOOK_SECRET, HOOK_PATH, CLIENT_SECRET}
    with (
        local_server() as chatwork,
        local_server() as webhook,
        sandbox_process(tmp_path / "sandbox") as sandbox,
    ):
        scene = Scene(workdir, sandbox, Receivers(chatwork, webhook), secrets)
        try:
            yield scene
        finally:
            scene.cleanup()


def assert_names(text: str, kind: str, asin: str, *reason: str) -> None:
    """The message says what happened, to which account, for which item and why."""
    assert text.startswith(f"[upload-scheduler] {kind}: {ACCOUNT_KEY}\n"), text
    assert asin in text, text
    for words in reason:
        assert words in text, text


def test_a_permanent_failure_under_the_manager_reaches_chatwork_and_the_webhook(
    scene: Scene,
) -> None:
    scene.configure((ACCOUNT,), rules={"ng_words": [NG_WORD]})
    banned, clean = "B0NGWORD01", "B0CLEAN001"
    scene.queue(ACCOUNT, {banned: f"{NG_WORD} サンプル", clean: "普通の商品"})

    ok(cli(scene.workdir, "manager", "start", "--detach"))
    chatwork, webhook = scene.expect_message(banned)
    scene.wait(
        lambda: scene.statuses() == {banned: ("failed", 1), clean: ("success", 1)},
        "the clean item uploaded and the banned one failed",
    )
    stopped = cli(scene.workdir, "manager", "stop")
    assert stopped.returncode == 0, output(stopped)

    for text in (chatwork, webhook):
        assert_names(text, "item failed", banned, f"NG word '{NG_WORD}'", "nothing was sent")
    # One event, one message per receiver; the upload that succeeded is not news.
    scene.assert_only(chatwork, webhook)
    scene.assert_no_secret()
    banned_sent = [c for c in scene.sandbox.calls() if c.get("identifier") == banned]
    assert banned_sent == []  # the rule stopped it before BASE saw it


def test_an_item_failed_after_its_last_retry_under_the_daemon_reaches_both(
    scene: Scene,
) -> None:
    scene.configure((ACCOUNT,))
    asin = "B0RETRY001"
    scene.queue(ACCOUNT, {asin: "普通の商品"})
    # More server errors than attempts: only the attempt limit ends this item.
    scene.sandbox.control("faults", kind="server_error", path="/1/items/add", count=10)

    daemon = scene.daemon()
    chatwork, webhook = scene.expect_message(asin)
    code, _ = stop(daemon)
    assert code == 0, scene.evidence()

    for text in (chatwork, webhook):
        assert_names(text, "item failed", asin, "HTTP 500", f"after {MAX_ATTEMPTS} attempts")
    adds = [c for c in scene.sandbox.calls() if c.get("path") == "/1/items/add"]
    assert [c["outcome"] for c in adds] == ["fault:server_error"] * MAX_ATTEMPTS
    assert scene.statuses() == {asin: ("failed", MAX_ATTEMPTS)}
    # The retries before the last one are not failures: one message each.
    scene.assert_only(chatwork, webhook)
    scene.assert_no_secret()


def _away_from_the_hour() -> None:
    """Wait (at most HOUR_MARGIN_SECONDS) for a new hour if this one is about to end."""
    now = datetime.now()
    left = 3600 - (now.minute * 60 + now.second)
    if left < HOUR_MARGIN_SECONDS:
        time.sleep(left + 1)


# How each pause is brought about from outside the sandbox, and the words of its reason.
PAUSES: dict[str, tuple[list[tuple[str, dict[str, str]]], tuple[str, ...]]] = {
    "rate_limit": (
        [("spend_budget", {"shop": ACCOUNT, "period": "hour"})],
        ("hour_api_limit", "paused until the next full hour"),
    ),
    "refused_login": (
        [
            ("expire_tokens", {"shop": ACCOUNT}),
            ("revoke_refresh_tokens", {"shop": ACCOUNT}),
        ],
        ("the refresh token was refused", "token login"),
    ),
}


@pytest.mark.parametrize("cause", sorted(PAUSES))
def test_an_automatic_pause_under_the_daemon_reaches_both(scene: Scene, cause: str) -> None:
    steps, reason = PAUSES[cause]
    scene.configure((ACCOUNT,))
    asin = "B0PAUSE001"
    scene.queue(ACCOUNT, {asin: "普通の商品"})
    _away_from_the_hour()
    for endpoint, form in steps:
        scene.sandbox.control(endpoint, **form)

    daemon = scene.daemon()
    chatwork, webhook = scene.expect_message("account paused", ACCOUNT_KEY)
    # A pause is not a failure: the daemon waits, the item keeps its place and attempt.
    assert daemon.poll() is None, scene.evidence()
    assert scene.statuses() == {asin: ("pending", 0)}, scene.evidence()
    assert scene.paused(), scene.evidence()
    code, _ = stop(daemon)
    assert code == 0, scene.evidence()

    scene.assert_only(chatwork, webhook)
    scene.assert_no_secret()
    for text in (chatwork, webhook):
        assert_names(text, "account paused", asin, *reason)
