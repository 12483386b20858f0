"""`token login|status|refresh` and `rules check` as a user runs them: real processes, a
sandbox started with `upload-scheduler sandbox serve`, and a browser played by httpx.
The database is the `database_url` fixture's, SQLite or PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from tests.acceptance.cli import run_cli
from tests.base_helpers import CLIENT_ID, free_port, obtain_code
from upload_scheduler.platforms.thebase.sandbox import load_calls
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import sqlite_path
from upload_scheduler.store.tables import (
    account_state,
    listings,
    oauth_tokens,
    products,
    upload_queue,
)

pytestmark = pytest.mark.acceptance

SECRET_ENV = "US_TEST_BASE_CLIENT_SECRET"
SECRET = "cli-secret-5e6f7a8b9c0d"
TIMEOUT = 30


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`upload-scheduler sandbox serve`, as the demo and a rehearsing user start it."""
    record = tmp_path_factory.mktemp("sandbox") / "calls.jsonl"
    serve = ["sandbox", "serve", "--port", "0", "--token-lifetime", "120", "--record", str(record)]
    process = subprocess.Popen(
        [sys.executable, "-m", "upload_scheduler", *serve],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("Sandbox listening on http://127.0.0.1:"), first
        yield first.rsplit(" ", 1)[1], record
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def write_config(
    workdir: Path, database_url: str, sandbox_url: str, port: int, rules: str = ""
) -> Path:
    config = workdir / "upload-scheduler.toml"
    config.write_text(
        f"""\
database = "{database_url}"

[accounts]
base = ["shop_a", "shop_b"]

[platforms.base]
api_base_url = "{sandbox_url}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
redirect_uri = "http://127.0.0.1:{port}/callback"
{rules}
""",
        encoding="utf-8",
    )
    return config


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = str(workdir / "upload-scheduler.toml")
    return run_cli("--config", config, *args, cwd=workdir, env={SECRET_ENV: SECRET})


def stored_tokens(database_url: str) -> dict[str, tuple[str, str]]:
    engine = open_database(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(oauth_tokens)).mappings().all()
    finally:
        engine.dispose()
    return {r["account_id"]: (r["access_token"], r["refresh_token"]) for r in rows}


def test_login_with_the_loopback_listener_then_status_then_refresh(
    tmp_path: Path, database_url: str, sandbox: tuple[str, Path]
) -> None:
    url, record = sandbox
    port = free_port()
    write_config(tmp_path, database_url, url, port)
    outputs: list[str] = []

    before = cli(tmp_path, "token", "status")
    outputs += [before.stdout, before.stderr]
    assert before.returncode == 1
    assert "no tokens stored" in before.stdout
    assert "token login --platform base --account shop_a" in before.stderr

    engine = open_database(database_url)
    with engine.begin() as conn:
        conn.execute(
            insert(account_state).values(
                platform="base",
                account_id="shop_a",
                paused_until=None,
                pause_reason="auth: the refresh token was refused",
            )
        )

    command = ["--config", str(tmp_path / "upload-scheduler.toml"), "token", "login"]
    command += ["--platform", "base", "--account", "shop_a", "--listen", f"127.0.0.1:{port}"]
    command += ["--no-browser", "--timeout", str(TIMEOUT)]
    login = subprocess.Popen(
        [sys.executable, "-m", "upload_scheduler", *command],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", SECRET_ENV: SECRET},
    )
    try:
        assert login.stdout is not None
        seen = []
        for line in login.stdout:
            seen.append(line)
            if line.startswith(url):
                authorize = line.strip()
                break
        else:
            pytest.fail(
                f"no authorize URL printed: {seen} {login.stderr.read() if login.stderr else ''}"
            )
        params = httpx.URL(authorize).params
        assert params["scope"] == "read_items write_items" and params["state"]
        assert params["shop"] == "shop_a"  # the sandbox-only shop name, for a loopback API
        with httpx.Client(follow_redirects=True, timeout=TIMEOUT) as browser:
            landed = browser.get(authorize)
        assert landed.status_code == 200 and "Logged in" in landed.text
        out, err = login.communicate(timeout=TIMEOUT)
    finally:
        if login.poll() is None:
            login.kill()
            login.communicate()
    outputs += [*seen, out, err]
    assert login.returncode == 0, err
    assert "Logged in base/shop_a" in out
    with engine.connect() as conn:
        state = conn.execute(select(account_state)).mappings().one()
    engine.dispose()
    assert state["pause_reason"] is None  # the login lifted the auth pause
    database = sqlite_path(database_url)
    if database is not None and sys.platform != "win32":  # PostgreSQL has no file to check
        assert stat.S_IMODE(database.stat().st_mode) == 0o600  # it holds tokens

    code = obtain_code(url, "shop_b", redirect_uri=f"http://127.0.0.1:{port}/callback")
    by_code = cli(tmp_path, "token", "login", "--account", "shop_b", "--code", code)
    outputs += [by_code.stdout, by_code.stderr]
    assert by_code.returncode == 0, by_code.stderr
    refused = cli(tmp_path, "token", "login", "--account", "shop_b", "--code", code)  # used up
    outputs += [refused.stdout, refused.stderr]
    assert refused.returncode == 1
    assert "invalid_request" in refused.stderr and "不正な認可コードです" in refused.stderr

    status = cli(tmp_path, "token", "status", "--json")
    outputs += [status.stdout, status.stderr]
    assert status.returncode == 0, status.stderr
    accounts = {a["account_id"]: a for a in json.loads(status.stdout)["accounts"]}
    logged_in = stored_tokens(database_url)
    for account_id in ("shop_a", "shop_b"):
        assert accounts[account_id]["status"] == "ok"
        assert accounts[account_id]["access_token"] == "…" + logged_in[account_id][0][-4:]
        assert accounts[account_id]["refresh_token_age_days"] == 0.0

    refreshed = cli(tmp_path, "token", "refresh")
    outputs += [refreshed.stdout, refreshed.stderr]
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.stdout.count("refreshed, valid until") == 2
    after = stored_tokens(database_url)
    assert all(after[a][0] != logged_in[a][0] for a in after)
    grants = [
        c for c in load_calls(record) if c["path"] == "/1/oauth/token" and c["outcome"] == "ok"
    ]
    assert {c["shop"] for c in grants} >= {"shop_a", "shop_b"}

    text = "\n".join(outputs) + record.read_text(encoding="utf-8")
    secrets = [SECRET, *(t for pair in (*logged_in.values(), *after.values()) for t in pair)]
    for secret in secrets:
        assert secret not in text


def test_rules_check_lists_the_queued_items_that_would_be_blocked(
    tmp_path: Path, database_url: str, sandbox: tuple[str, Path]
) -> None:
    rules = """
[platforms.base.rules]
ng_words = ["エアガン"]
blocked_categories = ["医薬品"]
remove_phrases = ["【Amazon.co.jp限定】"]
min_price = 300
"""
    write_config(tmp_path, database_url, sandbox[0], free_port(), rules)
    engine = open_database(database_url)
    now = datetime.now(UTC)
    rows = [
        ("B0CLEAN001", "【Amazon.co.jp限定】 革財布", "", 1980),
        ("B0NGWORD01", "電動エアガン", "", 1980),
        ("B0MEDICAL1", "かぜ薬", "ヘルスケア > 医薬品", 1980),
        ("B0CHEAP001", "シール", "", 100),
    ]
    with engine.begin() as conn:
        for n, (asin, title, category, price) in enumerate(rows, start=1):
            stamps = {"created_at": now, "updated_at": now}
            conn.execute(
                insert(products).values(
                    asin=asin, title=title, category=category, price=price, **stamps
                )
            )
            conn.execute(
                insert(listings).values(
                    id=n, asin=asin, platform="base", account_id="shop_a", status="queued", **stamps
                )
            )
            conn.execute(
                insert(upload_queue).values(
                    listing_id=n,
                    asin=asin,
                    platform="base",
                    account_id="shop_a",
                    scheduled_time=now,
                    **stamps,
                )
            )
    engine.dispose()
    result = cli(tmp_path, "rules", "check", "--platform", "base")
    assert result.returncode == 0, result.stderr
    assert "3 of 4 pending base item(s) would be blocked" in result.stdout
    for asin, rule in (("B0NGWORD01", "ng_words"), ("B0MEDICAL1", "blocked_categories")):
        line = next(line for line in result.stdout.splitlines() if asin in line)
        assert rule in line
    assert "min_price" in result.stdout
    assert "B0CLEAN001" not in result.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "[::]"])
