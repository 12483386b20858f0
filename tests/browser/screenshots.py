"""The README's dashboard screenshots, made again by hand:

    python -m tests.browser.screenshots [--out docs/screenshots] [--workdir DIR]

A realistic small database comes from the real commands: `upload-scheduler demo` (two
BASE shops, an eBay seller and a Yahoo! store, each run by its daemon against the local
sandboxes: successes, retries after injected faults, items failed by the rules, the
logins), then three products queued now for a BASE shop (due, no daemon running), the
eBay seller paused with a reason (`account pause`) and its failed items retried (`queue
requeue`). The real dashboard serves it, and Debian's Chromium (never a downloaded
browser) saves the overview and the page of a retried item waiting on the pause, in
English and in Japanese (`?lang=ja`), 1280 px wide: overview-en.png, overview-ja.png,
item-en.png, item-ja.png. The Japanese pages need a Japanese font (Debian:
fonts-noto-cjk), or they show empty boxes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from tests.browser.chromium import chromium_path, launch_args
from tests.dashboard_helpers import serving
from upload_scheduler.config import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import upload_queue

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1280
DEMO_TIMEOUT = 300
DUE_SHOP = "demo_shop_2"
PAUSED_PLATFORM, PAUSED = "ebay", "demo_seller_1"
EXTRA_PRODUCTS = """\
asin,title,price,stock,brand,category
B0SHOT0001,ステンレス製 片手鍋 18cm IH対応,2480,6,サンプル工房,キッチン用品
B0SHOT0002,木製 収納ボックス 3段 ナチュラル,3980,4,サンプル家具,インテリア
B0SHOT0003,アウトドア 折りたたみチェア 軽量 アルミ,4580,10,サンプルアウトドア,スポーツ・アウトドア
"""


def cli(workdir: Path, *args: str, timeout: float = 60) -> str:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("UPLOAD_SCHEDULER_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "upload_scheduler", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"upload-scheduler {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build(workdir: Path) -> None:
    """The demo's database; then three products queued now for a BASE shop (due, with no
    daemon running), the eBay seller paused with a reason, and its failed items retried
    (pending again, waiting on the pause)."""
    cli(workdir.parent, "demo", "--items", "12", "--minutes", "0.3", "--workdir", str(workdir),
        "--fresh", timeout=DEMO_TIMEOUT)  # fmt: skip
    (workdir / "extra.csv").write_text(EXTRA_PRODUCTS, encoding="utf-8")
    cli(workdir, "products", "import", "extra.csv", "--platform", "base")
    cli(workdir, "add-to-queue", "--platform", "base", "--account-id", DUE_SHOP, "--limit", "3")
    cli(workdir, "account", "pause", "--platform", PAUSED_PLATFORM, "--account", PAUSED,
        "--reason", "棚卸し / stocktaking", "--until", "2d")  # fmt: skip
    cli(workdir, "queue", "requeue", "--platform", PAUSED_PLATFORM, "--account-id", PAUSED, "--all")


def item_to_show(workdir: Path) -> int:
    """The paused seller's first retried item: its failure in the history, due again,
    and waiting on the pause."""
    engine = open_database(load_settings(workdir / "upload-scheduler.toml").database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(upload_queue.c.id)
                .where(
                    upload_queue.c.platform == PAUSED_PLATFORM,
                    upload_queue.c.account_id == PAUSED,
                    upload_queue.c.status == "pending",
                )
                .order_by(upload_queue.c.id)
                .limit(1)
            ).scalar()
    finally:
        engine.dispose()
    if found is None:
        raise SystemExit(f"no pending item for {PAUSED_PLATFORM}/{PAUSED}")
    return int(found)


def shoot(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)
    print(f"{path} ({path.stat().st_size // 1024} KB)")


def japanese_font_missing() -> bool:
    """Whether fontconfig knows no Japanese font (False where there is no fontconfig)."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, check=False)
    return not listed.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--workdir", type=Path, help="keep the database here (default: a temp dir)")
    options = parser.parse_args(argv)
    executable = chromium_path()
    if executable is None:
        raise SystemExit("no Chromium: apt-get install chromium, or set UPLOAD_SCHEDULER_CHROMIUM")
    if japanese_font_missing():
        raise SystemExit("no Japanese font: apt-get install fonts-noto-cjk")
    with tempfile.TemporaryDirectory(prefix="upload-scheduler-shots-") as scratch:
        workdir = (options.workdir or Path(scratch) / "demo").resolve()
        build(workdir)
        item = item_to_show(workdir)
        options.out.mkdir(parents=True, exist_ok=True)
        with serving(workdir) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_args(executable))
            try:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": 720}, locale="en-US"
                )
                page = context.new_page()
                for lang, query in (("en", ""), ("ja", "?lang=ja")):
                    shoot(page, f"{url}{query}", options.out / f"overview-{lang}.png")
                    shoot(page, f"{url}items/{item}{query}", options.out / f"item-{lang}.png")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
