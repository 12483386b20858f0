"""The demo's products, generated deterministically from the catalog shipped in
`demo/data/catalog.json`, and written as Excel in Japan writes a CSV: CP932, CRLF.

The file holds the valid items (the last one is held back as the urgent item), two
items that the NG-word rules block, and three rows the import rejects. For eBay it also
has `title_en` and `description_en` (eBay lists in English); the blocked items have no
English title, so eBay's content rules refuse them as BASE's NG words do.

Yahoo! gets its own copy of the catalogue (`build_sample(..., asin_prefix=YAHOO_PREFIX,
image_url=yahoo_images(url))`): Yahoo! downloads every image, so its URLs must be the
Yahoo! sandbox's image origin, while eBay takes https images only, which no local
sandbox serves. A product has one set of images for every platform, so the copy has
ASINs of its own.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

# A reserved top-level domain: the URLs are well formed https (BASE's add_image and
# eBay's imageUrls take them) and can never reach a real host. The sandboxes record them
# without fetching.
IMAGE_BASE = "https://example.invalid/upload-scheduler-demo/images"
ENCODING = "cp932"
ASIN_PREFIX = "B0DEMO"
YAHOO_PREFIX = "B0YAHO"  # Yahoo!'s copy of the catalogue

ImageUrl = Callable[[str, int], str]  # (asin, image number from 1) -> its URL


def example_images(asin: str, number: int) -> str:
    """Well formed https that never reaches a host: BASE and eBay record image URLs."""
    return f"{IMAGE_BASE}/{asin}/{number}.jpg"


def yahoo_images(sandbox_url: str) -> ImageUrl:
    """Images on the Yahoo! sandbox's origin, which makes each from its name: the main
    one a JPEG, the others PNGs that the lister must re-encode as JPEG."""
    root = f"{sandbox_url.rstrip('/')}/images"

    def url(asin: str, number: int) -> str:
        return f"{root}/{asin}-{number}.{'jpg' if number == 1 else 'png'}"

    return url


@dataclass(frozen=True)
class SampleRow:
    """One CSV row, as text: prices as an operator's sheet shows them."""

    asin: str
    title: str
    description: str
    price: str
    stock: str
    images: str
    brand: str
    category: str
    title_en: str = ""
    description_en: str = ""


ENGLISH_COLUMNS = ("title_en", "description_en")


@dataclass(frozen=True)
class SampleFile:
    rows: list[SampleRow]
    valid: list[str]  # in file order; the last is the urgent one
    blocked: list[str]
    invalid_lines: list[int]  # physical lines, the header being line 1
    english: bool = True  # the file has title_en and description_en

    @property
    def urgent(self) -> str:
        return self.valid[-1]


@cache
def catalog() -> dict[str, Any]:
    text = (
        resources.files("upload_scheduler.demo")
        .joinpath("data/catalog.json")
        .read_text(encoding="utf-8")
    )
    return dict(json.loads(text))


def ng_words() -> list[str]:
    return list(catalog()["ng_words"])


def remove_phrases() -> list[str]:
    return list(catalog()["remove_phrases"])


def ebay_categories() -> dict[str, str]:
    """The catalogue's categories mapped to eBay category ids ([platforms.ebay.categories])."""
    return {str(k): str(v) for k, v in catalog()["ebay_categories"].items()}


def ebay_category_id() -> str:
    """eBay's category for the catalogue's other categories (`category_id`)."""
    return str(catalog()["ebay_category_id"])


def yahoo_categories() -> dict[str, dict[str, str]]:
    """The catalogue's categories mapped to a Yahoo! store path and product category
    ([platforms.yahoo.categories])."""
    return {str(k): dict(v) for k, v in catalog()["yahoo_categories"].items()}


def yahoo_category() -> dict[str, str]:
    """The path and product category of the catalogue's other categories."""
    return dict(catalog()["yahoo_category"])