def test_login_refuses_a_listener_other_computers_can_reach(
    tmp_path: Path, database_url: str, host: str
) -> None:
    write_config(tmp_path, database_url, "http://127.0.0.1:9", free_port())
    login = ["token", "login", "--account", "shop_a", "--no-browser", "--timeout", "1"]
    refused = cli(tmp_path, *login, "--listen", f"{host}:{free_port()}")
    assert refused.returncode == 2, refused.stderr
    assert "not a loopback address" in refused.stderr and "--allow-remote" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""


def test_login_with_allow_remote_passes_the_check(tmp_path: Path, database_url: str) -> None:
    """192.0.2.1 is a documentation address no interface has: the listener cannot bind
    it, which shows the address got past the check without exposing anything."""
    write_config(tmp_path, database_url, "http://127.0.0.1:9", free_port())
    login = ["token", "login", "--account", "shop_a", "--no-browser", "--timeout", "1"]
    allowed = cli(tmp_path, *login, "--listen", f"192.0.2.1:{free_port()}", "--allow-remote")
    assert allowed.returncode == 1, allowed.stderr
    assert "cannot listen on 192.0.2.1" in allowed.stderr
    assert "not a loopback address" not in allowed.stderr
    local = cli(tmp_path, *login, "--listen", f"localhost:{free_port()}")
    assert local.returncode == 1, local.stderr  # loopback needs no flag: it waits, times out
    assert "not a loopback address" not in local.stderr
