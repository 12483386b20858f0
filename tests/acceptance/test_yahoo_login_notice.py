"""The four-week login watched as production runs it (issue 17): the real daemon, started
by the real CLI from a config file with a `[notify]` webhook, tells the operator 3 days
and 1 day before a Yahoo! login ends, once each, and pauses the store for a login when
it has ended, losing nothing; `token login` lifts the pause. Nothing is handed to the
daemon: the notifier is the one its config builds.

Four weeks cannot pass in a test: the login's stored end is moved, as a login made 26,
then 28 days ago would have it (the sandbox, like Yahoo!, does not say when a refresh
token ends, so the end is ours: the login's time plus four weeks)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.acceptance.demo_helpers import CONFIG_NAME, cli, kill_leftovers, ok, spawn, wait_for
from tests.acceptance.yahoo_run_helpers import (
    YahooSandbox,
    accounts_listed,
    login,
    write_yahoo_config,
    yahoo_sandbox,
)
from tests.notify_helpers import LocalServer, local_server
from upload_scheduler.config.load import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import oauth_tokens

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="stops processes with POSIX signals"),
]

ACCOUNT = "yahoo_watched"
STORE = "watched-shop"
HOOK_PATH = "/services/T0YAH/B0YAH/hooksecretYahoo7"
COMMAND = f"upload-scheduler token login --platform yahoo --account {ACCOUNT}"
MESSAGE_SECONDS = 15.0


def _move_login_end(workdir: Path, end: datetime) -> None:
    """The stored login's end, as a login made four weeks before `end` has it."""
    settings = load_settings((workdir / CONFIG_NAME).resolve())
    engine = open_database(settings.database_url, migrate=False)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(oauth_tokens)
                .where(oauth_tokens.c.platform == "yahoo", oauth_tokens.c.account_id == ACCOUNT)
                .values(refresh_expires_at=end)
            )
    finally:
        engine.dispose()


def _texts(hook: LocalServer) -> list[str]:
    return [str(seen.json()["text"]) for seen in hook.seen() if seen.path == HOOK_PATH]


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[tuple[Path, YahooSandbox, LocalServer]]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    with local_server() as hook, yahoo_sandbox(tmp_path / "sandbox") as sandbox:
        config = write_yahoo_config(workdir, sandbox.url, {ACCOUNT: STORE}, interval_seconds=0.5)
        with config.open("a", encoding="utf-8") as fh:
            fh.write(f'\n[notify]\nwebhook_url = "{hook.url}{HOOK_PATH}"\n')
        try:
            yield workdir, sandbox, hook
        finally:
            kill_leftovers(workdir)


def test_a_login_ending_is_told_3_and_1_day_before_then_pauses_until_token_login(
    scene: tuple[Path, YahooSandbox, LocalServer],
) -> None:
    workdir, sandbox, hook = scene
    assert f"Logged in yahoo/{ACCOUNT}" in login(workdir, sandbox, ACCOUNT)
    now = datetime.now(UTC)
    _move_login_end(workdir, now + timedelta(days=2, hours=12))
    status = json.loads(ok(cli(workdir, "token", "status", "--platform", "yahoo", "--json")))
    (row,) = status["accounts"]
    assert row["login_days_left"] == 2 and status["login_required"] == []
    # Without --platform, a config whose only token accounts are Yahoo!'s means Yahoo!.
    plain = json.loads(ok(cli(workdir, "token", "status", "--json")))
    assert [r["account_id"] for r in plain["accounts"]] == [ACCOUNT]

    # Each phase runs its own daemon: the notifier sends an account's first event at once
    # and gathers what follows within a minute into one message; a new process starts
    # afresh, and what was sent is known from the database, not from the process.
    with _daemon(workdir):
        three = _wait_text(hook, "within 3 day(s)", "the 3-day notice")
    assert COMMAND in three

    # The day after: the 1-day notice; the 3-day one is not sent again.
    _move_login_end(workdir, now + timedelta(hours=20))
    with _daemon(workdir):
        _wait_text(hook, "within 1 day(s)", "the 1-day notice")
    notices = [t for t in _texts(hook) if "within" in t]
    assert len(notices) == 2, notices

    # The end: the store pauses for a login, and the operator is told; nothing is lost.
    _move_login_end(workdir, now - timedelta(minutes=1))
    message = f"Yahoo! login ended: run `{COMMAND}`"
    with _daemon(workdir):
        _wait_text(hook, message, "the notice of the pause")
        listed = accounts_listed(workdir)[ACCOUNT]
        assert listed["paused"] is True and message in listed["pause_reason"]
        ended = cli(workdir, "token", "status", "--platform", "yahoo")
        assert ended.returncode == 1, ended.stdout + ended.stderr
        assert len([t for t in _texts(hook) if "within" in t]) == 2

    # A new login lifts the pause; its four weeks start again.
    assert f"Logged in yahoo/{ACCOUNT}" in login(workdir, sandbox, ACCOUNT)
    assert accounts_listed(workdir)[ACCOUNT]["paused"] is False
    status = json.loads(ok(cli(workdir, "token", "status", "--platform", "yahoo", "--json")))
    assert status["login_required"] == [] and status["accounts"][0]["login_days_left"] == 27


@contextmanager
def _daemon(workdir: Path) -> Iterator[None]:
    """`upload-scheduler daemon --platform yahoo --account A`, as a user starts it."""
    daemon = spawn(workdir, "daemon", "daemon", "--platform", "yahoo", "--account", ACCOUNT)
    try:
        yield
    finally:
        daemon.kill()
        daemon.wait(timeout=10)


def _wait_text(hook: LocalServer, words: str, what: str) -> str:
    """The first webhook message holding `words`, within MESSAGE_SECONDS."""
    found = wait_for(lambda: [t for t in _texts(hook) if words in t], MESSAGE_SECONDS, what)
    return found[0]
