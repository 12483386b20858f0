"""The demo's pure parts for BASE and eBay together (Yahoo!'s in test_demo_yahoo.py):
`--platforms`, the plan, the sample
catalogue's English rows (every valid one lists on eBay, the blocked ones do not), the
config the demo writes, and the per-platform summary (eBay's prices against the formula,
missing listings, tokens, the combined JSON and what is printed)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from upload_scheduler.config import load_settings
from upload_scheduler.demo import report
from upload_scheduler.demo.commands import _hidden
from upload_scheduler.demo.config_file import (
    EBAY_EXCHANGE_RATE,
    EBAY_MARKUP,
    EBAY_RUNAME,
    render_config,
)
from upload_scheduler.demo.ebay_summary import (
    ebay_tokens,
    ebay_urgent,
    missing_listings,
    price_checks,
    price_problems,
    pricing_rule,
    published_offers,
)
from upload_scheduler.demo.options import (
    DemoOptions,
    make_plan,
    parse_platforms,
)
from upload_scheduler.demo.sample import (
    ENCODING,
    build_sample,
    ebay_categories,
    ebay_category_id,
    ng_words,
    remove_phrases,
    write_csv,
    yahoo_categories,
    yahoo_category,
)
from upload_scheduler.demo.spacing import ebay_spacing_problems
from upload_scheduler.demo.summary import (
    AccountSummary,
    FailedItem,
    PriceCheck,
    RunSummary,
    Summary,
    TokenActivity,
    is_blocked,
)
from upload_scheduler.inventory.reader import ProductRow, iter_rows, open_source
from upload_scheduler.platforms.ebay.listing import TITLE_MAX, ListingRefused, build_listing
from upload_scheduler.platforms.interface import Product
from upload_scheduler.pricing import PricingSettings, list_price

URLS = {
    "base": "http://127.0.0.1:8001",
    "ebay": "http://127.0.0.1:8002",
    "yahoo": "http://127.0.0.1:8003",
}
PRICING = PricingSettings("USD", EBAY_EXCHANGE_RATE, EBAY_MARKUP)
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)

# ---------------------------------------------------------------------- options and plan


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("base,ebay", ("base", "ebay")),
        ("ebay,base", ("base", "ebay")),
        (" Base ", ("base",)),
        ("ebay", ("ebay",)),
        ("base,base", ("base",)),
        ("yahoo,ebay,base", ("base", "ebay", "yahoo")),
    ],
)
def test_platforms_are_parsed_into_the_demos_order(text: str, expected: tuple[str, ...]) -> None:
    assert parse_platforms(text) == expected


@pytest.mark.parametrize("text", ["", ",", "amazon", "base,amazon"])
def test_unknown_or_no_platforms_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--platforms"):
        parse_platforms(text)


def test_the_default_plan_lists_on_all_three_with_ebay_paced_about_a_second() -> None:
    plan = make_plan(DemoOptions())
    assert plan.platforms == ("base", "ebay", "yahoo") and plan.multi
    assert plan.account_ids == ["demo_shop_1", "demo_shop_2"]
    assert plan.ebay_account_ids == ["demo_seller_1"]
    # 62 items for one seller in 2 minutes: slots 1.9 s apart, the interval half that.
    assert 0.9 <= plan.ebay_min_interval_seconds <= 1.0
    assert plan.min_interval_seconds == 1.0  # BASE's, as the old demo had it


def test_the_base_plan_is_the_old_demos() -> None:
    plan = make_plan(DemoOptions(platforms=("base",)))
    assert not plan.multi and plan.accounts_of("base") == plan.account_ids
    assert plan.min_interval_seconds == 1.0


def test_items_the_single_ebay_seller_cannot_take_in_time_are_refused() -> None:
    # 300 items fit on ten BASE shops in a minute, not on one eBay seller.
    with pytest.raises(ValueError, match="eBay seller"):
        make_plan(DemoOptions(items=300, accounts=10, minutes=1))
    assert make_plan(DemoOptions(items=300, accounts=10, minutes=1, platforms=("base",)))


# ---------------------------------------------------------------------- the sample


def _read(path: Path) -> list[ProductRow]:
    return [r for r in iter_rows(open_source(path)) if isinstance(r, ProductRow)]


def test_the_sample_has_english_titles_except_on_the_blocked_items(tmp_path: Path) -> None:
    sample = build_sample(60)
    path = tmp_path / "products.csv"
    write_csv(sample, path)
    raw = path.read_bytes()
    header = raw.decode(ENCODING).splitlines()[0].split(",")
    assert header[-2:] == ["title_en", "description_en"]
    rows = {r.asin: r for r in _read(path)}
    assert set(sample.valid) <= set(rows) and set(sample.blocked) <= set(rows)
    for asin in sample.valid:
        assert rows[asin].title_en and rows[asin].description_en, asin
        assert rows[asin].title_en.isascii(), rows[asin].title_en
        assert all(u.startswith("https://") for u in rows[asin].images)
    assert all(rows[asin].title_en == "" for asin in sample.blocked)


def test_the_base_only_sample_is_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    write_csv(build_sample(20, english=False), path)
    text = path.read_bytes().decode(ENCODING)
    header = next(csv.reader(io.StringIO(text)))
    assert header == [
        "asin",
        "title",
        "description",
        "price",
        "stock",
        "images",
        "brand",
        "category",
    ]
    assert "title_en" not in text and "Stainless" not in text


def test_every_valid_sample_product_lists_on_ebay_and_the_blocked_ones_do_not(
    tmp_path: Path,
) -> None:
    """The demo expects every valid item listed: the catalogue must pass eBay's content
    rules with the demo's config (titles cut to 80, categories, https images)."""
    settings = _settings(tmp_path, ("base", "ebay"))
    account = settings.account("ebay", "demo_seller_1")
    path = tmp_path / "products.csv"
    sample = build_sample(60)
    write_csv(sample, path)
    rows = {r.asin: r for r in _read(path)}
    cut = 0
    for asin in sample.valid:
        listing = build_listing(_product(rows[asin]), account)
        assert len(listing.title) <= TITLE_MAX and listing.category_id.isdigit()
        assert listing.price == list_price(rows[asin].price, PRICING)
        cut += listing.title_cut
    assert cut > 0  # the catalogue shows the cut of a long title too
    for asin in sample.blocked:
        with pytest.raises(ListingRefused, match="English title"):
            build_listing(_product(rows[asin]), account)


