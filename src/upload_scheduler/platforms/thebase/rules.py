"""Content rules checked before anything is sent to BASE (`[platforms.base.rules]`).

BASE restricted one of the old system's shops for listing prohibited items, so a blocked
product must never reach the API. Everything here is a pure function of the product and
the rules: the adapter, `rules check` and the tests share it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from upload_scheduler.config.values import RulesValues
from upload_scheduler.platforms.interface import Product

# Code points above the Basic Multilingual Plane take 4 bytes in UTF-8: BASE answers
# validation_error for them (emoji and some rare kanji).
_FOUR_BYTE = re.compile("[\U00010000-\U0010ffff][\ufe0f\u200d]*")
_SPACES = re.compile(r"[\s\u3000]+")
# A category such as "ホビー > エアガン" is blocked by "エアガン" as well as by the whole path.
_CATEGORY_SEPARATORS = re.compile(r"\s*[>/|›»]\s*")


class RuleViolation(Exception):
    """A product the rules forbid sending; `rule` names the rule for the operator."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"blocked by rule {rule}: {detail}")
        self.rule = rule
        self.detail = detail


class RulesError(ValueError):
    """The rules configuration itself cannot be used (e.g. a missing words file)."""


@dataclass(frozen=True)
class Rules:
    ng_words: tuple[str, ...] = ()
    blocked_categories: tuple[str, ...] = ()
    remove_phrases: tuple[str, ...] = ()  # longest first
    emoji: str = "remove"
    min_price: int = 0

    @classmethod
    def build(
        cls,
        *,
        ng_words: list[str] | tuple[str, ...] = (),
        blocked_categories: list[str] | tuple[str, ...] = (),
        remove_phrases: list[str] | tuple[str, ...] = (),
        emoji: str = "remove",
        min_price: int = 0,
    ) -> Rules:
        """Normalise the lists once, so each check is a plain comparison."""
        words = {_fold(w) for w in ng_words if w.strip()}
        categories = {_fold(c) for c in blocked_categories if c.strip()}
        phrases = {p for p in remove_phrases if p.strip()}
        return cls(
            ng_words=tuple(sorted(words)),
            blocked_categories=tuple(sorted(categories)),
            # Longest first: "Amazon" must not eat the middle of "【Amazon.co.jp限定】".
            remove_phrases=tuple(sorted(phrases, key=lambda p: (-len(p), p))),
            emoji=emoji,
            min_price=min_price,
        )


def load_rules(config: RulesValues, base_dir: Path) -> Rules:
    """The rules of one platform; `ng_words_file` is read relative to the config file.
    `config` is a `[platforms.X.rules]` section (RulesValues, or the pydantic RulesConfig)."""
    words = list(config.ng_words)
    if config.ng_words_file:
        words += read_words_file(base_dir / config.ng_words_file)
    return Rules.build(
        ng_words=words,
        blocked_categories=config.blocked_categories,
        remove_phrases=config.remove_phrases,
        emoji=config.emoji,
        min_price=config.min_price,
    )


def read_words_file(path: Path) -> list[str]:
    """One word per line; blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesError(
            f"ng_words_file {path} does not exist; create it (one word per line) or remove "
            "the key from [platforms.base.rules]"
        ) from None
    except UnicodeDecodeError:
        raise RulesError(f"ng_words_file {path} is not UTF-8 text; save it as UTF-8") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not _comment(line)]


def apply_rules(product: Product, rules: Rules) -> Product:
    """The product as it will be sent (phrases and, if so configured, emoji removed), or
    RuleViolation naming the first rule that blocks it."""
    title = remove_phrases(product.title, rules.remove_phrases)
    description = product.description
    emoji = _FOUR_BYTE.search(title) or _FOUR_BYTE.search(description)
    if emoji is not None:
        if rules.emoji == "reject":
            raise RuleViolation(
                "emoji", f"4-byte character {emoji.group()!r} in the title or description"
            )
        title = tidy(_FOUR_BYTE.sub(" ", title))
        description = strip_four_byte(description)
    if not title:
        raise RuleViolation("title", "the title is empty once phrases and emoji are removed")
    word = find_ng_word(f"{title}\n{description}", rules.ng_words)
    if word is not None:
        raise RuleViolation("ng_words", f"NG word {word!r} in the title or description")
    category = blocked_category(product.category, rules.blocked_categories)
    if category is not None:
        raise RuleViolation("blocked_categories", f"category {product.category!r} is blocked")
    if product.price < rules.min_price:
        raise RuleViolation(
            "min_price", f"price {product.price} yen is below the minimum of {rules.min_price}"
        )
    return replace(product, title=title, description=description)


def remove_phrases(title: str, phrases: tuple[str, ...]) -> str:
    """Cut each phrase (longest first, case-insensitive) and tidy the whitespace left.

    A phrase is replaced by a space, not by nothing, so that removing one phrase can
    never join its neighbours into another phrase."""
    for phrase in phrases:
        title = re.sub(re.escape(phrase), " ", title, flags=re.IGNORECASE)
    return tidy(title)


def strip_four_byte(text: str) -> str:
    """Remove 4-byte characters from a multi-line text, keeping its line breaks."""
    lines = (_SPACES.sub(" ", _FOUR_BYTE.sub(" ", line)).strip() for line in text.split("\n"))
    return "\n".join(lines)


def tidy(text: str) -> str:
    """One space wherever whitespace runs (full-width spaces included), none at the ends."""
    return _SPACES.sub(" ", text).strip()


def find_ng_word(text: str, words: tuple[str, ...]) -> str | None:
    """The first NG word in `text`, compared case- and width-insensitively (ＡＢＣ = abc)."""
    folded = _fold(text)
    for word in words:
        if word in folded:
            return word
    return None


def blocked_category(category: str, blocked: tuple[str, ...]) -> str | None:
    if not category.strip() or not blocked:
        return None
    folded = _fold(category)
    parts = {folded, *(p for p in _CATEGORY_SEPARATORS.split(folded) if p)}
    for entry in blocked:
        if entry in parts:
            return entry
    return None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")