def build_sample(
    items: int,
    *,
    english: bool = True,
    asin_prefix: str = ASIN_PREFIX,
    image_url: ImageUrl = example_images,
) -> SampleFile:
    """`items` valid products, the blocked ones a third and two thirds of the way through,
    the invalid rows in between, and the urgent item last (so `--limit` leaves it out).
    `english`: with the English columns eBay needs (the BASE-only demo has none)."""
    rows_of = _Rows(asin_prefix, image_url)
    valid = [rows_of.product(i) for i in range(items)]
    blocked = [rows_of.blocked(n, t) for n, t in enumerate(catalog()["blocked"], start=1)]
    invalid = rows_of.invalid()
    body = valid[:-1]
    inserts = [
        (len(body) // 3, blocked[0]),
        (len(body) // 3, invalid[0]),
        (len(body) // 2, invalid[1]),
        (2 * len(body) // 3, blocked[1]),
        (2 * len(body) // 3, invalid[2]),
    ]
    rows = list(body)
    for position, row in sorted(inserts, key=lambda pair: pair[0], reverse=True):
        rows.insert(position, row)
    rows.append(valid[-1])
    invalid_asins = {r.asin for r in invalid}
    valid_asins = {r.asin for r in valid}
    lines = [n for n, row in enumerate(rows, start=2) if row.asin in invalid_asins]
    return SampleFile(
        rows=rows,
        valid=[r.asin for r in rows if r.asin in valid_asins],
        blocked=[r.asin for r in blocked],
        invalid_lines=lines,
        english=english,
    )


def write_csv(sample: SampleFile, path: Path) -> None:
    """Raises UnicodeEncodeError if a text is not CP932 (the catalog's test guards it)."""
    names = [f.name for f in fields(SampleRow)]
    if not sample.english:
        names = [n for n in names if n not in ENGLISH_COLUMNS]
    with path.open("w", encoding=ENCODING, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(names)
        for row in sample.rows:
            writer.writerow(astuple(row)[: len(names)])


@dataclass(frozen=True)
class _Rows:
    """Makes the file's rows under one ASIN prefix, with images where `image_url` says."""

    prefix: str
    image_url: ImageUrl

    def product(self, index: int) -> SampleRow:
        templates = catalog()["templates"]
        variants = catalog()["variants"]
        variants_en = catalog()["variants_en"]
        template = templates[index % len(templates)]
        round_no = index // len(templates)
        variant = variants[round_no % len(variants)]
        title = f"{template['name']} {variant}"
        title_en = f"{template['name_en']} {variants_en[round_no % len(variants)]}"
        if round_no >= len(variants):
            title += f" ({round_no // len(variants) + 1}個セット)"
            title_en += f" (Set of {round_no // len(variants) + 1})"
        price = int(template["price"]) + 100 * (round_no % 3)
        asin = f"{self.prefix}{index:04d}"
        return SampleRow(
            asin=asin,
            title=title,
            description=str(template["description"]),
            # Every third price as a sheet formats it: full-width yen sign and a comma.
            price=f"\uffe5{price:,}" if index % 3 == 2 else str(price),
            stock=str(1 + index * 7 % 20),
            images=self.images(asin, int(template["images"])),
            brand=str(template["brand"]),
            category=str(template["category"]),
            title_en=title_en,
            description_en=str(template["description_en"]),
        )

    def blocked(self, number: int, template: dict[str, Any]) -> SampleRow:
        asin = f"{self.prefix}X{number:03d}"
        return SampleRow(
            asin=asin,
            title=str(template["name"]),
            description=str(template["description"]),
            price=str(template["price"]),
            stock="3",
            images=self.images(asin, int(template["images"])),
            brand=str(template["brand"]),
            category=str(template["category"]),
        )

    def invalid(self) -> list[SampleRow]:
        """Three mistakes a real sheet has: a price not yet decided, a missing title, and
        an image path pasted without its scheme. The blocked items (above) keep their
        English title empty: eBay's content rules refuse an item without one."""
        first = catalog()["templates"][0]
        base = SampleRow(
            asin="",
            title=f"{first['name']} 新色",
            description=str(first["description"]),
            price=str(first["price"]),
            stock="5",
            images="",
            brand=str(first["brand"]),
            category=str(first["category"]),
            title_en=f"{first['name_en']} New Color",
            description_en=str(first["description_en"]),
        )
        return [
            self._replace(base, asin=f"{self.prefix}E001", price="未定"),
            self._replace(base, asin=f"{self.prefix}E002", title=""),
            self._replace(base, asin=f"{self.prefix}E003", images="example.invalid/images/new.jpg"),
        ]

    def _replace(self, row: SampleRow, **changes: str) -> SampleRow:
        values = {f.name: getattr(row, f.name) for f in fields(SampleRow)}
        values.update(changes)
        if not values["images"]:
            values["images"] = self.images(values["asin"], 1)
        return SampleRow(**values)

    def images(self, asin: str, count: int) -> str:
        return "|".join(self.image_url(asin, n) for n in range(1, count + 1))
