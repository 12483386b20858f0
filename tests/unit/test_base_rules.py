"""Content rules, as pure functions: what is removed from titles, what blocks an item."""

from __future__ import annotations

from pathlib import Path

import pytest

from upload_scheduler.config.model import RulesConfig
from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.thebase.rules import (
    Rules,
    RulesError,
    RuleViolation,
    apply_rules,
    load_rules,
    remove_phrases,
    strip_four_byte,
)


def item(**fields: object) -> Product:
    values: dict[str, object] = {
        "asin": "B000000001",
        "title": "商品",
        "description": "説明",
        "price": 1000,
        "stock": 1,
    }
    values.update(fields)
    return Product(**values)  # type: ignore[arg-type]


def test_the_old_systems_amazon_bug_cannot_happen() -> None:
    """It listed both phrases, removed only "Amazon" and uploaded "【.co.jp限定】"."""
    for order in (["Amazon", "【Amazon.co.jp限定】"], ["【Amazon.co.jp限定】", "Amazon"]):
        rules = Rules.build(remove_phrases=order)
        title = apply_rules(
            item(title="【Amazon.co.jp限定】ワイヤレスイヤホン Amazonベーシック"), rules
        ).title
        assert title == "ワイヤレスイヤホン ベーシック"
        assert "【.co.jp限定】" not in title and "co.jp" not in title


def test_phrases_longest_first_and_whitespace_tidied() -> None:
    phrases = Rules.build(remove_phrases=["限定", "数量限定", "【", "】"]).remove_phrases
    assert phrases[0] == "数量限定"
    assert remove_phrases("  【数量限定】\u3000革 財布   黒  ", phrases) == "革 財布 黒"
    assert remove_phrases(
        "AMAZON basics", Rules.build(remove_phrases=["amazon"]).remove_phrases
    ) == ("basics")


def test_removing_a_phrase_never_joins_its_neighbours_into_another() -> None:
    phrases = Rules.build(remove_phrases=["Amazon", "XY"]).remove_phrases
    assert remove_phrases("AmaXYzon", phrases) == "Ama zon"


def test_emoji_are_removed_by_default_and_line_breaks_kept() -> None:
    result = apply_rules(
        item(title="犬 🐕 のおもちゃ👍🏻", description="遊べる🎾\n丈夫です❤️"), Rules.build()
    )
    assert result.title == "犬 のおもちゃ"
    # ❤ (U+2764) takes 3 bytes in UTF-8: BASE accepts it, so it stays.
    assert result.description == "遊べる\n丈夫です❤️"
    assert strip_four_byte("a😀b\n\nc") == "a b\n\nc"


def test_emoji_rejected_when_configured() -> None:
    with pytest.raises(RuleViolation) as caught:
        apply_rules(item(description="👍"), Rules.build(emoji="reject"))
    assert caught.value.rule == "emoji"


def test_a_title_left_empty_is_blocked() -> None:
    with pytest.raises(RuleViolation) as caught:
        apply_rules(item(title="🎁 Amazon"), Rules.build(remove_phrases=["Amazon"]))
    assert caught.value.rule == "title"


@pytest.mark.parametrize(
    "text",
    ["電動エアガン", "ｴｱｶﾞﾝ", "AirSoft GUN", "ａｉｒｓｏｆｔ　ｇｕｎ"],
)
def test_ng_words_match_case_and_width_insensitively(text: str) -> None:
    rules = Rules.build(ng_words=["エアガン", "airsoft gun"])
    with pytest.raises(RuleViolation) as caught:
        apply_rules(item(title=text), rules)
    assert caught.value.rule == "ng_words"
    with pytest.raises(RuleViolation):
        apply_rules(item(description=f"説明: {text}"), rules)


def test_categories_block_the_whole_path_or_one_segment() -> None:
    rules = Rules.build(blocked_categories=["医薬品", "Hobby > Airsoft"])
    for category in ("医薬品", "ヘルスケア > 医薬品", "ヘルスケア/医薬品", "hobby > airsoft"):
        with pytest.raises(RuleViolation) as caught:
            apply_rules(item(category=category), rules)
        assert caught.value.rule == "blocked_categories"
    for category in ("医薬部外品", "", "Hobby"):
        apply_rules(item(category=category), rules)


def test_min_price() -> None:
    rules = Rules.build(min_price=50)
    apply_rules(item(price=50), rules)
    with pytest.raises(RuleViolation) as caught:
        apply_rules(item(price=49), rules)
    assert caught.value.rule == "min_price"
    assert "49" in str(caught.value)


def test_load_rules_reads_the_words_file(tmp_path: Path) -> None:
    (tmp_path / "ng.txt").write_text("\ufeff# comment\nナイフ\n\n  刀剣  \n", encoding="utf-8")
    config = RulesConfig(ng_words=["タバコ"], ng_words_file="ng.txt")
    rules = load_rules(config, tmp_path)
    assert set(rules.ng_words) == {"タバコ", "ナイフ", "刀剣"}
    with pytest.raises(RulesError, match="does not exist"):
        load_rules(RulesConfig(ng_words_file="missing.txt"), tmp_path)


def test_a_clean_item_passes_unchanged() -> None:
    product = item(title="革 財布", description="本革\n黒")
    assert apply_rules(product, Rules.build(ng_words=["刀"], min_price=50)) == product
