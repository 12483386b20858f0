"""`token login|status|refresh --platform ebay` as a user runs them: real processes, the
eBay sandbox started with `upload-scheduler sandbox serve --platform ebay`, a real config
file, and a browser played by httpx. eBay sends the browser to the RuName's page, so the
user pastes the address it ended on (or gives it with --code). The database is the
`database_url` fixture's, SQLite or PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from tests.acceptance.cli import run_cli
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import account_state, oauth_tokens

pytestmark = pytest.mark.acceptance

SECRET_ENV = "US_TEST_EBAY_CLIENT_SECRET"
SECRET = "ebay-cert-PRD-3c4d5e6f7a8b"
CLIENT_ID = "upload-sch-PRD-cli0001"
RUNAME = "Upload_Sched-UploadSc-PRD-cliruname"
TIMEOUT = 30
REFRESH_LIFETIME = timedelta(seconds=47_304_000)  # the sandbox's 18 months


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`upload-scheduler sandbox serve --platform ebay`, as the demo and a user start it."""
    record = tmp_path_factory.mktemp("ebay-sandbox") / "calls.jsonl"
    serve = ["sandbox", "serve", "--platform", "ebay", "--port", "0", "--token-lifetime", "20"]
    serve += ["--client-secret", SECRET, "--record", str(record)]
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


def write_config(workdir: Path, database_url: str, sandbox_url: str) -> Path:
    config = workdir / "upload-scheduler.toml"
    config.write_text(
        f"""\
database = "{database_url}"

[accounts]
ebay = ["seller_a", "seller_b"]

[platforms.ebay]
api_base_url = "{sandbox_url}"
auth_base_url = "{sandbox_url}"
client_id = "{CLIENT_ID}"
client_secret_env = "{SECRET_ENV}"
redirect_uri = "{RUNAME}"
""",
        encoding="utf-8",
    )
    return config


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = str(workdir / "upload-scheduler.toml")
    return run_cli("--config", config, *args, cwd=workdir, env={SECRET_ENV: SECRET})


def accepted_address(authorize: str) -> str:
    """What the browser's address bar shows once the seller agreed: eBay's accept page
    (the RuName's), carrying the code and the state."""
    with httpx.Client(timeout=TIMEOUT) as browser:
        answer = browser.get(authorize)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def stored(database_url: str) -> dict[str, dict[str, object]]:
    engine = open_database(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(oauth_tokens)).mappings().all()
    finally:
        engine.dispose()
    return {r["account_id"]: dict(r) for r in rows}


