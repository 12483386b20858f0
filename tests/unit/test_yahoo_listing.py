"""Yahoo!ショッピング's item as a pure function of a product, the account's settings and
its rules: the item_code, the name's width and cut, characters outside CP932 (removed or
refused), the shared content rules, the store path and category, the yen price, the
caption and explanation, images and their file names, and the `rules check` hook."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upload_scheduler.config import AccountSettings, settings_from_dict
from upload_scheduler.config.values import CategoryValues, PricingValues
from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.listing_check import listing_check
from upload_scheduler.platforms.thebase.rules import Rules
from upload_scheduler.platforms.yahoo.listing import (
    EXPLANATION_MAX,
    FORM_KEYS,
    HEADLINE_MAX,
    IMAGES_MAX,
    NAME_MAX_WIDTH,
    ListingRefused,
    build_item,
    check_path,
    cut_to,
    edit_item_form,
    enforce_cp932,
    image_name,
    item_code_for,
    name_width,
)

RAW: dict[str, Any] = {
    "database": "sqlite:///unused.db",
    "accounts": {"yahoo": ["store_a"]},
    "platforms": {
        "yahoo": {
            "client_id": "app",
            "seller_id": "store-a",
            "path": "ホビー:フィギュア",
            "product_category": "2511",
            "categories": {"Toys": {"path": "おもちゃ:ロボット", "product_category": "1234"}},
        }
    },
}


def account(**changes: Any) -> AccountSettings:
    """A real account of the config (the Yahoo! keys filled in), with `changes`."""
    real = settings_from_dict(RAW, Path("upload-scheduler.toml")).account("yahoo", "store_a")
    return replace(real, **changes)


def product(**fields: Any) -> Product:
    values: dict[str, Any] = {
        "asin": "B0YAHOO001",
        "title": "ゼンマイ ロボット",
        "description": "ブリキのロボット。\n箱付き。",
        "price": 1500,
        "stock": 3,
        "images": ("https://img.example/1.jpg", "https://img.example/2.jpg"),
        "brand": "Acme",
        "category": "Toys",
    }
    values.update(fields)
    return Product(**values)


def refused(item: Product, settings: AccountSettings | None = None, **rules: Any) -> ListingRefused:
    with pytest.raises(ListingRefused) as caught:
        build_item(item, settings or account(), Rules.build(**rules))
    return caught.value


# ----------------------------------------------------------------------- the whole form


def test_the_form_is_the_whole_item_but_seller_id() -> None:
    item = build_item(product(), account())
    assert tuple(item.form) == FORM_KEYS
    assert item.form == {
        "item_code": "B0YAHOO001",
        "path": "おもちゃ:ロボット",
        "name": "ゼンマイ ロボット",
        "product_category": "1234",
        "price": "1500",
        "caption": "ブリキのロボット。<br>箱付き。",
        "explanation": "ブリキのロボット。\n箱付き。",
        "headline": "Acme",
        "display": "1",
    }
    assert (item.item_code, item.quantity, item.price) == ("B0YAHOO001", 3, 1500)
    assert item.images == ("https://img.example/1.jpg", "https://img.example/2.jpg")
    assert not (item.name_cut or item.explanation_cut or item.headline_cut)
    assert edit_item_form(item, "store-a") == {"seller_id": "store-a", **item.form}
    assert next(iter(edit_item_form(item, "store-a"))) == "seller_id"


def test_the_item_is_a_pure_function() -> None:
    assert build_item(product(), account()) == build_item(product(), account())


def test_stock_zero_is_listed_without_stock() -> None:
    assert build_item(product(stock=0), account()).quantity == 0
    assert build_item(product(stock=-2), account()).quantity == 0


# --------------------------------------------------------------------------- item_code


def test_item_code_is_the_prefix_and_the_asin() -> None:
    assert item_code_for("B0ABC", account()) == "B0ABC"
    assert item_code_for("B0ABC", account(item_code_prefix="shop-1-")) == "shop-1-B0ABC"
    assert item_code_for("B" * 99, account()) == "B" * 99


@pytest.mark.parametrize(
    ("prefix", "asin"),
    [("", "B" * 100), ("y_", "B0ABC"), ("", "B0 ABC"), ("ｙ", "B0ABC"), ("", "B0ABC\n"), ("", "")],
)
def test_item_code_outside_yahoos_characters_is_refused(prefix: str, asin: str) -> None:
    with pytest.raises(ListingRefused) as caught:
        item_code_for(asin, account(item_code_prefix=prefix))
    assert caught.value.rule == "item_code"
    assert "item_code_prefix" in str(caught.value)


# -------------------------------------------------------------------------- name width


def test_name_width_counts_half_width_as_half() -> None:
    assert name_width("") == 0
    assert name_width("abc XYZ 123 ~!") == 7.0
    assert name_width("ｱｲｳﾞ｡") == 2.5  # half-width katakana, dakuten and the full stop
    assert name_width("あア漢Ａ１　") == 6.0  # full-width, the ideographic space too
    assert name_width("é😀\t") == 3.0  # everything else is 1


def test_a_name_that_fits_is_kept() -> None:
    exact = "ア" * 74 + "ab"
    item = build_item(product(title=exact), account())
    assert (item.form["name"], item.name_cut) == (exact, False)
    assert build_item(product(title="a" * 150), account()).name_cut is False


def test_a_wide_name_is_cut_within_75_units() -> None:
    item = build_item(product(title="ア" * 74 + "abc"), account())
    assert (item.form["name"], item.name_cut) == ("ア" * 74 + "ab", True)
    item = build_item(product(title="a" * 151), account())
    assert (item.form["name"], item.name_cut) == ("a" * 150, True)
    # The cut never leaves a space at the end.
    item = build_item(product(title="ア" * 74 + " " + "あ"), account())
    assert item.form["name"] == "ア" * 74


def test_a_cut_never_splits_a_character_a_reader_sees_as_one() -> None:
    assert cut_to("ab" + "e\u0301" + "cd", 3) == ("ab", True)  # e + combining acute
    assert cut_to("ab" + "\ud83d\ude00", 3) == ("ab", True)  # a surrogate pair
    assert cut_to("a" + "👍\U0001f3fd", 2) == ("a", True)  # skin tone
    assert cut_to("a" + "👩\u200d💻", 3) == ("a", True)  # a ZWJ sequence
    assert cut_to("a" + "🇯🇵🇯🇵", 4) == ("a🇯🇵", True)  # flags are pairs
    assert cut_to("ｶﾞｷ", 1.0, name_width) == ("ｶﾞ", True)
    assert cut_to("ｶﾞｷ", 0.5, name_width) == ("", True)


CLUSTERS = st.sampled_from(
    ["a", " ", "ア", "ｱ", "ｶﾞ", "漢", "e\u0301", "\ud83d\ude00", "👍\U0001f3fd", "👩\u200d💻", "🇯🇵"]
)


@given(st.lists(CLUSTERS, max_size=120))
def test_cut_property_fits_is_a_prefix_and_ends_between_clusters(parts: list[str]) -> None:
    text = "".join(parts)
    name, cut = cut_to(text, NAME_MAX_WIDTH, name_width)
    assert name_width(name) <= NAME_MAX_WIDTH
    assert text.startswith(name)
    assert cut == (name != text)
    if name:
        assert not "\ud800" <= name[-1] <= "\udbff"  # never the high half of a pair
    # The cut falls where one of the generated clusters ends, never inside one.
    assert len(name) in {sum(len(p) for p in parts[:i]) for i in range(len(parts) + 1)}


# ------------------------------------------------------------------------------- CP932


def test_characters_outside_cp932_are_removed_by_default() -> None:
    item = build_item(
        product(
            title="限定😀品 Pokémon™ ✨フィギュア✨ 👍\U0001f3fd",
            description="<p>説明 &#128512; ©2024</p>",
            brand="Acme™",
        ),
        account(),
    )
    assert item.form["name"] == "限定 品 Pokmon フィギュア"
    assert item.form["caption"] == "<p>説明    2024</p>"
    assert item.form["explanation"] == "説明 2024"
    assert item.form["headline"] == "Acme"
    assert item.characters_removed == 10  # title 7, description 2, brand 1
    for key in ("name", "caption", "explanation", "headline"):
        item.form[key].encode("cp932")


def test_variation_selectors_and_joiners_go_with_the_emoji() -> None:
    text, removed = enforce_cp932("A❤\ufe0fB👩\u200d💻C", "remove")
    assert (text, removed) == ("A B  C", 5)
    assert "\ufe0f" not in text and "\u200d" not in text


def test_reject_names_the_character_and_the_field() -> None:
    error = refused(product(title="限定😀品"), emoji="reject")
    assert error.rule == "emoji"
    assert "'😀' (U+1F600)" in str(error)
    assert "name" in str(error) and 'emoji = "remove"' in str(error)
    error = refused(product(description="<p>説明 &#169;</p>"), emoji="reject")
    assert "'©' (U+00A9)" in str(error) and "caption" in str(error)
    error = refused(product(brand="Acme™"), emoji="reject")
    assert "headline" in str(error)


def test_reject_passes_a_product_inside_cp932() -> None:
    item = build_item(product(title="①限定 ♪★〜"), account(), Rules.build(emoji="reject"))
    assert item.form["name"] == "①限定 ♪★〜"


# ---------------------------------------------------------------- shared content rules


def test_phrases_are_removed_before_the_emoji_rule() -> None:
    item = build_item(
        product(title="【Amazon.co.jp限定✨】ロボット"),
        account(),
        Rules.build(remove_phrases=["【Amazon.co.jp限定✨】"], emoji="reject"),
    )
    assert item.form["name"] == "ロボット"


def test_ng_words_blocked_categories_and_min_price_block_the_product() -> None:
    assert refused(product(title="エアガン ロボット"), ng_words=["エアガン"]).rule == "ng_words"
    assert refused(product(description="中古の品"), ng_words=["中古"]).rule == "ng_words"
    assert refused(product(brand="ＢＡＤ brand"), ng_words=["bad"]).rule == "ng_words"
    assert (
        refused(product(category="ホビー > エアガン"), blocked_categories=["エアガン"]).rule
        == "blocked_categories"
    )
    error = refused(product(price=40), min_price=50)
    assert (error.rule, "blocked by rule min_price" in str(error)) == ("min_price", True)


def test_a_title_left_empty_is_refused() -> None:
    assert refused(product(title="😀✨")).rule == "title"
    assert refused(product(title="限定"), remove_phrases=["限定"]).rule == "title"


# ---------------------------------------------------------------------- path, category


def test_the_category_is_mapped_else_the_accounts() -> None:
    assert build_item(product(category="Other"), account()).form["path"] == "ホビー:フィギュア"
    assert build_item(product(category=""), account()).form["product_category"] == "2511"
    partial = account(categories={"Toys": CategoryValues(path="おもちゃ")})
    form = build_item(product(), partial).form
    assert (form["path"], form["product_category"]) == ("おもちゃ", "2511")


def test_no_path_or_product_category_names_the_config_keys() -> None:
    error = refused(product(category="Other"), account(path=""))
    assert error.rule == "category"
    assert "[platforms.yahoo] path" in str(error)
    assert "[platforms.yahoo.categories]" in str(error)
    error = refused(product(category="Other"), account(product_category=" "))
    assert "[platforms.yahoo] product_category" in str(error)


def test_a_plain_category_id_is_not_a_yahoo_mapping() -> None:
    error = refused(product(), account(categories={"Toys": "9355"}))
    assert error.rule == "category" and "path" in str(error)


def test_path_levels() -> None:
    assert check_path("ホビー:フィギュア") == "ホビー:フィギュア"
    assert check_path(" ホビー : フィギュア ") == "ホビー:フィギュア"
    assert check_path(":".join("abcdefgh")) == "a:b:c:d:e:f:g:h"
    assert check_path("あ" * 20) == "あ" * 20


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (":".join("abcdefghi"), "9 levels"),
        ("ホビー::フィギュア", "empty level"),
        ("ホビー:", "empty level"),
        ("あ" * 21, "21 characters"),
        ("ホビー:😀", "outside CP932"),
    ],
)
def test_a_bad_path_is_refused(path: str, says: str) -> None:
    with pytest.raises(ListingRefused) as caught:
        check_path(path)
    assert caught.value.rule == "path" and says in str(caught.value)
    assert refused(product(category=""), account(path=path)).rule == "path"


# ------------------------------------------------------------------------------- price


def test_price_is_whole_yen_by_the_accounts_pricing() -> None:
    assert build_item(product(price=1000), account()).form["price"] == "1000"
    marked = account(pricing=PricingValues(currency="JPY", markup=1.15))
    assert build_item(product(price=999), marked).form["price"] == "1149"  # 1148.85 half up


def test_a_price_of_nothing_or_in_another_currency_is_refused() -> None:
    assert refused(product(price=0)).rule == "price"
    cheap = account(pricing=PricingValues(currency="JPY", markup=0.001))
    assert refused(product(price=100), cheap).rule == "price"
    dollars = account(pricing=PricingValues(currency="USD", exchange_rate=150.0))
    error = refused(product(), dollars)
    assert error.rule == "price" and 'currency = "JPY"' in str(error)


# ------------------------------------------------------------- caption and explanation


def test_html_is_cleaned_and_plain_text_escaped() -> None:
    form = build_item(
        product(
            description='<p onclick="x()">A <b>robot</b> &amp; <a href="http://x">box</a></p>'
            "<script>alert(1)</script><ul><li>one</li><li>two</li></ul>"
        ),
        account(),
    ).form
    assert form["caption"] == "<p>A <b>robot</b> &amp; box</p><ul><li>one</li><li>two</li></ul>"
    assert form["explanation"] == "A robot & box\none\ntwo"
    plain = build_item(product(description="1 < 2 & 3\n\n二行目"), account()).form
    assert plain["caption"] == "1 &lt; 2 &amp; 3<br><br>二行目"
    assert plain["explanation"] == "1 < 2 & 3\n二行目"


def test_explanation_and_headline_are_cut() -> None:
    item = build_item(product(description="あ" * 600, brand="B" * 40), account())
    assert item.form["explanation"] == "あ" * EXPLANATION_MAX
    assert item.form["headline"] == "B" * HEADLINE_MAX
    assert item.explanation_cut and item.headline_cut
    assert item.form["caption"] == "あ" * 600  # no documented limit


def test_an_empty_description_and_brand_are_empty_fields() -> None:
    form = build_item(product(description="", brand=""), account()).form
    assert (form["caption"], form["explanation"], form["headline"]) == ("", "", "")


# ------------------------------------------------------------------------------ images


def test_images_main_first_at_most_21() -> None:
    urls = tuple(f"https://img.example/{i}.jpg" for i in range(25))
    item = build_item(product(images=urls), account())
    assert item.images == urls[:IMAGES_MAX]
    assert item.images_over_limit == 4


def test_images_that_cannot_be_downloaded_are_left_out() -> None:
    urls = ("ftp://x/1.jpg", " ", "http://127.0.0.1:8000/a.png", "data:image/png;base64,AA")
    item = build_item(product(images=(*urls, "http://[::1/a.jpg")), account())
    assert (item.images, item.images_not_http) == (("http://127.0.0.1:8000/a.png",), 3)
    assert build_item(product(images=()), account()).images == ()


def test_image_names() -> None:
    assert image_name("B0ABC", 0) == "B0ABC.jpg"
    assert image_name("B0ABC", 1) == "B0ABC_1.jpg"
    assert image_name("B0ABC", 20) == "B0ABC_20.jpg"
    for index in (-1, 21):
        with pytest.raises(ValueError):
            image_name("B0ABC", index)


# ----------------------------------------------------------------------- rules check


def test_rules_check_hook_reports_the_rule() -> None:
    raw = {
        **RAW,
        "platforms": {"yahoo": {**RAW["platforms"]["yahoo"], "rules": {"emoji": "reject"}}},
    }
    settings = settings_from_dict(raw, Path("upload-scheduler.toml"))
    check = listing_check(settings, "yahoo")
    real = settings.account("yahoo", "store_a")
    assert check(product(), real) is None
    violation = check(product(title="限定😀"), real)
    assert violation is not None and violation.rule == "emoji" and "U+1F600" in violation.detail
    assert check(product(price=10), real) is not None  # the config's min_price (50)
    none = check(product(), None)
    assert none is not None and none.rule == "account"
