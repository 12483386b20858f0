"""The demo's Yahoo! pieces: the plan and `--platforms`, Yahoo!'s copy of the catalogue
(its own ASINs, every image one the Yahoo! sandbox's origin serves, every valid item
listable, the blocked ones refused by the NG words), the config (store, categories,
rules, per-URL spacing), the sandbox's command line, the consent through the sandbox's
own page, the summary's store checks, tokens and urgent item, editItem spacing, and what
is printed for three platforms."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.console import Console

from tests.unit.test_demo_two_platforms import URLS, _product, _read, _settings, _summary
from tests.yahoo_sandbox_helpers import StoreClient
from upload_scheduler.demo import report
from upload_scheduler.demo.config_file import (
    YAHOO_CLIENT_SECRET,
    YAHOO_REDIRECT_URI,
    YAHOO_URL_INTERVAL_SECONDS,
)
from upload_scheduler.demo.login import consent_redirect, consent_url
from upload_scheduler.demo.options import (
    DEFAULT_PLATFORMS,
    DemoOptions,
    make_plan,
    parse_platforms,
    platform_names,
)
from upload_scheduler.demo.sample import (
    ASIN_PREFIX,
    YAHOO_PREFIX,
    build_sample,
    example_images,
    write_csv,
    yahoo_categories,
    yahoo_category,
    yahoo_images,
)
from upload_scheduler.demo.sandbox_process import (
    YAHOO_URL_INTERVAL_SECONDS as SANDBOX_URL_INTERVAL,
)
from upload_scheduler.demo.sandbox_process import yahoo_sandbox_command
from upload_scheduler.demo.spacing import yahoo_spacing_problems
from upload_scheduler.demo.summary import RunSummary, urgent_item
from upload_scheduler.demo.workdir import DemoPaths
from upload_scheduler.demo.yahoo_summary import (
    published_items,
    store_problems,
    submitted,
    yahoo_tokens,
)
from upload_scheduler.platforms.thebase.rules import load_rules
from upload_scheduler.platforms.yahoo.listing import ListingRefused, build_item
from upload_scheduler.platforms.yahoo.sandbox import (
    YahooSandboxOptions,
    YahooSandboxServer,
    check_calls,
)
from upload_scheduler.platforms.yahoo.sandbox.images import ImageOrigin

STORE_ACCOUNT, SELLER_ID = "demo_store_1", "demo-store"
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)

# ---------------------------------------------------------------------- options and plan


def test_yahoo_runs_by_default_with_one_store_paced_about_a_second() -> None:
    assert DEFAULT_PLATFORMS == "base,ebay,yahoo"
    assert parse_platforms(DEFAULT_PLATFORMS) == ("base", "ebay", "yahoo")
    plan = make_plan(DemoOptions())
    assert plan.yahoo_account_ids == [STORE_ACCOUNT] == plan.accounts_of("yahoo")
    # 62 items for one store in 2 minutes: slots 1.9 s apart, the interval half that.
    assert 0.9 <= plan.interval_of("yahoo") == plan.yahoo_min_interval_seconds <= 1.0
    assert platform_names(plan.platforms) == "BASE, eBay and Yahoo!"
    assert platform_names(("base", "yahoo")) == "BASE and Yahoo!"


def test_items_the_single_yahoo_store_cannot_take_in_time_are_refused() -> None:
    with pytest.raises(ValueError, match="Yahoo! store"):
        make_plan(DemoOptions(items=300, accounts=10, minutes=1, platforms=("base", "yahoo")))


# ---------------------------------------------------------------------- the catalogue


def test_yahoos_copy_has_its_own_asins_and_images_the_sandbox_origin_serves(
    tmp_path: Path,
) -> None:
    shared = build_sample(20)
    copy = build_sample(
        20, english=False, asin_prefix=YAHOO_PREFIX, image_url=yahoo_images(URLS["yahoo"])
    )
    assert len(copy.rows) == len(shared.rows) and copy.urgent == f"{YAHOO_PREFIX}0019"
    assert not {r.asin for r in copy.rows} & {r.asin for r in shared.rows}
    assert all(r.asin.startswith(ASIN_PREFIX) for r in shared.rows)
    assert shared.rows[0].images.startswith(example_images(shared.rows[0].asin, 1))
    path = tmp_path / "products_yahoo.csv"
    write_csv(copy, path)
    rows = _read(path)
    origin = ImageOrigin()
    urls = [u for r in rows for u in r.images]
    assert any(u.endswith(".png") for u in urls)  # re-encoded as JPEG by the lister
    for url in urls:
        assert url.startswith(f"{URLS['yahoo']}/images/"), url
        assert origin.get(urlsplit(url).path) is not None, url


def test_every_valid_item_of_yahoos_copy_lists_and_the_blocked_ones_do_not(
    tmp_path: Path,
) -> None:
    """The verdict expects every valid item published: each passes Yahoo!'s listing rules
    with the demo's config (categories, widths, rules), the blocked ones on NG words."""
    settings = _settings(tmp_path, ("base", "ebay", "yahoo"))
    store = settings.account("yahoo", STORE_ACCOUNT)
    rules = load_rules(settings.platform_config("yahoo").rules, settings.base_dir)
    copy = build_sample(
        60, english=False, asin_prefix=YAHOO_PREFIX, image_url=yahoo_images(URLS["yahoo"])
    )
    path = tmp_path / "products_yahoo.csv"
    write_csv(copy, path)
    rows = {r.asin: r for r in _read(path)}
    paths = set()
    for asin in copy.valid:
        item = build_item(_product(rows[asin]), store, rules)
        assert item.item_code == asin and item.images and not item.images_not_http
        paths.add(item.form["path"])
    assert yahoo_category()["path"] in paths and len(paths) > 2  # mapped and not
    for asin in copy.blocked:
        with pytest.raises(ListingRefused, match="NG word"):
            build_item(_product(rows[asin]), store, rules)


