"""`upload-scheduler demo`, run as a newcomer runs it: the real command in a subprocess,
with its own sandbox processes (BASE, eBay and Yahoo!), manager and daemons. Each
platform's summary must match the database, each sandbox's record must be clean (eBay:
every item published once, at the formula's dollar price, after `account setup` created
the seller's location; Yahoo!: every item once in the store, published with its main
image, its images downloaded from the sandbox's origin), and nothing may be left running.
`--platforms base` is the BASE demo of old."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.demo_helpers import (
    kill_leftovers,
    output,
    processes_of,
    stored_tokens,
    wait_for,
)
from tests.dashboard_helpers import serving
from upload_scheduler.inventory.reader import detect_encoding
from upload_scheduler.platforms.ebay.sandbox import check_calls as ebay_check_calls
from upload_scheduler.platforms.ebay.sandbox import load_calls as ebay_load_calls
from upload_scheduler.platforms.thebase.sandbox import check_calls, load_calls
from upload_scheduler.platforms.yahoo.sandbox import check_calls as yahoo_check_calls
from upload_scheduler.platforms.yahoo.sandbox import load_calls as yahoo_load_calls

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="sends POSIX signals"),
]

# --minutes 1 at most plus the demo's own bound (2 more minutes) plus set-up and stop.
DEMO_TIMEOUT = 240
COLUMNS = ("queued", "success", "failed", "blocked by rules", "retried", "unfinished")
SELLER = "demo_seller_1"
STORE, SELLER_ID = "demo_store_1", "demo-store"  # the Yahoo! account and its store
# The demo's pricing (its config says so; the test works the formula out on its own).
EXCHANGE_RATE = Decimal(150)
MARKUP = Decimal("1.2")
BLOCKED = ("blocked by rule", "nothing was sent")


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


def printed_summary(stdout: str, title: str = "Summary") -> dict[str, dict[str, int]]:
    """The rows of the printed summary table titled `title`, by account (and "all")."""
    start = stdout.index(title)
    rows: dict[str, dict[str, int]] = {}
    for line in stdout[start:].splitlines():
        cells = [c.strip() for c in line.split("│")]
        cells = [c for c in cells if c]
        if len(cells) == len(COLUMNS) + 1 and cells[1].isdigit():
            rows[cells[0]] = dict(zip(COLUMNS, map(int, cells[1:]), strict=True))
        if rows and line.startswith("└"):
            break
    return rows


def database_rows(workdir: Path, platform: str | None = None) -> list[dict[str, Any]]:
    path = workdir / "data" / "upload_scheduler.db"
    with closing(sqlite3.connect(path, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM upload_queue")]
    return [r for r in rows if platform is None or r["platform"] == platform]


def succeeded(workdir: Path, platform: str) -> set[str]:
    """The ASINs the database calls a success on `platform`."""
    return {r["asin"] for r in database_rows(workdir, platform) if r["status"] == "success"}


def yen_prices(workdir: Path) -> dict[str, int]:
    path = workdir / "data" / "upload_scheduler.db"
    with closing(sqlite3.connect(path, timeout=10)) as db:
        return {asin: int(price) for asin, price in db.execute("SELECT asin, price FROM products")}


def dollars(yen: int) -> str:
    """yen × markup ÷ exchange rate, half up to the cent, as the issue states it."""
    price = Decimal(yen) * MARKUP / EXCHANGE_RATE
    return str(price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def expected_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = {}
    for row in rows:
        for key in (row["account_id"], "all"):
            counts = table.setdefault(key, Counter())
            message = row["error_message"] or ""
            blocked = row["status"] == "failed" and any(m in message for m in BLOCKED)
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


def test_demo_on_base_ebay_and_yahoo_20_items_in_half_a_minute_exits_0_and_matches_the_sandboxes(
    workdir: Path,
) -> None:
    result = run_demo(workdir, "--items", "20", "--minutes", "0.5")
    assert result.returncode == 0, output(result)
    out = result.stdout
    assert "[7/7] Uploading" in out

    # Each platform's summary printed is the database's.
    saved = json.loads((workdir / "demo-summary.json").read_text(encoding="utf-8"))
    titles = {"base": "Summary: BASE", "ebay": "Summary: eBay", "yahoo": "Summary: Yahoo!"}
    ended: dict[str, dict[str, int]] = {}
    for platform, title in titles.items():
        rows = database_rows(workdir, platform)
        expected = expected_summary(rows)
        # Rule-blocked items end failed too: the counter counts every ended upload.
        statuses = Counter(r["status"] for r in rows)
        ended[platform] = {r: statuses[r] for r in ("success", "failed")}
        assert printed_summary(out, title) == expected, out
        total = expected["all"]
        assert total["queued"] == 22  # 20 valid (one of them urgent) + 2 blocked
        assert total["blocked by rules"] == 2
        assert total["unfinished"] == 0
        assert total["success"] + total["failed"] == 20
        urgent = [r for r in rows if r["priority"] == 20]
        assert len(urgent) == 1 and urgent[0]["status"] in ("success", "failed")
        assert saved["platforms"][platform]["total"]["queued"] == 22
        assert saved["platforms"][platform]["verdict"]["clean"] is True
    assert saved["total"]["queued"] == 66 and saved["verdict"]["clean"] is True

    # The dashboard, run as an operator runs it on the demo's folder, counts the same
    # uploads in /metrics (the trigger-kept counter) and shows every account.
    with serving(workdir) as url:
        metrics = httpx.get(url + "metrics", timeout=10.0).text
        overview = httpx.get(url, timeout=10.0).text
    for platform, counts in ended.items():
        for result_name, count in counts.items():
            found = re.findall(
                rf'^upload_scheduler_uploads_total{{platform="{platform}",account="[^"]+",'
                rf'result="{result_name}"}} (\d+)$',
                metrics,
                re.M,
            )
            assert sum(int(n) for n in found) == count, (platform, result_name, found)
    assert all(name in overview for name in ("demo_shop_1", "demo_shop_2", SELLER, STORE))
    assert {r["account_id"] for r in database_rows(workdir, "ebay")} == {SELLER}
    assert {r["account_id"] for r in database_rows(workdir, "yahoo")} == {STORE}

    # BASE's sandbox agrees: each success created once, in its shop; no limits hit.
    base_rows = database_rows(workdir, "base")
    calls = load_calls(workdir / "logs" / "sandbox_calls.jsonl")
    verdict = check_calls(calls)
    assert verdict.ok, verdict.problems
    created = Counter(
        (c["shop"], c["identifier"])
        for c in calls
        if c["path"] == "/1/items/add" and c["outcome"] in ("ok", "fault:lost_response")
    )
    successes = {(r["account_id"], r["asin"]) for r in base_rows if r["status"] == "success"}
    assert successes <= set(created) and all(created[k] == 1 for k in successes)
    assert "BASE sandbox verdict: clean" in out

    # eBay's sandbox agrees: every success published exactly once (one offer, one
    # listing), nothing left without a published offer, no 429, at the formula's price.
    ebay_rows = database_rows(workdir, "ebay")
    ebay_calls = ebay_load_calls(workdir / "logs" / "ebay_sandbox_calls.jsonl")
    ebay_verdict = ebay_check_calls(ebay_calls, expect_all_listed=True)
    assert ebay_verdict.ok, ebay_verdict.problems
    listed = ebay_verdict.sellers[SELLER]
    published = succeeded(workdir, "ebay")
    assert len(published) >= 18
    assert set(listed.listings_created) == published
    assert all(sum(listed.listings_created[a].values()) == 1 for a in published)
    assert all(sum(listed.offers_created[a].values()) == 1 for a in published)
    blocked = {r["asin"] for r in ebay_rows if "nothing was sent" in (r["error_message"] or "")}
    assert len(blocked) == 2 and not blocked & set(listed.items)  # never sent
    state = json.loads((workdir / "logs" / "ebay_sandbox_state.json").read_text("utf-8"))
    offers = {o["sku"]: o for o in state["sellers"][SELLER]["offers"]}
    yen = yen_prices(workdir)
    for asin in published:
        assert offers[asin]["status"] == "PUBLISHED"
        assert (offers[asin]["price"], offers[asin]["currency"]) == (dollars(yen[asin]), "USD")
    assert "eBay sandbox verdict: clean" in out and "every price as the formula says" in out
    assert f"\uffe5{yen['B0DEMO0000']:,}" in out and dollars(yen["B0DEMO0000"]) in out

    # Yahoo!'s sandbox agrees: every success once in the store, published with its main
    # image (downloaded from the sandbox's origin), nothing pending, no 429 or 403.
    record = yahoo_load_calls(workdir / "logs" / "yahoo_sandbox_calls.jsonl")
    yahoo_verdict = yahoo_check_calls(record, expect_all_published=True)
    assert yahoo_verdict.ok, yahoo_verdict.problems
    in_store, listed_there = yahoo_verdict.stores[SELLER_ID], succeeded(workdir, "yahoo")
    assert len(listed_there) >= 18 and set(in_store) == listed_there
    assert all(in_store[a].published and in_store[a].main_image for a in listed_there)
    assert all(a.startswith("B0YAHO") for a in listed_there)  # Yahoo!'s copy of the catalogue
    assert "Yahoo! sandbox verdict: clean" in out and "every item once in its store" in out
    assert f"token login --platform yahoo --account {STORE}" in out
    assert f"Logged in yahoo/{STORE}" in out

    # The seller was logged in through `token login --code` and made ready by
    # `account setup`, which created the missing location before the first item.
    assert f"token login --platform ebay --account {SELLER}" in out
    assert f"Logged in ebay/{SELLER}" in out
    assert f"account setup --platform ebay --account {SELLER}` (exit 0)" in out
    assert "created merchant location" in out
    effects = [c.get("effect") for c in ebay_calls if c.get("effect")]
    assert effects.count("location_created") == 1
    assert effects.index("location_created") < effects.index("item_put")
    assert out.index("account setup") < out.index("manager start --detach")

    # What the issue promises to show: the import's bad rows, token refreshes, where
    # the files are and how to look further.
    assert "3 rows rejected" in out
    assert all(n >= 1 for n in saved["token_refreshes"].values()), saved["token_refreshes"]
    assert set(saved["token_refreshes"]) == {"demo_shop_1", "demo_shop_2", SELLER, STORE}
    assert "Token refreshes on BASE:" in out and "Token refreshes on eBay:" in out
    assert "Token refreshes on Yahoo!:" in out
    config = str(workdir.resolve() / "upload-scheduler.toml")
    queues = ("check-queue", "check-queue --platform ebay", "check-queue --platform yahoo")
    for command in (*queues, "logs", "manager status", "dashboard"):
        assert f"upload-scheduler --config {config} {command}" in out
    assert str(workdir.resolve() / "data" / "upload_scheduler.db") in out

    # No secret in what a person sees: not the tokens, not the client secrets, not the
    # consent address (the command log leaves it out).
    commands_log = (workdir / "logs" / "demo_commands.log").read_text(encoding="utf-8")
    config_text = (workdir / "upload-scheduler.toml").read_text(encoding="utf-8")
    secrets = {line.split('"')[1] for line in config_text.splitlines() if "client_secret" in line}
    assert len(secrets) == 3
    for secret in secrets | stored_tokens(workdir):
        assert secret not in out + result.stderr and secret not in commands_log
    assert "code=" not in commands_log

    # The CSV is what Excel in Japan writes, with the English columns eBay lists.
    raw = (workdir / "products.csv").read_bytes()
    assert detect_encoding(raw) == "cp932" and b"\r\n" in raw
    assert raw.split(b"\r\n")[0].endswith(b"title_en,description_en")
    assert detect_encoding((workdir / "products_yahoo.csv").read_bytes()) == "cp932"

    # Nothing is left running, and the work folder is usable.
    assert processes_of(workdir) == []
    assert cli(workdir, "manager", "status").returncode == 3
    assert cli(workdir, "check-queue").returncode == 0
    assert cli(workdir, "check-queue", "--platform", "ebay").returncode == 0

    # A second run into the same folder refuses, naming --fresh.
    again = run_demo(workdir, timeout=60)
    assert again.returncode == 2, output(again)
    assert "already holds a demo run" in again.stderr and "--fresh" in again.stderr


def test_platforms_base_is_the_old_demo(workdir: Path) -> None:
    result = run_demo(workdir, "--items", "10", "--minutes", "0.25", "--platforms", "base")
    assert result.returncode == 0, output(result)
    out = result.stdout
    steps = re.findall(r"^\[(\d+)/(\d+)\]", out, re.MULTILINE)
    assert steps == [(str(n), "6") for n in range(1, 7)], out
    assert "Sandbox listening on" in out and "Sandbox verdict: clean" in out
    assert "eBay" not in out and "account setup" not in out and "Yahoo" not in out
    rows = database_rows(workdir)
    assert {r["platform"] for r in rows} == {"base"}
    assert printed_summary(out) == expected_summary(rows)
    assert expected_summary(rows)["all"]["queued"] == 12
    config = (workdir / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert "[platforms.ebay" not in config
    assert not (workdir / "logs" / "ebay_sandbox_calls.jsonl").exists()
    header = (workdir / "products.csv").read_bytes().split(b"\r\n")[0]
    assert header == b"asin,title,description,price,stock,images,brand,category"
    assert "Done: every queued item reached a final state and the sandbox's verdict is clean" in out
    assert processes_of(workdir) == []


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

        wait_for(lambda: "[7/7] Uploading" in text(), 60, "the upload phase")
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
    # The sandboxes are gone, their records and the eBay sandbox's last state kept.
    log_dir = workdir / "logs"
    for name in ("sandbox", "ebay_sandbox", "yahoo_sandbox"):
        assert not (log_dir / f"{name}.pid").exists()
    assert (log_dir / "yahoo_sandbox_calls.jsonl").exists()
    assert (log_dir / "ebay_sandbox_calls.jsonl").exists()
    assert (log_dir / "ebay_sandbox_state.json").exists()
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
    unknown = run_demo(tmp_path / "new", "--platforms", "base,amazon", timeout=60)
    assert unknown.returncode == 2 and "--platforms" in unknown.stderr, output(unknown)
    assert not (tmp_path / "new").exists()
