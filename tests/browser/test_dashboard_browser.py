"""The dashboard in a real browser (Debian's Chromium through pytest-playwright), against
the real `upload-scheduler dashboard` process on a real SQLite file: rows made by the
real CLI (`add-to-queue`, `account pause`), and by the package's own queue code where the
CLI cannot make the state (an upload's success or failure is the daemon's to write).

One workdir and one dashboard serve the module; each test works on its own accounts, so
the tests do not depend on their order. `--read-only` gets a second process on the same
file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.acceptance.cli import run_cli
from tests.acceptance.test_cli_foundation import seed_products
from tests.browser.chromium import browser_required
from tests.dashboard_helpers import serving
from upload_scheduler.queue.manager import UploadQueueManager
from upload_scheduler.store.tables import upload_queue

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the [test] extra installs it; say so once rather than per test
    if browser_required():
        raise
    pytest.skip("browser tests skipped: playwright is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser

CONFIG_NAME = "upload-scheduler.toml"
CONFIG = """\
database = "sqlite:///{db}"
timezone = "Asia/Tokyo"

[accounts]
base = ["shop_live", "shop_filter", "shop_bulk", "shop_other", "shop_pause"]
"""
# Per account: how many items `add-to-queue` queues, and how many of them then fail.
SEED = {
    "shop_live": (2, 0),
    "shop_filter": (5, 2),
    "shop_bulk": (6, 4),
    "shop_other": (3, 2),
    "shop_pause": (1, 0),
}
# The overview refreshes itself every 5 s (Dashboard.refresh_seconds); wait for up to
# four rounds of it.
REFRESH_WAIT_MS = 20_000
ERROR = "HTTP 503: maintenance"


@dataclass(frozen=True)
class Site:
    workdir: Path
    url: str
    manager: UploadQueueManager

    def ids(self, account: str, status: str | None = None) -> list[int]:
        """Queue ids of an account (and status), oldest first."""
        return [
            int(row["id"])
            for row in self.rows()
            if row["account_id"] == account and status in (None, row["status"])
        ]

    def rows(self) -> list[dict[str, Any]]:
        """Every queue row, as the database holds it now."""
        with self.manager.engine.connect() as conn:
            found = conn.execute(select(upload_queue).order_by(upload_queue.c.id)).mappings()
            return [dict(row) for row in found]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("dashboard")
    config = workdir / CONFIG_NAME
    config.write_text(CONFIG.format(db=workdir / "queue.db"), encoding="utf-8")
    seed_products(workdir, sum(queued for queued, _ in SEED.values()))
    for account, (queued, _) in SEED.items():
        done = run_cli("add-to-queue", "--account-id", account, "--limit", str(queued), cwd=workdir)
        assert done.returncode == 0, done.stdout + done.stderr
    manager = UploadQueueManager(config)
    with serving(workdir) as url:
        made = Site(workdir, url, manager)
        for account, (_, failing) in SEED.items():
            for queue_id in made.ids(account)[:failing]:
                assert manager.update_queue_status(queue_id, "failed", {"error_message": ERROR})
        yield made
    manager.engine.dispose()


def account_row(page: Page, account: str, platform: str = "base") -> Locator:
    return page.locator(f'tr[data-platform="{platform}"][data-account="{account}"]')


def account_json(workdir: Path, account: str) -> dict[str, Any]:
    listed = run_cli("account", "list", "--json", cwd=workdir)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    found = [a for a in json.loads(listed.stdout)["accounts"] if a["account_id"] == account]
    assert len(found) == 1, listed.stdout
    entry: dict[str, Any] = found[0]
    return entry


def test_the_overview_updates_by_itself_when_an_item_succeeds(site: Site, page: Page) -> None:
    page.goto(site.url)
    today = account_row(page, "shop_live").locator(".today-success")
    expect(today).to_have_text("0")
    page.evaluate("window.__sameDocument = true")

    assert site.manager.update_queue_status(
        site.ids("shop_live")[0], "success", {"platform_item_id": "998877"}
    )

    expect(today).to_have_text("1", timeout=REFRESH_WAIT_MS)
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def test_a_filter_narrows_the_queue(site: Site, page: Page) -> None:
    page.goto(site.url + "queue")
    rows = page.locator("#queue-table tbody tr")
    expect(rows).not_to_have_count(0)
    everything = rows.count()
    assert everything > 2

    form = page.locator("#queue-filter")
    form.locator('select[name="account"]').select_option("shop_filter")
    form.locator('select[name="status"]').select_option("failed")
    form.locator('button[type="submit"]').click()

    page.wait_for_url("**/queue?*account=shop_filter*")
    assert "status=failed" in page.url
    expect(rows).to_have_count(2)
    ids = [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.id)")]
    assert sorted(ids) == site.ids("shop_filter", "failed")
    expect(rows.and_(page.locator('[data-status="failed"]'))).to_have_count(2)
    expect(page.locator("#queue-count")).to_have_text("2 matching")
    # The filter is in the address: opening it again shows the same rows.
    page.goto(page.url)
    expect(rows).to_have_count(2)
    expect(page.locator('#queue-filter select[name="account"]')).to_have_value("shop_filter")


def test_a_bulk_retry_confirms_the_exact_count_and_retries_exactly_those(
    site: Site, page: Page
) -> None:
    failed = site.ids("shop_bulk", "failed")
    assert len(failed) == 4
    before = {row["id"]: row for row in site.rows()}
    # Failed items of another account, which the filter does not match, are there too.
    assert site.ids("shop_other", "failed") and site.ids("shop_filter", "failed")

    page.goto(site.url + "queue")
    page.locator('#queue-filter select[name="account"]').select_option("shop_bulk")
    page.locator('#queue-filter button[type="submit"]').click()
    page.wait_for_url("**/queue?*account=shop_bulk*")
    page.locator("#bulk-retry_all").click()

    confirm = page.locator("#confirm-text")
    expect(confirm).to_have_attribute("data-count", "4")
    expect(confirm).to_contain_text("4")
    page.locator("#confirm-button").click()

    page.wait_for_url("**/queue?*done=retry_all*")
    expect(page.locator("#notice")).to_have_text("4 item(s) retried.")
    after = {row["id"]: row for row in site.rows()}
    assert after.keys() == before.keys()
    changed = sorted(i for i in after if after[i] != before[i])
    assert changed == sorted(failed)
    assert all(after[i]["status"] == "pending" for i in failed)
    assert site.ids("shop_bulk", "failed") == []


def test_a_paused_account_shows_its_reason_and_resumes_from_the_page(
    site: Site, page: Page
) -> None:
    paused = run_cli(
        "account", "pause", "--platform", "base", "--account", "shop_pause",
        "--reason", "stocktaking 棚卸し", cwd=site.workdir,
    )  # fmt: skip
    assert paused.returncode == 0, paused.stdout + paused.stderr

    page.goto(site.url)
    row = account_row(page, "shop_pause")
    expect(row.locator(".pause-reason")).to_contain_text("stocktaking 棚卸し")
    expect(account_row(page, "shop_live").locator("button.resume")).to_have_count(0)
    row.locator("button.resume").click()

    page.wait_for_url("**/?*done=resume*")
    expect(row.locator(".pause-reason")).to_have_count(0)
    expect(row.locator("td.pause")).to_have_text("working")
    expect(row.locator("button.resume")).to_have_count(0)
    entry = account_json(site.workdir, "shop_pause")
    assert entry["paused"] is False, entry


SUBMIT_FORM = """([action, fields]) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
}"""


def test_read_only_shows_no_action_and_the_server_refuses_one(site: Site, page: Page) -> None:
    failed_item = site.ids("shop_other", "failed")[0]
    with serving(site.workdir, "--read-only") as url:
        page.goto(url)
        expect(page.locator("#read-only")).to_be_visible()
        expect(page.locator("#overview")).to_be_visible()
        expect(page.locator("form[method='post']")).to_have_count(0)
        expect(page.locator("button.resume, #pause-form")).to_have_count(0)
        page.goto(f"{url}queue?account=shop_other")
        expect(page.locator("#queue-table tbody tr")).not_to_have_count(0)
        expect(page.locator("form[method='post'], #bulk-retry_all")).to_have_count(0)
        page.goto(f"{url}items/{failed_item}")
        expect(page.locator("#item-status")).to_be_visible()
        expect(page.locator("#item-retry")).to_have_count(0)

        # The same action a normal page posts, from this page, with its cookie: refused.
        fields = {"account": "base/shop_live", "reason": "not allowed", "csrf_token": "x"}
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.evaluate(SUBMIT_FORM, [f"{url}accounts/pause", fields])
        assert posted.value.status == 403
        expect(page.locator("body")).to_contain_text("read only")
    assert account_json(site.workdir, "shop_live")["paused"] is False
