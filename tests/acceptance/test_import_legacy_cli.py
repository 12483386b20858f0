"""`upload-scheduler import-legacy` as an operator runs it on day one: a dry run, the
real run, the config it wrote passing `config check`, a second run that adds nothing,
--json for scripts, --secrets-to-env, and clear failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli
from tests.legacy_fixtures import (
    ACCESS_1,
    ACCOUNT_1,
    ACCOUNT_2,
    REFRESH_1,
    SECRET_1,
    SECRET_2,
    build_old_root,
    snapshot,
)

pytestmark = pytest.mark.acceptance
SECRETS = (SECRET_1, SECRET_2, ACCESS_1, REFRESH_1)


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


def test_day_one_dry_run_then_import_then_nothing_new(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    before = snapshot(old.root)

    dry = run_cli("import-legacy", str(old.root), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Dry run: nothing was written." in dry.stdout
    assert "would write" in dry.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old-system"]

    done = run_cli("import-legacy", str(old.root), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "wrote" in out and "readable by its owner only" in out
    assert "Old against new" in out
    assert "sold → listed" in out and "uploading → pending" in out
    assert "duplicate queue row: 2" in out
    assert "orphan queue row: no such product: 1" in out
    assert "needs a price (no selling_price): 1" in out
    assert "left out of [accounts]: base/base_account_3 (inactive" in out
    assert "Added 29 row(s)" in out
    assert_no_secret(dry.stdout, dry.stderr, done.stdout, done.stderr)

    checked = run_cli("config", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert ACCOUNT_1 in checked.stdout and ACCOUNT_2 in checked.stdout
    assert_no_secret(checked.stdout)

    queue = run_cli("check-queue", "--json", "--limit", "20", cwd=tmp_path)
    assert queue.returncode == 0, queue.stderr
    items = json.loads(queue.stdout)["items"]
    assert sorted(i["asin"] for i in items) == [
        "B0DUPQUEUE",
        "B0PRIORITY",
        "B0QUEUED01",
        "B0UNASSIGN",
        "B0UPLOADIN",
    ]
    first = next(i for i in items if i["asin"] == "B0QUEUED01")
    # 14:24:10 in the old machine's zone (JST) is 05:24:10 UTC.
    scheduled = datetime.fromisoformat(first["scheduled_time"])
    assert scheduled == datetime(2025, 11, 28, 5, 24, 10, tzinfo=UTC)

    again = run_cli("import-legacy", str(old.root), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "using the existing" in again.stdout
    assert "Nothing new: everything was already here" in again.stdout
    assert snapshot(old.root) == before


def test_json_output_for_scripts(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    result = run_cli("import-legacy", str(old.root), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is False and report["changed"] is True
    assert report["config"]["written"] is True
    assert report["config"]["path"] == str((tmp_path / "upload-scheduler.toml").resolve())
    queue = report["tables"]["upload_queue"]
    assert queue["old"] == {
        "failed": 1,
        "pending": 10,
        "scheduled": 2,
        "success": 1,
        "uploading": 1,
    }
    assert queue["added"] == {"pending": 3, "scheduled": 1, "uploading": 1}
    assert queue["left_behind"] == {"failed": 1, "success": 1}
    assert queue["new"] == {"pending": 5}
    skipped = {(s["table"], s["old_id"]): s for s in report["skipped"]}
    assert skipped[("upload_queue", "3")]["reason"] == "duplicate queue row"
    assert skipped[("upload_queue", "3")]["detail"] == "queue row 2 is carried"
    assert skipped[("listings", "14")]["reason"] == "listing without a product"
    assert_no_secret(result.stdout, result.stderr)

    again = json.loads(run_cli("import-legacy", str(old.root), "--json", cwd=tmp_path).stdout)
    assert again["rows_added"] == 0 and again["changed"] is False
    assert again["tables"]["upload_queue"]["already_here"] == queue["added"]


def test_secrets_to_env_prints_the_lines_to_set(tmp_path: Path) -> None:
    old = build_old_root(tmp_path)
    result = run_cli("import-legacy", str(old.root), "--secrets-to-env", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"export BASE_CLIENT_SECRET={SECRET_1}" in result.stdout
    assert f"export BASE_CLIENT_SECRET_BASE_ACCOUNT_2={SECRET_2}" in result.stdout
    text = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert SECRET_1 not in text and 'client_secret_env = "BASE_CLIENT_SECRET"' in text
    env = {"BASE_CLIENT_SECRET": SECRET_1, "BASE_CLIENT_SECRET_BASE_ACCOUNT_2": SECRET_2}
    checked = run_cli("config", "check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "from $BASE_CLIENT_SECRET (set)" in checked.stdout


def test_unusable_old_roots_and_usage_errors(tmp_path: Path) -> None:
    missing = run_cli("import-legacy", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    (tmp_path / "empty").mkdir()
    no_db = run_cli("import-legacy", str(tmp_path / "empty"), cwd=tmp_path)
    assert no_db.returncode == 1
    assert "no master database" in no_db.stderr and "Traceback" not in no_db.stderr
    usage = run_cli("import-legacy", cwd=tmp_path)
    assert usage.returncode == 2
    assert not (tmp_path / "upload-scheduler.toml").exists()
