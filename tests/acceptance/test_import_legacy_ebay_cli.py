"""`upload-scheduler import-legacy` on an old system that also listed on eBay, through
the real CLI: a dry run, the real run with its eBay lines, `config check` accepting the
eBay sellers, the queue, a second run that adds nothing, --json, --secrets-to-env, and
no secret printed where it should not be.

`config check` accepts [accounts] ebay only when an adapter named "ebay" is installed.
While the eBay adapter is still being written, the subprocesses get a stand-in: a
distribution on PYTHONPATH whose entry point registers the fake adapter as "ebay" (the
registry and `config check` read names only). Once the real one is installed, it is used
and the stand-in is not made."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli
from tests.legacy_fixtures import (
    ACCESS_1,
    EBAY_1,
    EBAY_2,
    EBAY_APP_1,
    EBAY_APP_2,
    EBAY_CERT_1,
    EBAY_CERT_2,
    EBAY_SECRETS,
    REFRESH_1,
    SECRET_1,
    SECRET_2,
    build_old_root,
    snapshot,
)
from upload_scheduler.legacy.config_writer import secret_lines
from upload_scheduler.legacy.ebay import SANDBOX_API_URL
from upload_scheduler.platforms import registry
from upload_scheduler.platforms.registry import ENTRY_POINT_GROUP

pytestmark = pytest.mark.acceptance
SECRETS = (SECRET_1, SECRET_2, ACCESS_1, REFRESH_1, *EBAY_SECRETS)


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


def ebay_env(tmp_path: Path) -> dict[str, str]:
    """The subprocesses' environment: the default config path, and a stand-in "ebay"
    adapter when the real one is not installed."""
    env = {"UPLOAD_SCHEDULER_CONFIG": str(tmp_path / "upload-scheduler.toml")}
    if registry.is_installed("ebay"):
        return env
    dist = tmp_path / "stand-in" / "ebay_stand_in-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ebay-stand-in\nVersion: 0.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nebay = upload_scheduler.platforms.fake:create_platform\n",
        encoding="utf-8",
    )
    paths = [str(dist.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def test_ebay_sellers_come_over_with_their_listings_and_tokens(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    before = snapshot(old.root)
    env = ebay_env(tmp_path)
    config = tmp_path / "upload-scheduler.toml"

    dry = run_cli("import-legacy", str(old.root), "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was written." in dry.stdout
    assert f"[accounts] ebay: {EBAY_1}, {EBAY_2}" in dry.stdout
    assert "6 would be added" in dry.stdout
    assert not config.exists() and not (tmp_path / "data").exists()

    done = run_cli("import-legacy", str(old.root), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"[accounts] ebay: {EBAY_1}, {EBAY_2}" in out
    assert "left out of [accounts]: ebay/ebay_account_3 (inactive" in out
    assert f"accounts: {EBAY_1} (production), {EBAY_2} (sandbox)" in out
    assert "App IDs differ" in out
    assert 'SKUs: sku_prefix "JP-" + ASIN gives 5 of 6 old SKU(s); 1 not' in out
    assert "listings: 6 old (listed 2, pending 1, queued 2, sold 1): 6 added" in out
    assert "3 listed with their listing id, 3 with an offer id" in out
    assert "queue rows: 4 old (pending 2, scheduled 1, success 1): 2 added" in out
    assert "tokens: 2 file(s): 2 added, 0 already here, 0 not carried" in out
    assert "B0EBAYNOOF ebay/ebay_account_1: CUSTOM-7" in out
    assert "dev_id is not needed" in out
    assert_no_secret(dry.stdout, dry.stderr, done.stdout, done.stderr)

    written = tomllib.loads(config.read_text(encoding="utf-8"))
    assert written["accounts"]["ebay"] == [EBAY_1, EBAY_2]
    assert written["platforms"]["ebay"]["client_id"] == EBAY_APP_1
    assert written["platforms"]["ebay"]["client_secret"] == EBAY_CERT_1
    assert written["platforms"]["ebay"]["sku_prefix"] == "JP-"
    assert written["platforms"]["ebay"]["pricing"] == {"currency": "USD"}
    own = written["account_overrides"][EBAY_2]
    assert (own["client_id"], own["client_secret"]) == (EBAY_APP_2, EBAY_CERT_2)
    assert own["api_base_url"] == SANDBOX_API_URL

    checked = run_cli("config", "check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "platform ebay" in checked.stdout
    assert EBAY_1 in checked.stdout and EBAY_2 in checked.stdout
    assert SANDBOX_API_URL in checked.stdout
    assert_no_secret(checked.stdout, checked.stderr)

    queue = run_cli(
        "check-queue", "--platform", "ebay", "--json", "--limit", "20", cwd=tmp_path, env=env
    )
    assert queue.returncode == 0, queue.stderr
    items = json.loads(queue.stdout)["items"]
    assert sorted(i["asin"] for i in items) == ["B0BOTHPEND", "B0EBAYBEGN"]
    assert {i["account_id"] for i in items} == {EBAY_1}

    again = run_cli("import-legacy", str(old.root), "--json", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["rows_added"] == 0 and report["changed"] is False
    assert report["ebay"]["listings"]["already_here"] == 6
    assert report["ebay"]["tokens"]["already_here"] == 2
    assert report["ebay"]["settings"] == "existing"
    assert report["ebay"]["skus"] == {
        "sku_prefix": "JP-",
        "sku_prefix_derived": False,
        "account_sku_prefixes": {},
        "checked": 6,
        "not_reproduced": 1,
        "examples": ["B0EBAYNOOF ebay/ebay_account_1: CUSTOM-7"],
    }
    assert_no_secret(again.stdout, again.stderr)
    assert snapshot(old.root) == before


def test_secrets_to_env_prints_the_ebay_variables(tmp_path: Path) -> None:
    old = build_old_root(tmp_path, ebay=True)
    env = ebay_env(tmp_path)
    args = ("import-legacy", str(old.root), "--secrets-to-env")
    dry = run_cli(*args, "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "EBAY_CLIENT_SECRET, EBAY_CLIENT_SECRET_EBAY_ACCOUNT_2" in dry.stdout
    assert_no_secret(dry.stdout, dry.stderr)

    result = run_cli(*args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    shown = {"EBAY_CLIENT_SECRET": EBAY_CERT_1, "EBAY_CLIENT_SECRET_EBAY_ACCOUNT_2": EBAY_CERT_2}
    for line in secret_lines(shown):  # `export` here, cmd.exe's `set` on Windows
        assert line in result.stdout
    text = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert EBAY_CERT_1 not in text and EBAY_CERT_2 not in text
    variables = {
        "BASE_CLIENT_SECRET": SECRET_1,
        "BASE_CLIENT_SECRET_BASE_ACCOUNT_2": SECRET_2,
        "EBAY_CLIENT_SECRET": EBAY_CERT_1,
        "EBAY_CLIENT_SECRET_EBAY_ACCOUNT_2": EBAY_CERT_2,
    }
    checked = run_cli("config", "check", cwd=tmp_path, env={**env, **variables})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "from $EBAY_CLIENT_SECRET (set)" in checked.stdout
    assert_no_secret(checked.stdout, checked.stderr)
