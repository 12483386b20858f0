"""`rules check` through the real command line (issue 16): each platform's own check
(BASE: [platforms.base.rules]; eBay: its content rules) and the price every pending item
would be listed at with its account's pricing. BASE's output and JSON keys stay as they
were; the price is added."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.cli import run_cli

pytestmark = pytest.mark.acceptance

CONFIG = """\
database = "sqlite:///q.db"

[accounts]
base = ["shop_a"]
ebay = ["seller_a", "seller_b"]

[platforms.base.rules]
ng_words = ["エアガン"]
min_price = 300

[platforms.base.pricing]
markup = 1.1

[platforms.ebay]
client_id = "app-PRD-1"
client_secret = "not-used-here"
title_overflow = "reject"

[platforms.ebay.categories]
"Bags" = "169291"

[platforms.ebay.pricing]
currency = "USD"
exchange_rate = 150.0
markup = 1.2

[account_overrides.seller_b]
pricing.exchange_rate = 100.0
"""

LONG = "An English title that goes on and on and on far beyond the eighty characters eBay allows"
PRODUCTS = f"""\
asin,title,title_en,price,stock,images,category
B0OK000001,財布,Leather wallet,1980,3,https://img.example/1.jpg,Bags
B0NOEN0001,財布,,1980,3,https://img.example/1.jpg,Bags
B0HTTP0001,財布,Wallet,1980,3,http://img.example/1.jpg,Bags
B0NOCAT001,本,Book,1000,3,https://img.example/1.jpg,Books
B0LONG0001,財布,{LONG},1980,3,https://img.example/1.jpg,Bags
B0OK000002,鞄,Tote bag,2500,1,https://img.example/2.jpg,Bags
"""
BASE_PRODUCTS = """\
asin,title,price,stock,images
B0CLEAN001,革財布,1980,3,https://img.example/1.jpg
B0NGWORD01,電動エアガン,1980,3,https://img.example/1.jpg
B0CHEAP001,シール,100,3,https://img.example/1.jpg
"""


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "upload-scheduler.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def cli(workdir: Path, *args: str) -> Any:
    result = run_cli(*args, cwd=workdir, env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def queue(workdir: Path, platform: str, csv: str, per_account: dict[str, int]) -> None:
    (workdir / f"{platform}.csv").write_text(csv, encoding="utf-8")
    cli(workdir, "products", "import", f"{platform}.csv", "--platform", platform)
    for account, count in per_account.items():
        cli(
            workdir,
            *("add-to-queue", "--platform", platform, "--account-id", account),
            *("--limit", str(count)),
        )


def test_ebay_items_blocked_by_its_content_rules_and_every_price(workdir: Path) -> None:
    queue(workdir, "ebay", PRODUCTS, {"seller_a": 3, "seller_b": 3})
    shown = json.loads(cli(workdir, "rules", "check", "--platform", "ebay", "--json").stdout)
    assert shown["checked"] == 6
    rules = {b["asin"]: b["rule"] for b in shown["blocked"]}
    assert rules == {
        "B0NOEN0001": "title_en",
        "B0HTTP0001": "https_images",
        "B0NOCAT001": "category",
        "B0LONG0001": "title_overflow",
    }
    details = {b["asin"]: b["detail"] for b in shown["blocked"]}
    assert details["B0NOEN0001"] == "eBay needs an English title (the product's title_en is empty)"
    assert "'Books'" in details["B0NOCAT001"]
    assert "[platforms.ebay.categories]" in details["B0NOCAT001"]
    # yen × markup ÷ exchange_rate, half up to cents; seller_b has its own rate.
    prices = {i["asin"]: (i["account_id"], i["price"], i["currency"]) for i in shown["items"]}
    assert prices == {
        "B0OK000001": ("seller_a", "15.84", "USD"),
        "B0NOEN0001": ("seller_a", "15.84", "USD"),
        "B0HTTP0001": ("seller_a", "15.84", "USD"),
        "B0NOCAT001": ("seller_b", "12.00", "USD"),
        "B0LONG0001": ("seller_b", "23.76", "USD"),
        "B0OK000002": ("seller_b", "30.00", "USD"),
    }
    for blocked in shown["blocked"]:
        assert set(blocked) == {
            *("queue_id", "asin", "account_id", "rule", "detail"),
            *("price", "currency"),
        }
        assert (blocked["price"], blocked["currency"]) == prices[blocked["asin"]][1:]
    ok = [i for i in shown["items"] if i["rule"] is None]
    assert [i["asin"] for i in ok] == ["B0OK000001", "B0OK000002"]

    text = cli(workdir, "rules", "check", "--platform", "ebay").stdout
    assert "4 of 6 pending ebay item(s) would be blocked by the rules." in text
    line = next(line for line in text.splitlines() if "B0NOCAT001" in line)
    assert "12.00 USD" in line and "category" in line
    assert "[platforms.ebay.categories]" in text  # not eaten as markup
    assert "Prices: 2 item(s) would be listed at 15.84 to 30.00 USD." in text
    assert "B0OK000001" not in text  # without --prices only the blocked are listed

    listed = cli(workdir, "rules", "check", "--platform", "ebay", "--prices").stdout
    for asin, (_, price, currency) in prices.items():
        row = next(line for line in listed.splitlines() if asin in line and "Pending" not in line)
        assert f"{price} {currency}" in row


def test_base_output_and_json_keys_are_kept_and_the_yen_price_added(workdir: Path) -> None:
    queue(workdir, "base", BASE_PRODUCTS, {"shop_a": 3})
    text = cli(workdir, "rules", "check", "--platform", "base").stdout
    assert "2 of 3 pending base item(s) would be blocked by the rules." in text
    assert "Would be blocked" in text
    for asin, rule in (("B0NGWORD01", "ng_words"), ("B0CHEAP001", "min_price")):
        line = next(line for line in text.splitlines() if asin in line)
        assert rule in line
    assert "B0CLEAN001" not in text
    # markup 1.1 on yen, whole yen, half up: 1980 -> 2178, 100 -> 110.
    assert re.search(r"B0CHEAP001.*110 JPY", text)
    assert "Prices: 1 item(s) would be listed at 2178 JPY." in text

    shown = json.loads(cli(workdir, "rules", "check", "--platform", "base", "--json").stdout)
    assert shown["checked"] == 3
    assert [b["asin"] for b in shown["blocked"]] == ["B0NGWORD01", "B0CHEAP001"]
    first = shown["blocked"][0]
    assert {"queue_id", "asin", "account_id", "rule", "detail"} <= set(first)
    assert (first["rule"], first["price"], first["currency"]) == ("ng_words", "2178", "JPY")
    assert [(i["asin"], i["rule"]) for i in shown["items"]] == [
        ("B0CLEAN001", None),
        ("B0NGWORD01", "ng_words"),
        ("B0CHEAP001", "min_price"),
    ]


def test_an_empty_ebay_queue(workdir: Path) -> None:
    text = cli(workdir, "rules", "check", "--platform", "ebay").stdout
    assert "0 of 0 pending ebay item(s) would be blocked by the rules." in text
    shown = json.loads(cli(workdir, "rules", "check", "--platform", "ebay", "--json").stdout)
    assert shown == {"checked": 0, "blocked": [], "items": []}
