"""What one product becomes on Yahoo!ショッピング: the item_code, the whole editItem form,
the images to upload and the stock, written once (PLATFORMS.md, Yahoo! section).

Pure: a function of the product, the account's settings and its `[platforms.yahoo.rules]`.
A product that cannot be listed raises `ListingRefused` (with the rule it breaks) before
anything is sent; the adapter and `rules check` share this.

Choices where Yahoo!'s documents are silent:
- caption: the description as HTML. A description with tags is reduced to basic markup
  (eBay's `clean_html`: no script, no links, which Yahoo! strips anyway); a plain text is
  escaped and its line breaks become <br>. Yahoo! documents no caption limit: none applied.
- explanation: the caption's text (tags dropped, entities read), lines kept, at most 500
  characters. headline: the brand, at most 30 characters. Both limits count characters
  (a full-width unit each, the strict reading), the name counts Yahoo!'s widths.
- stock 0 is listed: the item exists on Yahoo! with nothing to sell until stock arrives
  (unlike eBay, Yahoo! takes an item without stock); a negative stock is sent as 0.
- a product without images is listed without images; URLs other than http(s) are left
  out (and counted), so one bad URL cannot block the item.
- characters outside CP932 (Shift_JIS, Yahoo!'s own CSV encoding: emoji, ©, ™, é...) are
  removed or refused by the rules' `emoji` setting: whether Yahoo! takes them is
  UNCONFIRMED, and a refusal there would cost calls every attempt.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import urlsplit

from upload_scheduler.config import AccountSettings
from upload_scheduler.config.values import CategoryValues
from upload_scheduler.platforms.ebay.description import clean_html
from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.thebase.rules import (
    Rules,
    RuleViolation,
    apply_rules,
    remove_phrases,
    tidy,
)
from upload_scheduler.pricing import PricingSettings, list_price

NAME_MAX_WIDTH = 75  # full-width units; a half-width character is 0.5
EXPLANATION_MAX = 500
HEADLINE_MAX = 30
ITEM_CODE_MAX = 99
PATH_LEVELS_MAX = 8
PATH_LEVEL_MAX = 20
IMAGES_MAX = 21  # the main image and _1 .. _20
PATH_SEPARATOR = ":"
DISPLAY = "1"  # shown in the store once published
CURRENCY = "JPY"
# No content rules, and characters outside CP932 removed: build_item's default.
NO_RULES = Rules()

# The form's keys in the order editItem documents them (seller_id is the adapter's).
FORM_KEYS = (
    "item_code",
    "path",
    "name",
    "product_category",
    "price",
    "caption",
    "explanation",
    "headline",
    "display",
)

_ITEM_CODE = re.compile(r"[A-Za-z0-9-]+")
_BLOCK_END = re.compile(r"<br>|</(?:p|div|li|tr|h[1-6]|table|ul|ol)>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_INLINE_SPACES = re.compile(r"[^\S\n]+")


class ListingRefused(Exception):
    """A product Yahoo! would refuse, or our rules forbid: nothing is sent. The message
    says why and what to change; `rule` names the rule for `rules check`."""

    def __init__(self, message: str, rule: str = "content") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class YahooItem:
    """A product as it is listed on Yahoo!: `form` is the whole editItem form but
    seller_id (every field left out would be reset, so all of it is always sent)."""

    item_code: str
    form: dict[str, str] = field(hash=False)
    images: tuple[str, ...]  # main first, at most IMAGES_MAX
    quantity: int
    price: int  # yen, as in form["price"]
    name_cut: bool = False  # the title was wider than Yahoo!'s 75 units
    explanation_cut: bool = False  # the description's text was over 500 characters
    headline_cut: bool = False  # the brand was over 30 characters
    characters_removed: int = 0  # outside CP932, removed (emoji = "remove")
    images_not_http: int = 0  # left out: not an http(s) URL
    images_over_limit: int = 0  # left out: beyond the main image and 20 more


def item_code_for(asin: str, account: AccountSettings) -> str:
    """Our key on Yahoo!: the account's item_code_prefix and the ASIN, refused unless it
    is what editItem takes (half-width letters, digits, hyphens; at most 99)."""
    code = f"{account.item_code_prefix}{asin}"
    if not code or not _ITEM_CODE.fullmatch(code) or len(code) > ITEM_CODE_MAX:
        raise ListingRefused(
            f"the item_code {code!r} is not what Yahoo! takes (half-width letters, digits "
            f"and '-', 1 to {ITEM_CODE_MAX} characters); check item_code_prefix and the ASIN",
            "item_code",
        )
    return code


def image_name(item_code: str, index: int) -> str:
    """The file name that links an uploaded image to its item: index 0 is the main
    image (`<code>.jpg`), 1..20 the others (`<code>_<i>.jpg`)."""
    if not 0 <= index < IMAGES_MAX:
        raise ValueError(f"Yahoo! takes images 0..{IMAGES_MAX - 1}, not {index}")
    return f"{item_code}.jpg" if index == 0 else f"{item_code}_{index}.jpg"


def edit_item_form(item: YahooItem, seller_id: str) -> dict[str, str]:
    """The editItem form as sent: the store account first, then the item."""
    return {"seller_id": seller_id, **item.form}


def build_item(product: Product, account: AccountSettings, rules: Rules = NO_RULES) -> YahooItem:
    """The item `product` becomes for `account`, or ListingRefused naming the first rule
    it breaks (item_code, emoji, title, ng_words, blocked_categories, min_price, category,
    path, price, in that order).

    `rules` are the account's `[platforms.yahoo.rules]` (`thebase.rules.load_rules`); the
    default applies none and removes characters outside CP932."""
    item_code = item_code_for(product.asin, account)
    removed = 0

    def cp932(text: str, what: str) -> str:
        nonlocal removed
        kept, count = enforce_cp932(text, rules.emoji, what)
        removed += count
        return kept

    title = tidy(cp932(remove_phrases(product.title, rules.remove_phrases), "name (the title)"))
    headline = tidy(cp932(tidy(product.brand), "headline (the brand)"))
    # The caption's character references are read by clean_html: an emoji written as
    # &#128512; is a character here, and meets the rule like any other.
    caption = cp932(clean_html(product.description), "caption (the description)")
    text = html_text(caption)
    # The NG words are looked for in all a buyer reads: the brand (the headline) too.
    shown = f"{text}\n{headline}" if headline else text
    try:
        checked = apply_rules(replace(product, title=title, description=shown), rules)
    except RuleViolation as violation:
        raise ListingRefused(str(violation), violation.rule) from None
    path, product_category = category_for(product, account)
    price = price_for(product, account)
    name, name_cut = cut_to(checked.title, NAME_MAX_WIDTH, name_width)
    explanation, explanation_cut = cut_to(text, EXPLANATION_MAX)
    headline, headline_cut = cut_to(headline, HEADLINE_MAX)
    images = [url.strip() for url in product.images if url.strip()]
    http_images = [url for url in images if is_http(url)]
    form = {
        "item_code": item_code,
        "path": path,
        "name": name,
        "product_category": product_category,
        "price": str(price),
        "caption": caption,
        "explanation": explanation,
        "headline": headline,
        "display": DISPLAY,
    }
    return YahooItem(
        item_code=item_code,
        form=form,
        images=tuple(http_images[:IMAGES_MAX]),
        quantity=max(0, product.stock),
        price=price,
        name_cut=name_cut,
        explanation_cut=explanation_cut,
        headline_cut=headline_cut,
        characters_removed=removed,
        images_not_http=len(images) - len(http_images),
        images_over_limit=max(0, len(http_images) - IMAGES_MAX),
    )


# ------------------------------------------------------------------------- text widths


def name_width(text: str) -> float:
    """The width Yahoo! counts a name in: ASCII printable characters (U+0020..U+007E)
    and half-width katakana (U+FF61..U+FF9F) are 0.5, every other code point 1."""
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> float:
    code = ord(ch)
    return 0.5 if 0x20 <= code <= 0x7E or 0xFF61 <= code <= 0xFF9F else 1.0


def _one(ch: str) -> float:
    return 1.0


def cut_to(text: str, limit: float, width: Callable[[str], float] = _one) -> tuple[str, bool]:
    """The longest prefix of `text` within `limit` (each character weighed by `width`)
    that ends between two characters a reader sees as separate (see `_joins_previous`),
    trailing whitespace dropped; and whether anything was cut."""
    total = 0.0
    end = 0  # the last boundary that fits
    for i, ch in enumerate(text):
        if i and not _joins_previous(text, i):
            end = i
        total += width(ch)
        if total > limit:
            return text[:end].rstrip(), True
    return text, False


def _joins_previous(text: str, i: int) -> bool:
    """Whether `text[i]` belongs with the character before it, so no cut may fall
    between them: the low half of a surrogate pair, a combining mark, a variation
    selector, a zero-width joiner and the character after it, an emoji skin tone or tag,
    a half-width (han)dakuten, the second of a pair of regional indicators (a flag)."""
    ch, prev = ord(text[i]), ord(text[i - 1])
    if 0xDC00 <= ch <= 0xDFFF and 0xD800 <= prev <= 0xDBFF:
        return True
    if ch == 0x200D or prev == 0x200D:
        return True
    if (
        0xFE00 <= ch <= 0xFE0F
        or 0xE0100 <= ch <= 0xE01EF
        or 0x1F3FB <= ch <= 0x1F3FF
        or 0xE0020 <= ch <= 0xE007F
        or ch in (0xFF9E, 0xFF9F)
    ):
        return True
    if unicodedata.category(text[i]) in ("Mn", "Mc", "Me"):
        return True
    if _regional(ch) and _regional(prev):
        run = 0
        j = i - 1
        while j >= 0 and _regional(ord(text[j])):
            run += 1
            j -= 1
        return run % 2 == 1
    return False


def _regional(code: int) -> bool:
    return 0x1F1E6 <= code <= 0x1F1FF


# ------------------------------------------------------------------------------ CP932


@lru_cache(maxsize=4096)
def in_cp932(ch: str) -> bool:
    """Whether Shift_JIS as Windows writes it (CP932) has the character."""
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def enforce_cp932(text: str, emoji: str, what: str = "text") -> tuple[str, int]:
    """`text` without characters outside CP932, and how many went (emoji = "remove"), or
    ListingRefused naming the first one (emoji = "reject").

    A removed letter or mark (é, a variation selector, a joiner, a skin tone) leaves
    nothing, so a word stays whole; a removed symbol (an emoji, ©) leaves a space, so its
    neighbours are not joined (the caller tidies the spaces of a one-line field)."""
    out: list[str] = []
    removed = 0
    for ch in text:
        if in_cp932(ch):
            out.append(ch)
            continue
        if emoji == "reject":
            raise ListingRefused(
                f"the {what} has {ch!r} (U+{ord(ch):04X}), a character outside CP932 "
                "(Shift_JIS) that Yahoo! may not take; remove it from the product or set "
                'emoji = "remove" in [platforms.yahoo.rules]',
                "emoji",
            )
        removed += 1
        category = unicodedata.category(ch)
        if not (category.startswith(("L", "M")) or category in ("Cf", "Sk", "Cs")):
            out.append(" ")
    return ("".join(out), removed) if removed else (text, 0)


def html_text(caption: str) -> str:
    """The text of a caption (the output of `clean_html`): line breaks where the markup
    breaks lines, tags dropped, entities read, blank lines and spaces tidied."""
    text = html.unescape(_TAGS.sub("", _BLOCK_END.sub("\n", caption)))
    lines = (_INLINE_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------- category, path, price


def category_for(product: Product, account: AccountSettings) -> tuple[str, str]:
    """The store path and Yahoo!'s product_category: the product's category mapped by
    `[platforms.yahoo.categories]` (a table of path and product_category; a key it leaves
    empty falls back), else the account's `path` and `product_category`."""
    path, product_category = account.path, account.product_category
    mapped = account.categories.get(product.category) if product.category else None
    if isinstance(mapped, CategoryValues):
        path = mapped.path or path
        product_category = mapped.product_category or product_category
    elif mapped is not None:
        raise ListingRefused(
            f"[platforms.yahoo.categories] maps {product.category!r} to {mapped!r}, a plain "
            "category id: Yahoo! needs a table, e.g. "
            f'"{product.category}" = {{ path = "...", product_category = "..." }}',
            "category",
        )
    shown = repr(product.category) if product.category else "(none)"
    if not path.strip():
        raise ListingRefused(
            f"no store path for the product's category {shown}: set [platforms.yahoo] path "
            "or map the category under [platforms.yahoo.categories]",
            "category",
        )
    if not product_category.strip():
        raise ListingRefused(
            f"no product_category for the product's category {shown}: set [platforms.yahoo] "
            "product_category or map the category under [platforms.yahoo.categories]",
            "category",
        )
    return check_path(path), product_category.strip()