def test_login_by_pasting_the_address_or_with_code_then_status_then_refresh(
    tmp_path: Path, database_url: str, sandbox: tuple[str, Path]
) -> None:
    url, record = sandbox
    write_config(tmp_path, database_url, url)
    outputs: list[str] = []

    before = cli(tmp_path, "token", "status", "--platform", "ebay")
    outputs += [before.stdout, before.stderr]
    assert before.returncode == 1
    assert "no tokens stored" in before.stdout
    assert "token login --platform ebay --account seller_a" in before.stderr

    engine = open_database(database_url)
    with engine.begin() as conn:
        conn.execute(
            insert(account_state).values(
                platform="ebay",
                account_id="seller_a",
                paused_until=None,
                pause_reason="auth: the refresh token was refused",
            )
        )
    engine.dispose()

    # seller_a: the consent URL is printed, the user pastes where the browser ended.
    command = ["--config", str(tmp_path / "upload-scheduler.toml"), "token", "login"]
    command += ["--platform", "ebay", "--account", "seller_a", "--no-browser"]
    login = subprocess.Popen(
        [sys.executable, "-m", "upload_scheduler", *command],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", SECRET_ENV: SECRET},
    )
    try:
        assert login.stdout is not None and login.stdin is not None
        seen = []
        for line in login.stdout:
            seen.append(line)
            if line.startswith(f"{url}/oauth2/authorize?"):
                authorize = line.strip()
                break
        else:
            pytest.fail(f"no consent URL printed: {seen}")
        params = httpx.URL(authorize).params
        assert params["client_id"] == CLIENT_ID and params["redirect_uri"] == RUNAME
        assert params["response_type"] == "code" and params["state"]
        assert params["scope"].split() == [
            "https://api.ebay.com/oauth/api_scope/sell.inventory",
            "https://api.ebay.com/oauth/api_scope/sell.account",
        ]
        assert params["seller"] == "seller_a"  # the sandbox-only seller, for a loopback host
        address = accepted_address(authorize)
        out, err = login.communicate(f"{address}\n", timeout=TIMEOUT)
    finally:
        if login.poll() is None:
            login.kill()
            login.communicate()
    outputs += [*seen, out, err]
    assert login.returncode == 0, err
    assert "Logged in ebay/seller_a" in out and "refresh token until" in out
    engine = open_database(database_url)
    with engine.connect() as conn:
        state = conn.execute(select(account_state)).mappings().one()
    engine.dispose()
    assert state["pause_reason"] is None  # the login lifted the auth pause

    # seller_b: --code with the whole address (no prompt, no browser).
    authorize_b = authorize.replace("seller=seller_a", "seller=seller_b")
    by_code = cli(
        tmp_path, "token", "login", "--platform", "ebay", "--account", "seller_b",
        "--code", accepted_address(authorize_b),
    )  # fmt: skip
    outputs += [by_code.stdout, by_code.stderr]
    assert by_code.returncode == 0, by_code.stderr
    assert "Logged in ebay/seller_b" in by_code.stdout

    # A pasted address from another login is refused.
    other = accepted_address(authorize).replace(params["state"], "someone-elses-state")
    wrong = subprocess.run(
        [sys.executable, "-m", "upload_scheduler", *command],
        cwd=tmp_path,
        input=f"{other}\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", SECRET_ENV: SECRET},
    )
    outputs += [wrong.stdout, wrong.stderr]
    assert wrong.returncode == 1 and "different state" in wrong.stderr

    tokens = stored(database_url)
    for account_id in ("seller_a", "seller_b"):
        row = tokens[account_id]
        ends = row["refresh_expires_at"]
        assert isinstance(ends, datetime) and isinstance(row["obtained_at"], datetime)
        assert abs(ends - row["obtained_at"] - REFRESH_LIFETIME) < timedelta(seconds=5)

    status = cli(tmp_path, "token", "status", "--platform", "ebay")
    outputs += [status.stdout, status.stderr]
    assert status.returncode == 0, status.stderr
    assert "valid until" in status.stdout and "refresh token ends" in status.stdout
    for account_id in ("seller_a", "seller_b"):
        line = next(x for x in status.stdout.splitlines() if account_id in x)
        access_end = tokens[account_id]["expires_at"]
        refresh_end = tokens[account_id]["refresh_expires_at"]
        assert isinstance(access_end, datetime) and isinstance(refresh_end, datetime)
        tokyo = timedelta(hours=9)  # shown in the configured zone, Asia/Tokyo by default
        assert (access_end + tokyo).strftime("%Y-%m-%d %H:%M") in line
        assert (refresh_end + tokyo).strftime("%Y-%m-%d") in line

    as_json = cli(tmp_path, "token", "status", "--platform", "ebay", "--json")
    outputs += [as_json.stdout, as_json.stderr]
    accounts = {a["account_id"]: a for a in json.loads(as_json.stdout)["accounts"]}
    assert accounts["seller_a"]["status"] == "ok"
    assert accounts["seller_a"]["refresh_token_expires_at"] is not None

    refreshed = cli(tmp_path, "token", "refresh", "--platform", "ebay")
    outputs += [refreshed.stdout, refreshed.stderr]
    assert refreshed.returncode == 0, refreshed.stderr
    assert refreshed.stdout.count("refreshed, valid until") == 2
    after = stored(database_url)
    for account_id in ("seller_a", "seller_b"):
        assert after[account_id]["access_token"] != tokens[account_id]["access_token"]
        # eBay's refresh answers an access token only: the refresh token and its end stay.
        assert after[account_id]["refresh_token"] == tokens[account_id]["refresh_token"]
        assert after[account_id]["refresh_expires_at"] == tokens[account_id]["refresh_expires_at"]

    text = "\n".join(outputs) + record.read_text(encoding="utf-8")
    secrets = [SECRET] + [
        str(row[key])
        for rows in (tokens, after)
        for row in rows.values()
        for key in ("access_token", "refresh_token")
    ]
    for secret in secrets:
        assert secret not in text
