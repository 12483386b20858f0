"""editItem's checks, strict where the wire contract leaves room: every problem of a
request is answered at once (one `<Error>` each, in the contract's order), and nothing
is stored unless all pass.

editItem replaces the whole item: a field the request leaves out is reset to its
default. `reset_fields` names the contract's fields that were left out, so the record
and the verdict can show an adapter that forgot one.
"""

from __future__ import annotations

import re
import unicodedata

from upload_scheduler.platforms.yahoo.sandbox.answers import YahooError

ITEM_CODE = re.compile(r"[A-Za-z0-9-]{1,99}")
NAME_WIDTH = 75
PATH_LEVELS = 8
PATH_LEVEL_CHARS = 20
HEADLINE_CHARS = 30
EXPLANATION_CHARS = 500
# The fields the contract sends with every editItem, with what leaving one out resets
# it to; the required ones fail instead (their default is no value).
OPTIONAL_DEFAULTS = {"caption": "", "explanation": "", "headline": "", "display": "0"}
REQUIRED = ("item_code", "path", "name", "product_category", "price")
CONTRACT_FIELDS = (*REQUIRED, *OPTIONAL_DEFAULTS)
_Problem = tuple[str, str, str]  # (target, code, message)


def width(text: str) -> float:
    """Yahoo!'s name length: a half-width character counts 0.5, any other 1."""
    return sum(0.5 if unicodedata.east_asian_width(ch) in ("Na", "H") else 1.0 for ch in text)


def outside_cp932(text: str) -> list[str]:
    """The characters Shift_JIS (Windows code page 932) cannot hold."""
    bad = []
    for ch in text:
        try:
            ch.encode("cp932")
        except UnicodeEncodeError:
            bad.append(ch)
    return bad


def check_item(form: dict[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(the item's fields as stored, the contract's fields left out) for an editItem
    form; a 400 NG ResultSet listing every problem otherwise."""
    problems = [
        *_item_code(form.get("item_code", "")),
        *_path(form.get("path", "")),
        *_name(form.get("name", "")),
        *_price(form.get("price", "")),
        *_limit(form, "headline", HEADLINE_CHARS, "it-01030"),
        *_limit(form, "explanation", EXPLANATION_CHARS, "it-01031"),
    ]
    if not form.get("product_category", "").strip():
        problems.append(("product_category", "it-01040", "product_category is required"))
    if problems:
        raise YahooError(400, problems[0][2], problems[0][1], targets=problems)
    left_out = tuple(name for name in CONTRACT_FIELDS if name not in form)
    fields = {k: v for k, v in form.items() if k != "seller_id"}
    for name, default in OPTIONAL_DEFAULTS.items():
        fields.setdefault(name, default)
    return fields, left_out


def _item_code(code: str) -> list[_Problem]:
    if ITEM_CODE.fullmatch(code):
        return []
    return [("item_code", "it-01013", "item_code must be 1 to 99 of A-Z, a-z, 0-9 and -")]


def _path(path: str) -> list[_Problem]:
    levels = path.split(":")
    if not path or len(levels) > PATH_LEVELS:
        return [("path", "it-01011", f"path must have 1 to {PATH_LEVELS} levels")]
    if any(not level or len(level) > PATH_LEVEL_CHARS for level in levels):
        return [("path", "it-01011", f"each path level must be 1 to {PATH_LEVEL_CHARS} chars")]
    return []


def _name(name: str) -> list[_Problem]:
    if not name.strip():
        return [("name", "it-01012", "name is required")]
    problems = []
    if width(name) > NAME_WIDTH:
        problems.append(("name", "it-01017", f"name is longer than {NAME_WIDTH} full-width"))
    bad = outside_cp932(name)
    if bad:
        shown = " ".join(f"U+{ord(ch):04X}" for ch in bad[:5])
        problems.append(("name", "it-01050", f"name holds invalid characters: {shown}"))
    return problems


def _price(price: str) -> list[_Problem]:
    if price.isascii() and price.isdigit() and int(price) > 0:
        return []
    return [("price", "it-01015", "price must be a positive whole number of yen")]


def _limit(form: dict[str, str], name: str, chars: int, code: str) -> list[_Problem]:
    if len(form.get(name, "")) <= chars:
        return []
    return [(name, code, f"{name} is longer than {chars} characters")]
