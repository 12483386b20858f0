"""`upload-scheduler dashboard` run as an operator runs it: a real config file, a SQLite
file filled by the real CLI, the real server process. Its first line names the address
(`--port 0` picks one); the pages answer with their data; an action without the page's
CSRF token is refused; a non-loopback address without logins is refused with exit 2;
with logins, a request without them is refused and the viewer cannot act."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from tests.acceptance.cli import run_cli
from tests.acceptance.test_cli_foundation import seed_products
from tests.dashboard_helpers import serving

pytestmark = pytest.mark.acceptance

CONFIG = """\
database = "sqlite:///{db}"
timezone = "Asia/Tokyo"

[accounts]
base = ["shop_a", "shop_b"]
{extra}
"""
LOGINS = """
[dashboard]
username = "boss"
password_env = "TEST_DASHBOARD_PASSWORD"
viewer_username = "intern"
viewer_password_env = "TEST_DASHBOARD_VIEWER_PASSWORD"
"""
PASSWORDS = {
    "TEST_DASHBOARD_PASSWORD": "op-secret-4711",
    "TEST_DASHBOARD_VIEWER_PASSWORD": "view-secret-0815",
}


def make_workdir(tmp_path: Path, extra: str = "") -> Path:
    config = CONFIG.format(db=tmp_path / "queue.db", extra=extra)
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    seed_products(tmp_path, 3)
    result = run_cli("add-to-queue", "--limit", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path


def test_serves_pages_with_their_data_and_refuses_a_post_without_its_token(
    tmp_path: Path,
) -> None:
    workdir = make_workdir(tmp_path)
    with serving(workdir) as url, httpx.Client(base_url=url, timeout=10.0) as client:
        overview = client.get("/")
        assert overview.status_code == 200
        assert "shop_a" in overview.text and "shop_b" in overview.text
        assert "Content-Security-Policy" in overview.headers or (
            "content-security-policy" in overview.headers
        )
        queue = client.get("/queue", params={"status": "pending"})
        assert queue.status_code == 200
        assert queue.text.count('data-status="pending"') == 3
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert (
            'upload_scheduler_queue_items{platform="base",account="shop_a",status="pending"}'
            in (metrics.text)
        )
        assert client.get("/healthz").text == "ok"
        refused = client.post("/accounts/pause", data={"account": "base/shop_a"})
        assert refused.status_code == 403
        listed = run_cli("account", "list", "--json", cwd=workdir)
        assert '"paused": false' in listed.stdout.replace("\n", " ") or '"paused":false' in (
            listed.stdout
        )


def test_a_non_loopback_address_without_logins_is_refused(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path)
    result = run_cli("dashboard", "--host", "0.0.0.0", "--port", "0", cwd=workdir)
    assert result.returncode == 2
    assert "[dashboard] username" in result.stderr
    assert "Dashboard:" not in result.stdout


def test_logins_are_required_and_the_viewer_cannot_act(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, LOGINS)
    with serving(workdir, env=PASSWORDS) as url:
        assert httpx.get(url, timeout=10.0).status_code == 401
        assert httpx.get(url + "healthz", timeout=10.0).status_code == 200
        wrong = httpx.get(url, auth=("boss", "nope"), timeout=10.0)
        assert wrong.status_code == 401
        with httpx.Client(base_url=url, auth=("intern", PASSWORDS[
            "TEST_DASHBOARD_VIEWER_PASSWORD"]), timeout=10.0) as viewer:  # fmt: skip
            page = viewer.get("/")
            assert page.status_code == 200
            assert 'id="read-only"' in page.text
            assert "op-secret" not in page.text and "view-secret" not in page.text
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', viewer.get("/queue").text)
            data = {"account": "base/shop_a", "csrf_token": token.group(1) if token else ""}
            assert viewer.post("/accounts/pause", data=data).status_code == 403
        with httpx.Client(base_url=url, auth=("boss", PASSWORDS[
            "TEST_DASHBOARD_PASSWORD"]), timeout=10.0) as operator:  # fmt: skip
            page = operator.get("/")
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
            assert token, "the operator's overview has the pause form"
            data = {"account": "base/shop_a", "reason": "stocktaking", "csrf_token": token.group(1)}
            done = operator.post("/accounts/pause", data=data, headers={"origin": url.rstrip("/")})
            assert done.status_code == 303
    listed = run_cli("account", "list", "--json", cwd=workdir)
    assert "stocktaking" in listed.stdout


def test_a_missing_password_variable_is_named(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, LOGINS)
    result = run_cli("dashboard", "--port", "0", cwd=workdir, env={"PATH": os.environ["PATH"]})
    assert result.returncode == 2
    assert "TEST_DASHBOARD_PASSWORD" in result.stderr