def _product(row: ProductRow) -> Product:
    return Product(
        asin=row.asin,
        title=row.title,
        description=row.description,
        price=row.price,
        stock=row.stock,
        images=row.images,
        brand=row.brand,
        category=row.category,
        title_en=row.title_en,
        description_en=row.description_en,
    )


# ---------------------------------------------------------------------- the config


def _settings(tmp_path: Path, platforms: tuple[str, ...], urls: Mapping[str, str] = URLS) -> Any:
    """The config the demo writes for `platforms`, loaded as the daemons load it."""
    plan = make_plan(DemoOptions(platforms=platforms))
    text = render_config(
        plan,
        {p: urls[p] for p in platforms},
        ng_words(),
        remove_phrases(),
        ebay_categories=ebay_categories(),
        ebay_category_id=ebay_category_id(),
        yahoo_categories=yahoo_categories(),
        yahoo_category=yahoo_category(),
    )
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_the_two_platform_config_loads_with_ebays_sandbox_pricing_and_location(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, ("base", "ebay"))
    assert settings.account_ids("base") == ["demo_shop_1", "demo_shop_2"]
    assert settings.account_ids("ebay") == ["demo_seller_1"]
    seller = settings.account("ebay", "demo_seller_1")
    assert seller.api_base_url == URLS["ebay"] and seller.auth_base_url == URLS["ebay"]
    assert seller.redirect_uri == EBAY_RUNAME
    assert (seller.pricing.currency, seller.pricing.exchange_rate, seller.pricing.markup) == (
        "USD",
        150.0,
        1.2,
    )
    assert seller.location.country == "JP" and seller.location.postal_code
    assert seller.categories == ebay_categories() and seller.category_id == ebay_category_id()
    assert seller.min_interval_seconds <= 1.0
    shop = settings.account("base", "demo_shop_1")
    assert shop.api_base_url == URLS["base"] and shop.max_attempts == 3


def test_the_base_config_has_no_ebay_or_yahoo_part(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ("base",))
    assert settings.account_ids("ebay") == [] and settings.account_ids("yahoo") == []
    text = (tmp_path / "upload-scheduler.toml").read_text(encoding="utf-8")
    assert "[platforms.ebay" not in text and "ebay" not in text.split("[daemon]")[0]
    assert "yahoo" not in text and "account_overrides" not in text
    assert "built-in BASE sandbox," in text


def test_the_ebay_only_config_has_no_base_part(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ("ebay",))
    assert settings.account_ids("base") == []
    assert "[platforms.base" not in (tmp_path / "upload-scheduler.toml").read_text("utf-8")


# ---------------------------------------------------------------------- eBay's summary


def _row(asin: str, status: str = "success", account: str = "s1", **extra: Any) -> dict[str, Any]:
    return {"asin": asin, "account_id": account, "status": status, "attempts": 1, **extra}