def check_path(path: str) -> str:
    """The store path as editItem takes it (levels separated by ':', at most 8, each 1 to
    20 characters), spaces around each level dropped; or ListingRefused."""
    levels = [level.strip() for level in path.split(PATH_SEPARATOR)]
    problem = ""
    if len(levels) > PATH_LEVELS_MAX:
        problem = f"it has {len(levels)} levels, Yahoo! allows {PATH_LEVELS_MAX}"
    elif any(not level for level in levels):
        problem = "it has an empty level"
    else:
        long = next((level for level in levels if len(level) > PATH_LEVEL_MAX), None)
        bad = next((ch for ch in PATH_SEPARATOR.join(levels) if not in_cp932(ch)), None)
        if long is not None:
            problem = (
                f"the level {long!r} has {len(long)} characters, Yahoo! allows {PATH_LEVEL_MAX}"
            )
        elif bad is not None:
            problem = f"it has {bad!r}, a character outside CP932 (Shift_JIS)"
    if problem:
        raise ListingRefused(
            f"the store path {path!r} is not what Yahoo! takes: {problem}; fix [platforms.yahoo] "
            "path or [platforms.yahoo.categories]",
            "path",
        )
    return PATH_SEPARATOR.join(levels)


def price_for(product: Product, account: AccountSettings) -> int:
    """The yen price by the account's pricing (`pricing.list_price`): Yahoo! lists in
    yen, a whole number above zero."""
    pricing = account.pricing
    if pricing.currency != CURRENCY:
        raise ListingRefused(
            f"Yahoo! lists in yen, but the account's pricing is in {pricing.currency}; set "
            f'[platforms.yahoo.pricing] currency = "{CURRENCY}"',
            "price",
        )
    try:
        price = list_price(
            product.price,
            PricingSettings(pricing.currency, pricing.exchange_rate, pricing.markup),
        )
    except ValueError as exc:
        raise ListingRefused(f"no price: {exc}", "price") from None
    yen = int(price.amount)
    if yen <= 0:
        raise ListingRefused(
            f"{product.price} yen comes to {yen} yen by the account's pricing: Yahoo! needs a "
            "price above zero",
            "price",
        )
    return yen


def is_http(url: str) -> bool:
    """An http or https URL with a host: what the lister can download."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
