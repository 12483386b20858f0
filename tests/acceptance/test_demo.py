"""`upload-scheduler demo`, run as a newcomer runs it: the real command in a subprocess,
with its own sandbox process, manager and daemons. Its summary must match the database,
the sandbox's record must be clean, and nothing may be left running."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.demo_helpers import kill_leftovers, output, processes_of, wait_for
from upload_scheduler.inventory.reader import detect_encoding
from upload_scheduler.platforms.thebase.sandbox import check_calls, load_calls

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="sends POSIX signals"),
]

# --minutes 1 plus the demo's own bound (2 more minutes) plus set-up and stop.
DEMO_TIMEOUT = 240
COLUMNS = ("queued", "success", "failed", "blocked by rules", "retried", "unfinished")


def demo_command(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "upload_scheduler", "demo", "--workdir", str(workdir), *args]


def demo_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    env.pop("UPLOAD_SCHEDULER_CONFIG", None)
    return env


def run_demo(
    workdir: Path, *args: str, timeout: float = DEMO_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        demo_command(workdir, *args),
        cwd=workdir.parent,
        env=demo_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = str(workdir / "upload-scheduler.toml")
    return subprocess.run(
        [sys.executable, "-m", "upload_scheduler", "--config", config, *args],
        env=demo_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def printed_summary(stdout: str) -> dict[str, dict[str, int]]:
    """The rows of the printed Summary table, by account (and "all")."""
    start = stdout.index("Summary")
    rows: dict[str, dict[str, int]] = {}
    for line in stdout[start:].splitlines():
        cells = [c.strip() for c in line.split("│")]
        cells = [c for c in cells if c]
        if len(cells) == len(COLUMNS) + 1 and cells[1].isdigit():
            rows[cells[0]] = dict(zip(COLUMNS, map(int, cells[1:]), strict=True))
        if rows and line.startswith("└"):
            break
    return rows


def database_rows(workdir: Path) -> list[dict[str, Any]]:
    path = workdir / "data" / "upload_scheduler.db"
    with closing(sqlite3.connect(path, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM upload_queue")]


def expected_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = {}
    for row in rows:
        for key in (row["account_id"], "all"):
            counts = table.setdefault(key, Counter())
            blocked = row["status"] == "failed" and "blocked by rule" in row["error_message"]
            counts["queued"] += 1
            counts["success"] += row["status"] == "success"
            counts["failed"] += row["status"] == "failed" and not blocked
            counts["blocked by rules"] += blocked
            counts["retried"] += row["attempts"] > 1
            counts["unfinished"] += row["status"] in ("pending", "uploading")
    return {k: {c: v[c] for c in COLUMNS} for k, v in table.items()}


@pytest.fixture
def workdir(tmp_path: Path) -> Any:
    folder = tmp_path / "upload-scheduler-demo"
    try:
        yield folder
    finally:
        kill_leftovers(folder)


def test_demo_20_items_in_1_minute_exits_0_and_its_summary_matches_the_database(
    workdir: Path,
) -> None:
    result = run_demo(workdir, "--items", "20", "--minutes", "1")
    assert result.returncode == 0, output(result)
    out = result.stdout

    # The summary printed is the database's.
    rows = database_rows(workdir)
    expected = expected_summary(rows)
    assert printed_summary(out) == expected, out
    total = expected["all"]
    assert total["queued"] == 22  # 20 valid (one of them urgent) + 2 blocked
    assert total["blocked by rules"] == 2
    assert total["unfinished"] == 0
    assert total["success"] + total["failed"] == 20
    urgent = [r for r in rows if r["priority"] == 20]
    assert len(urgent) == 1 and urgent[0]["status"] in ("success", "failed")
    saved = json.loads((workdir / "demo-summary.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in saved["total"].items() if k != "account_id"} == {
        "queued": total["queued"],
        "success": total["success"],
        "failed": total["failed"],
        "blocked": total["blocked by rules"],
        "retried": total["retried"],
        "unfinished": 0,
    }

    # The sandbox's record agrees: each success created once, in its shop; no limits hit.
    calls = load_calls(workdir / "logs" / "sandbox_calls.jsonl")
    verdict = check_calls(calls)
    assert verdict.ok, verdict.problems
    created = Counter(
        (c["shop"], c["identifier"])
        for c in calls
        if c["path"] == "/1/items/add" and c["outcome"] in ("ok", "fault:lost_response")
    )
    successes = {(r["account_id"], r["asin"]) for r in rows if r["status"] == "success"}
    assert successes <= set(created) and all(created[k] == 1 for k in successes)
    assert "Sandbox verdict: clean" in out

    # What the issue promises to show: the import's bad rows, token refreshes, where
    # the files are and how to look further.
    assert "3 rows rejected" in out
    assert all(n >= 1 for n in saved["token_refreshes"].values()), saved["token_refreshes"]
    assert "Token refreshes:" in out
    config = str(workdir.resolve() / "upload-scheduler.toml")
    for command in ("check-queue", "logs", "manager status"):
        assert f"upload-scheduler --config {config} {command}" in out
    assert str(workdir.resolve() / "data" / "upload_scheduler.db") in out

    # The CSV is what Excel in Japan writes.
    raw = (workdir / "products.csv").read_bytes()
    assert detect_encoding(raw) == "cp932" and b"\r\n" in raw

    # Nothing is left running, and the work folder is usable.
    assert processes_of(workdir) == []
    assert cli(workdir, "manager", "status").returncode == 3
    assert cli(workdir, "check-queue").returncode == 0

    # A second run into the same folder refuses, naming --fresh.
    again = run_demo(workdir, timeout=60)
    assert again.returncode == 2, output(again)
    assert "already holds a demo run" in again.stderr and "--fresh" in again.stderr


def test_ctrl_c_stops_everything_and_keeps_the_work_folder_usable(workdir: Path) -> None:
    log = workdir.parent / "demo.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            demo_command(workdir, "--items", "20", "--minutes", "1"),
            cwd=workdir.parent,
            env=demo_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def text() -> str:
            return log.read_text(encoding="utf-8", errors="replace")

        wait_for(lambda: "[6/6]" in text(), 60, "the upload phase")
        wait_for(
            lambda: any(r["status"] == "success" for r in database_rows(workdir)),
            30,
            "a first upload",
            poll=0.2,
        )
        process.send_signal(signal.SIGINT)  # what a terminal's Ctrl+C sends
        assert process.wait(timeout=90) == 130, text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert "Stopped by Ctrl+C" in text()
    assert processes_of(workdir) == []
    shown = cli(workdir, "check-queue")
    assert shown.returncode == 0 and "success" in shown.stdout, output(shown)
    logs = cli(workdir, "logs", "--no-follow")
    assert logs.returncode == 0 and "upload success" in logs.stdout, output(logs)


def test_options_that_cannot_work_and_foreign_folders_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "project"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    refused = run_demo(foreign, "--fresh", timeout=60)
    assert refused.returncode == 2, output(refused)
    assert "not made by `upload-scheduler demo`" in refused.stderr
    assert (foreign / "notes.txt").exists()
    too_many = run_demo(tmp_path / "new", "--items", "1500", "--minutes", "1", timeout=60)
    assert too_many.returncode == 2 and "do not fit" in too_many.stderr, output(too_many)
    assert not (tmp_path / "new").exists()