def _state(*offers: tuple[str, str, str, str]) -> dict[str, Any]:
    """(seller, sku, price, status) -> what GET /_sandbox/state answers."""
    sellers: dict[str, Any] = {}
    for seller, sku, price, status in offers:
        entry = {"sku": sku, "price": price, "currency": "USD", "status": status}
        sellers.setdefault(seller, {"offers": []})["offers"].append(entry)
    return {"sellers": sellers}


def test_prices_are_checked_against_the_formula_on_the_published_offers() -> None:
    rows = [_row("A"), _row("B"), _row("C"), _row("D", status="failed")]
    yen = {"A": 1980, "B": 1000, "C": 4980}
    state = _state(
        ("s1", "A", "15.84", "PUBLISHED"),
        ("s1", "B", "8.01", "PUBLISHED"),  # a cent off
        ("s1", "C", "39.84", "UNPUBLISHED"),  # no listing
    )
    checks = price_checks(rows, yen, state, PRICING)
    assert [(c.asin, c.expected, c.listed, c.matches) for c in checks] == [
        ("A", "15.84", "15.84", True),
        ("B", "8.00", "8.01", False),
        ("C", "39.84", None, False),
    ]
    problems = price_problems(checks, state)
    assert len(problems) == 2
    assert "B listed at 8.01 USD, the formula gives 8.00" in problems[0]
    assert "C is a success but has no published offer" in problems[1]


def test_prices_not_read_are_a_problem_not_a_pass() -> None:
    assert price_problems([], None) == [
        "the eBay sandbox's state could not be read at the end: prices not checked"
    ]
    assert published_offers(None) == {}


def test_the_formula_reads_as_the_config_says_it() -> None:
    assert pricing_rule(PRICING) == "USD = yen × 1.2 ÷ 150"
    assert list_price(1980, PRICING).amount == Decimal("15.84")


def test_a_success_never_published_is_missing() -> None:
    calls = [
        {"seller": "s1", "sku": "A", "effect": "listing_created"},
        {"seller": "s2", "sku": "B", "effect": "listing_created"},
        {"seller": "s1", "sku": "B", "effect": "item_put"},
    ]
    rows = [_row("A"), _row("B"), _row("C", status="failed")]
    assert missing_listings(rows, calls) == [
        "s1: B is a success in the database but was never listed"
    ]


def test_token_refreshes_are_the_sellers_and_refusals_count_with_one_seller() -> None:
    token = "/identity/v1/oauth2/token"
    calls = [
        {"path": token, "grant_type": "authorization_code", "seller": "s1", "status": 200},
        {"path": token, "grant_type": "refresh_token", "seller": "s1", "status": 200},
        {"path": token, "grant_type": "refresh_token", "seller": "s2", "status": 200},
        {"path": token, "grant_type": "refresh_token", "seller": "s1", "status": 500},
        {"path": "/sell/inventory/v1/inventory_item/A", "outcome": "1001", "seller": None},
    ]
    assert ebay_tokens("s1", calls, 1) == TokenActivity("s1", 1, 1)
    assert ebay_tokens("s1", calls, 2) == TokenActivity("s1", 1, 0)


def test_the_urgent_item_reached_ebay_when_its_listing_was_published() -> None:
    calls = [
        {"sku": "U", "effect": "item_put", "time": (T0 + timedelta(seconds=1)).isoformat()},
        {"sku": "U", "effect": "listing_created", "time": (T0 + timedelta(seconds=2)).isoformat()},
    ]
    urgent = ebay_urgent("U", T0, [_row("U")], calls)
    assert urgent.account_id == "s1" and urgent.created_after_seconds == 2.0
    assert ebay_urgent("U", T0, [], []).created_after_seconds is None


def test_ebay_spacing_counts_put_inventory_item_starts_of_each_seller() -> None:
    def put(seller: str, seconds: float, outcome: str = "ok") -> dict[str, Any]:
        return {
            "method": "PUT",
            "path": "/sell/inventory/v1/inventory_item/X",
            "seller": seller,
            "outcome": outcome,
            "time": (T0 + timedelta(seconds=seconds)).isoformat(),
        }

    spaced = [put("s1", 0), put("s1", 1.0), put("s2", 1.05), put("s1", 2.0)]
    assert ebay_spacing_problems(spaced, 1.0) == []
    # A refused token starts nothing; a pace 30% too fast is caught.
    assert ebay_spacing_problems([*spaced, put("s1", 2.1, "1001")], 1.0) == []
    fast = [put("s1", 0.7 * n) for n in range(5)]
    problems = ebay_spacing_problems(fast, 1.0)
    assert problems and problems[0].startswith("seller s1: ")