# ---------------------------------------------------------------------- config and sandbox


def test_the_three_platform_config_has_the_store_its_categories_rules_and_spacing(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, ("base", "ebay", "yahoo"))
    assert settings.account_ids("yahoo") == [STORE_ACCOUNT]
    store = settings.account("yahoo", STORE_ACCOUNT)
    assert store.seller_id == SELLER_ID
    assert store.api_base_url == store.auth_base_url == URLS["yahoo"]
    assert store.redirect_uri == YAHOO_REDIRECT_URI
    # The sandbox's own interval: counted from each answer, it is never too soon.
    assert store.url_interval_seconds == YAHOO_URL_INTERVAL_SECONDS == SANDBOX_URL_INTERVAL
    assert set(store.categories) == set(yahoo_categories())
    assert (store.path, store.product_category) == tuple(yahoo_category().values())
    assert settings.platform_config("yahoo").rules.ng_words == ["医薬品", "スーパーコピー"]
    text = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert "built-in BASE, eBay and Yahoo! sandboxes" in text


def test_the_yahoo_only_config_has_no_other_platform(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ("yahoo",))
    assert settings.account_ids("base") == [] and settings.account_ids("ebay") == []
    assert settings.account_ids("yahoo") == [STORE_ACCOUNT]


def test_the_yahoo_sandbox_starts_with_the_demos_secret_spacing_and_record(
    tmp_path: Path,
) -> None:
    paths = DemoPaths(tmp_path)
    command = yahoo_sandbox_command(paths, YAHOO_CLIENT_SECRET)
    assert command[1:3] == ["-m", "upload_scheduler.platforms.yahoo.sandbox"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options["--client-secret"] == YAHOO_CLIENT_SECRET
    assert options["--url-interval"] == str(SANDBOX_URL_INTERVAL)
    assert options["--record"] == str(paths.yahoo_sandbox_record)
    assert not any(name.startswith("--p-") for name in options)  # quiet until the daemons


@pytest.fixture
def yahoo_sandbox() -> Iterator[YahooSandboxServer]:
    options = YahooSandboxOptions(url_interval=0.0, publish_delay=0.0)
    with YahooSandboxServer(options) as server:
        yield server


def test_the_consent_page_token_login_prints_hands_the_store_a_code(
    tmp_path: Path, yahoo_sandbox: YahooSandboxServer
) -> None:
    settings = _settings(tmp_path, ("yahoo",), urls={**URLS, "yahoo": yahoo_sandbox.url})
    query = parse_qs(urlsplit(consent_url(settings, "yahoo", STORE_ACCOUNT)).query)
    assert query["user"] == [STORE_ACCOUNT] and query["redirect_uri"] == [YAHOO_REDIRECT_URI]
    redirect = consent_redirect(settings, "yahoo", STORE_ACCOUNT)
    assert redirect.startswith(f"{YAHOO_REDIRECT_URI}?")
    assert parse_qs(urlsplit(redirect).query)["code"][0]
    ebay = parse_qs(
        urlsplit(consent_url(_settings(tmp_path, ("ebay",)), "ebay", "demo_seller_1")).query
    )
    assert ebay["seller"] == ["demo_seller_1"]


# ---------------------------------------------------------------------- the summary


def _list(client: StoreClient, code: str, images: int = 1) -> None:
    """One item as the adapter lists it: editItem, its images, setStock, submitItem."""
    assert client.edit(SELLER_ID, code).status_code == 200
    for n in range(images):
        name = f"{code}.jpg" if n == 0 else f"{code}_{n}.jpg"
        assert client.upload(SELLER_ID, name, client.image(f"{code}-{n}.jpg")).status_code == 200
    client.post("setStock", seller_id=SELLER_ID, item_code=code, quantity="3")
    assert client.post("submitItem", seller_id=SELLER_ID, item_code=code).status_code == 200


def _row(asin: str, status: str = "success") -> dict[str, Any]:
    return {"asin": asin, "account_id": STORE_ACCOUNT, "status": status, "attempts": 1}


def test_each_success_is_once_in_its_store_and_nothing_else_is(
    yahoo_sandbox: YahooSandboxServer,
) -> None:
    client = StoreClient(yahoo_sandbox.url, user=STORE_ACCOUNT)
    _list(client, "A", images=2)
    _list(client, "B")
    client.edit(SELLER_ID, "C")  # edited, never published
    assert client.refresh().status_code == 200
    calls = yahoo_sandbox.calls()
    verdict = check_calls(calls, expect_all_published=True)
    assert verdict.problems == ("store demo-store: C is not published",)
    assert published_items(verdict) == 2
    stores = {STORE_ACCOUNT: SELLER_ID}
    rows = [_row("A"), _row("B"), _row("C", "failed")]
    assert store_problems(rows, verdict, stores, "") == [
        "store demo-store: C is in the store but not a success in the database"
    ]
    assert store_problems([*rows, _row("D")], verdict, stores, "") == [
        "store demo-store: D is a success in the database but not in the store",
        "store demo-store: C is in the store but not a success in the database",
    ]
    assert yahoo_tokens(STORE_ACCOUNT, calls, 1).refreshes == 1
    urgent = urgent_item("B", T0, rows, calls, submitted("B"))
    assert urgent.account_id == STORE_ACCOUNT and urgent.created_after_seconds is not None
    assert urgent_item("Z", T0, rows, calls, submitted("Z")).created_after_seconds is None


def test_a_refused_token_is_counted_only_when_one_store_runs() -> None:
    calls = [
        {"api": "editItem", "refused": "invalid_token", "seller_id": None},
        {
            "api": None,
            "path": "/yconnect/v2/token",
            "grant_type": "refresh_token",
            "user": "other",
            "status": 200,
        },
    ]
    assert yahoo_tokens(STORE_ACCOUNT, calls, 1).refused == 1
    assert yahoo_tokens(STORE_ACCOUNT, calls, 2).refused == 0
    assert yahoo_tokens(STORE_ACCOUNT, calls, 1).refreshes == 0


def test_yahoo_spacing_counts_editItem_starts_of_each_store_but_refused_ones() -> None:
    starts = [("s1", 0.0), ("s1", 1.0), ("s2", 1.05), ("s1", 2.0), ("s1", 2.1)]
    calls = [
        {"api": api, "seller_id": store, "refused": None, "time": str(T0 + timedelta(seconds=t))}
        for store, t in starts
        for api in ("editItem", "uploadItemImage")  # images follow at once, not paced
    ]
    calls[-2]["refused"] = "too_many_requests"  # did nothing, is sent again
    assert yahoo_spacing_problems(calls, 1.0) == []
    calls[-2]["refused"] = None  # an editItem 0.1 s after the last
    assert yahoo_spacing_problems(calls, 1.0)[0].startswith("store s1: 4 editItem from ")


# ---------------------------------------------------------------------- what is printed


def test_three_platforms_print_a_summary_and_a_verdict_each() -> None:
    yahoo = _summary("yahoo", faults=4)
    run = RunSummary([_summary("base"), _summary("ebay"), yahoo])
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    report.print_summary(console, run)
    report.print_tokens(console, run)
    report.print_verdict(console, run)
    text = console.export_text()
    assert "Summary: Yahoo!" in text and "Token refreshes on Yahoo!: a1: 2 refresh(es)" in text
    assert "Blocked by rules (nothing was sent to Yahoo!): 1" in text
    assert "Yahoo! sandbox verdict: clean - 2 item(s) published with 7 API call(s), 4 fault" in text
    verdict = next(line for line in text.splitlines() if line.startswith("Yahoo! sandbox"))
    verdict.encode("cp932")  # a Japanese Windows console can show it
    assert set(run.to_json()["platforms"]) == {"base", "ebay", "yahoo"}
    failing = RunSummary([_summary("yahoo", problems=["store s: X is not published"])])
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    report.print_verdict(console, failing)
    assert "Sandbox verdict: 1 problem(s)" in console.export_text()
    assert not failing.verdict_clean


def test_look_further_names_every_other_platforms_queue() -> None:
    assert report.look_further(("base", "ebay", "yahoo")) == [
        "check-queue",
        "check-queue --platform ebay",
        "check-queue --platform yahoo",
        "check-queue --platform yahoo --status failed",
        "logs --no-follow",
        "manager status",
        "dashboard",
    ]
    assert report.look_further(("yahoo",))[0] == "check-queue --platform yahoo"
