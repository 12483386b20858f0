"""eBay's content rules and payloads as pure functions of a product and the account's
settings: titles (cut at a word, or refused), the description's HTML, images, categories,
prices by the formula (half up, exactly), stock, SKU, and the two request bodies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from upload_scheduler.config import AccountSettings, settings_from_dict
from upload_scheduler.platforms.ebay.description import clean_html, limit_html
from upload_scheduler.platforms.ebay.listing import (
    DESCRIPTION_MAX,
    IMAGES_MAX,
    TITLE_MAX,
    ListingRefused,
    build_listing,
    cut_title,
    inventory_item_body,
    offer_body,
    sku_for,
)
from upload_scheduler.platforms.ebay.policies import Policies
from upload_scheduler.platforms.interface import Product


def account(**platform: Any) -> AccountSettings:
    raw = {
        "database": "sqlite:///unused.db",
        "accounts": {"ebay": ["seller_a"]},
        "platforms": {
            "ebay": {
                "client_id": "app",
                "category_id": "9355",
                "pricing": {"currency": "USD", "exchange_rate": 150.0, "markup": 1.0},
                **platform,
            }
        },
    }
    return settings_from_dict(raw, Path("upload-scheduler.toml")).account("ebay", "seller_a")


def product(**fields: Any) -> Product:
    values: dict[str, Any] = {
        "asin": "B0EBAY0001",
        "title": "テスト商品",
        "description": "説明",
        "price": 1500,
        "stock": 3,
        "images": ("https://img.example/1.jpg", "https://img.example/2.jpg"),
        "brand": "Acme",
        "category": "Toys",
        "title_en": "Acme wind-up robot",
        "description_en": "<p>A <b>robot</b>.</p>",
    }
    values.update(fields)
    return Product(**values)


def refused(item: Product, settings: AccountSettings | None = None) -> str:
    with pytest.raises(ListingRefused) as caught:
        build_listing(item, settings or account())
    return str(caught.value)


# ---------------------------------------------------------------------------- titles


def test_no_english_title_is_refused() -> None:
    assert "eBay needs an English title" in refused(product(title_en=""))
    assert "eBay needs an English title" in refused(product(title_en="  \t "))


def test_a_title_that_fits_is_kept_with_its_spaces_tidied() -> None:
    listing = build_listing(product(title_en="  Acme   robot "), account())
    assert (listing.title, listing.title_cut) == ("Acme robot", False)
    exact = "x" * TITLE_MAX
    assert build_listing(product(title_en=exact), account()).title == exact


def test_a_long_title_is_cut_at_the_last_word_boundary_that_fits() -> None:
    words = "Vintage Japanese tin wind-up robot toy with original box and key, made in 1960s Tokyo"
    assert len(words) > TITLE_MAX
    listing = build_listing(product(title_en=words), account())
    assert listing.title_cut
    assert (
        listing.title
        == "Vintage Japanese tin wind-up robot toy with original box and key, made in 1960s"
    )
    assert len(listing.title) <= TITLE_MAX
    assert words.startswith(listing.title) and words[len(listing.title)] == " "


def test_cut_title_edges() -> None:
    # A space exactly after the limit: the whole 80 characters stay.
    assert cut_title("a" * 80 + " tail") == "a" * 80
    # A space exactly at the limit: the word before it.
    assert cut_title("a" * 79 + " " + "b" * 10) == "a" * 79
    # One long word: a hard cut.
    assert cut_title("z" * 100) == "z" * 80
    assert cut_title("short") == "short"


def test_title_overflow_reject_refuses_a_long_title() -> None:
    message = refused(product(title_en="word " * 20), account(title_overflow="reject"))
    assert "99 characters, eBay allows 80" in message and "reject" in message


# ---------------------------------------------------------------------------- description


def test_description_keeps_basic_markup_and_drops_active_content() -> None:
    dirty = (
        '<div onclick="steal()" class="box"><h2>Spec</h2><p>Made of <strong>tin</strong>'
        "<script>alert(1)</script><style>p{}</style></p>"
        '<form action="x"><input name="q">hidden<select><option>1</option></select></form>'
        '<iframe src="https://evil.example">frame text</iframe><object>obj</object>'
        '<embed src="x.swf"><a href="javascript:alert(1)">link text</a>'
        '<img src="x" onerror="y()"><ul><li>one</li><li>two</li></ul>'
        '<table border="1"><tr><td colspan="2" onmouseover="z()">cell</td></tr></table>'
        '<p style="background:url(javascript:evil)">styled</p><br/><em>end</em></div>'
    )
    assert clean_html(dirty) == (
        '<div class="box"><h2>Spec</h2><p>Made of <strong>tin</strong></p>'
        "link text<ul><li>one</li><li>two</li></ul>"
        '<table><tr><td colspan="2">cell</td></tr></table>'
        "<p>styled</p><br><em>end</em></div>"
    )


def test_description_is_well_formed_from_broken_html() -> None:
    assert clean_html("<p>open <b>bold</p> after</i>") == "<p>open <b>bold</b></p> after"
    assert clean_html("<script>never closed <p>x</p>") == ""
    assert clean_html("a &lt;tag&gt; &amp; <b>b</b>") == "a &lt;tag&gt; &amp; <b>b</b>"
    assert clean_html('<span title="x" onload="y" dir="ltr">s</span>') == '<span dir="ltr">s</span>'
    assert clean_html('<div style="java\tscript:alert(1)">t</div>') == "<div>t</div>"


def test_plain_text_keeps_its_line_breaks() -> None:
    assert clean_html("First line\nSecond <3 & more\n") == "First line<br>Second &lt;3 &amp; more"


def test_description_falls_back_to_the_title_and_is_limited() -> None:
    listing = build_listing(product(description_en=""), account())
    assert listing.description == "Acme wind-up robot"
    long = "<p>" + "word " * 2000 + "</p>"
    cut = build_listing(product(description_en=long), account()).description
    assert len(cut) <= DESCRIPTION_MAX
    assert cut.startswith("<p>word word") and cut.endswith("word</p>")


def test_limit_html_closes_what_it_opened_and_never_splits_an_entity() -> None:
    html = "<div><p>alpha beta</p><p>gamma &amp; delta</p></div>"
    assert limit_html(html, 100) == html
    assert limit_html(html, 30) == "<div><p>alpha beta</p></div>"
    for size in range(len(html)):
        cut = limit_html(html, size)
        assert len(cut) <= size
        assert "&am" not in cut.replace("&amp;", "")
        assert cut.count("<div>") == cut.count("</div>")
        assert cut.count("<p>") == cut.count("</p>")


# ---------------------------------------------------------------------------- images


def test_only_https_images_are_sent_at_most_24() -> None:
    images = (
        "http://img.example/plain.jpg",
        "ftp://img.example/x.jpg",
        *(f"https://img.example/{n}.jpg" for n in range(30)),
    )
    listing = build_listing(product(images=images), account())
    assert listing.images == tuple(f"https://img.example/{n}.jpg" for n in range(IMAGES_MAX))
    assert (listing.images_not_https, listing.images_over_limit) == (2, 6)


def test_no_https_image_is_refused() -> None:
    message = refused(product(images=("http://img.example/a.jpg",)))
    assert "eBay needs at least one https image" in message
    assert "eBay needs at least one https image" in refused(product(images=()))


# ---------------------------------------------------------------------------- brand, category


def test_brand_aspect_or_unbranded() -> None:
    assert build_listing(product(brand="  Acme  Toys "), account()).brand == "Acme Toys"
    assert build_listing(product(brand=""), account()).brand == "Unbranded"


def test_category_mapped_else_default_else_refused_naming_the_keys() -> None:
    mapped = account(categories={"Toys": "220"})
    assert build_listing(product(category="Toys"), mapped).category_id == "220"
    assert build_listing(product(category="Books"), mapped).category_id == "9355"
    bare = account(category_id="")
    message = refused(product(category="ホビー"), bare)
    assert "'ホビー'" in message
    assert "[platforms.ebay.categories]" in message and "category_id" in message
    assert "(none)" in refused(product(category=""), bare)


# ---------------------------------------------------------------------------- price, stock, sku


@pytest.mark.parametrize(
    ("yen", "rate", "markup", "expected"),
    [
        (1500, 150.0, 1.0, "10.00"),
        (1980, 150.0, 1.0, "13.20"),
        (1, 200.0, 1.0, "0.01"),  # 0.005: half up
        (3, 200.0, 1.0, "0.02"),  # 0.015: half up, not to even
        (1000, 150.0, 1.1, "7.33"),  # 7.3333…
        (1234, 147.35, 1.25, "10.47"),  # 10.4682…
        (101, 200.0, 1.0, "0.51"),  # 0.505 exactly: up
    ],
)
def test_price_is_yen_times_markup_over_rate_rounded_half_up(
    yen: int, rate: float, markup: float, expected: str
) -> None:
    settings = account(pricing={"currency": "USD", "exchange_rate": rate, "markup": markup})
    listing = build_listing(product(price=yen), settings)
    assert str(listing.price.amount) == expected
    assert offer_body(listing, Policies(()))["pricingSummary"] == {
        "price": {"value": expected, "currency": "USD"}
    }


def test_a_price_that_rounds_to_zero_is_refused() -> None:
    settings = account(pricing={"currency": "USD", "exchange_rate": 1000.0})
    assert "above zero" in refused(product(price=4), settings)


def test_stock_is_the_quantity_and_none_is_refused() -> None:
    assert build_listing(product(stock=7), account()).quantity == 7
    assert "stock is 0" in refused(product(stock=0))


def test_sku_is_the_prefix_and_the_asin() -> None:
    assert sku_for("B0X", account(sku_prefix="JP")) == "JPB0X"
    assert build_listing(product(), account()).sku == "B0EBAY0001"
    assert "eBay allows 50" in refused(product(), account(sku_prefix="P" * 41))


# ---------------------------------------------------------------------------- payloads


def test_the_two_bodies() -> None:
    settings = account(
        merchant_location_key="TOKYO_1",
        condition="USED_EXCELLENT",
        marketplace_id="EBAY_GB",
        pricing={"currency": "GBP", "exchange_rate": 190.0},
    )
    listing = build_listing(product(price=1900), settings)
    assert inventory_item_body(listing) == {
        "product": {
            "title": "Acme wind-up robot",
            "description": "<p>A <b>robot</b>.</p>",
            "imageUrls": ["https://img.example/1.jpg", "https://img.example/2.jpg"],
            "aspects": {"Brand": ["Acme"]},
        },
        "condition": "USED_EXCELLENT",
        "availability": {"shipToLocationAvailability": {"quantity": 3}},
    }
    policies = Policies(
        (("fulfillmentPolicyId", "F1"), ("paymentPolicyId", "P1"), ("returnPolicyId", "R1"))
    )
    assert offer_body(listing, policies) == {
        "sku": "B0EBAY0001",
        "marketplaceId": "EBAY_GB",
        "format": "FIXED_PRICE",
        "availableQuantity": 3,
        "categoryId": "9355",
        "merchantLocationKey": "TOKYO_1",
        "listingPolicies": {
            "fulfillmentPolicyId": "F1",
            "paymentPolicyId": "P1",
            "returnPolicyId": "R1",
        },
        "pricingSummary": {"price": {"value": "10.00", "currency": "GBP"}},
        "listingDuration": "GTC",
    }
    assert listing.price.amount == Decimal("10.00")