def test_blocked_means_nothing_was_sent_on_either_platform() -> None:
    assert is_blocked("blocked by rule ng_words: NG word 'x'; nothing was sent")
    assert is_blocked(
        "eBay needs an English title (the product's title_en is empty); nothing was sent"
    )
    assert not is_blocked("HTTP 400: invalid price")
    assert not is_blocked(None)


# ---------------------------------------------------------------------- the run's summary


def _summary(platform: str, **kw: Any) -> Summary:
    values: dict[str, Any] = {
        "accounts": [AccountSummary("a1", queued=3, success=2, blocked=1)],
        "failed": [],
        "blocked": [FailedItem("X", "a1", 1, "eBay needs an English title; nothing was sent")],
        "tokens": [TokenActivity("a1", 2, 1)],
        "problems": [],
        "items_created": 2,
        "api_calls": 7,
        "platform": platform,
    }
    values.update(kw)
    return Summary(**values)


def test_the_run_is_clean_only_when_every_platform_is() -> None:
    base = _summary("base", accounts=[AccountSummary("shop", queued=4, success=4)])
    ebay = _summary("ebay", problems=["seller a1: A listed at 1.00 USD"])
    run = RunSummary([base, ebay], import_rejected=["line 3: title: empty"])
    assert not run.verdict_clean and run.problems == ["seller a1: A listed at 1.00 USD"]
    assert run.total == AccountSummary("all", queued=7, success=6, blocked=1)
    data = run.to_json()
    assert data["total"]["queued"] == 7 and data["verdict"]["clean"] is False
    assert set(data["platforms"]) == {"base", "ebay"}
    assert data["platforms"]["base"]["verdict"]["clean"] is True
    assert [a["platform"] for a in data["accounts"]] == ["base", "ebay"]
    assert data["import_rejected"] == ["line 3: title: empty"]
    assert RunSummary([base]).verdict_clean


def _printed(run: RunSummary) -> str:
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    report.print_summary(console, run)
    report.print_tokens(console, run)
    report.print_verdict(console, run)
    return console.export_text()


def test_two_platforms_print_a_summary_and_a_verdict_each_with_ebays_prices() -> None:
    check = PriceCheck("A", "a1", 1980, "15.84", "15.84", "USD")
    ebay = _summary("ebay", prices=[check], pricing_rule=pricing_rule(PRICING), faults=3)
    text = _printed(RunSummary([_summary("base"), ebay]))
    assert "Summary: BASE" in text and "Summary: eBay" in text
    assert "Blocked by rules (nothing was sent to eBay): 1" in text
    assert "eBay prices (USD = yen × 1.2 ÷ 150, half up to the cent): 1 of 1" in text
    assert "\uffe51,980" in text and "15.84 USD" in text
    assert "Token refreshes on eBay: a1: 2 refresh(es), 1 after eBay refused" in text
    assert "BASE sandbox verdict: clean" in text
    assert (
        "eBay sandbox verdict: clean - 2 listing(s) published with 7 API call(s), 3 fault" in text
    )


def test_one_platform_prints_as_the_old_demo() -> None:
    text = _printed(RunSummary([_summary("base")]))
    assert "Summary" in [line.strip() for line in text.splitlines()]
    assert "Summary: BASE" not in text
    assert "Blocked by rules (nothing was sent to BASE): 1" in text
    assert "Token refreshes: a1: 2 refresh(es), 1 after BASE refused an expired token." in text
    assert "Sandbox verdict: clean - 2 item(s) created with 7 API call(s)" in text


def test_a_platforms_problems_are_printed_under_its_verdict() -> None:
    ebay = _summary("ebay", problems=["seller a1: A has no published offer"])
    text = _printed(RunSummary([_summary("base"), ebay]))
    assert "eBay sandbox verdict: 1 problem(s)" in text
    assert "seller a1: A has no published offer" in text


def test_the_command_log_hides_the_consent_address() -> None:
    args = ("token", "login", "--platform", "ebay", "--code", "http://x/?code=v%5E1")
    assert _hidden(args, ("--code",)) == (*args[:-1], "…")
    assert _hidden(args, ()) == args


def test_look_further_names_ebays_queue_when_ebay_runs() -> None:
    assert report.look_further(("base",)) == list(report.LOOK_FURTHER)
    both = report.look_further(("base", "ebay"))
    assert both[:2] == ["check-queue", "check-queue --platform ebay"]
    assert "check-queue" not in report.look_further(("ebay",))
