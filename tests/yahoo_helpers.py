"""Shared by the Yahoo! listing tests: products whose images live on the sandbox's image
origin (small JPEGs, PNGs the lister must re-encode, one JPEG over 2 MB it must shrink),
written as the CSV `products import` reads, and the judgement of what a Yahoo! sandbox
holds after a run against what each store was given.

The sandbox's truth is read by the caller (its `/_sandbox/state` and `/_sandbox/verdict`
answers, whichever way it runs); nothing here talks to it.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The sandbox's own figures: its "2 MB" for an image, and what its origin serves.
IMAGE_MAX_BYTES = 2_000_000
PRODUCT_COLUMNS = ("asin", "title", "description", "price", "stock", "images")


@dataclass(frozen=True)
class YahooProduct:
    asin: str
    title: str
    price: int  # yen
    stock: int
    images: tuple[str, ...]  # URLs, the main image first

    def row(self) -> list[str]:
        description = f"<p>{self.title}の説明です。</p>"
        images = "|".join(self.images)
        return [self.asin, self.title, description, str(self.price), str(self.stock), images]


def catalogue(origin: str, asins: Sequence[str], *, big: Sequence[str] = ()) -> list[YahooProduct]:
    """One product per ASIN with one to four images on `origin` (the sandbox's URL): the
    main image a JPEG, every third other image a PNG; the ASINs in `big` have a main
    image over 2 MB (`/images/big/…`)."""
    products = []
    for n, asin in enumerate(asins):
        folder = "big/" if asin in big else ""
        images = [f"{origin}/images/{folder}{asin.lower()}-main.jpg"]
        for i in range(1, 1 + n % 4):
            ext = "png" if (n + i) % 3 == 0 else "jpg"
            images.append(f"{origin}/images/{asin.lower()}-{i}.{ext}")
        title = f"ブリキのロボット {n} 号"
        products.append(YahooProduct(asin, title, 1000 + 10 * n, 1 + n % 5, tuple(images)))
    return products


def write_products(path: Path, products: Sequence[YahooProduct]) -> None:
    """The products as a UTF-8 CSV, images separated by `|`."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PRODUCT_COLUMNS)
        writer.writerows(p.row() for p in products)


def image_names(item_code: str, count: int) -> list[str]:
    """The file names Yahoo! links to the item: `<code>.jpg`, then `<code>_1.jpg` …"""
    return [f"{item_code}.jpg"] + [f"{item_code}_{i}.jpg" for i in range(1, count)]


def listing_problems(
    state: Mapping[str, Any],
    verdict: Mapping[str, Any],
    expected: Mapping[str, Mapping[str, YahooProduct]],
) -> list[str]:
    """What is wrong with the stores after a run, against `expected` (seller_id ->
    item_code -> the product): each store holds exactly its item codes, each published
    as sent (name, price, stock, displayed), nothing left unpublished, its main image and
    every other image in the published item, every image a JPEG within 2 MB, no image of
    another item; and the verdict saw no refusal (429, the day's 403, the images' 503)."""
    problems = [f"verdict: {p}" for p in verdict["problems"]]
    refused = {kind: n for kind, n in verdict["refused"].items() if n}
    if refused:
        problems.append(f"requests refused: {refused}")
    stores = state["stores"]
    judged = verdict["stores"]
    if sorted(judged) != sorted(expected):
        problems.append(f"stores called: {sorted(judged)}, expected {sorted(expected)}")
    for seller, products in expected.items():
        held = stores.get(seller, {"items": {}, "images": []})
        codes = sorted(held["items"])
        if codes != sorted(products) or judged.get(seller, {}).get("item_codes") != codes:
            problems.append(f"store {seller} holds {codes}, expected {sorted(products)}")
            continue
        names = sorted(i["name"] for i in held["images"])
        wanted = sorted(n for c, p in products.items() for n in image_names(c, len(p.images)))
        if names != wanted:
            problems.append(f"store {seller} holds images {names}, expected {wanted}")
        for code, product in products.items():
            problems += _item_problems(
                f"store {seller}: {code}",
                held["items"][code],
                judged[seller]["items"][code],
                product,
            )
    return problems


def _item_problems(
    where: str, item: Mapping[str, Any], judged: Mapping[str, Any], product: YahooProduct
) -> list[str]:
    others = len(product.images) - 1
    seen = {
        "published": judged["published"],
        "pending": judged["pending"],
        "deleted": judged["deleted"],
        "main_image": judged["main_image"],
        "images": judged["images"],
        "images_uploaded": judged["images_uploaded"],
        "display": judged["display"],
    }
    want = {
        "published": True,
        "pending": False,
        "deleted": False,
        "main_image": True,
        "images": others,
        "images_uploaded": others,
        "display": "1",
    }
    problems = [f"{where}: {seen} in the verdict, expected {want}"] if seen != want else []
    published = item["published"] or {}
    fields = published.get("fields", {})
    sent = (fields.get("name"), fields.get("price"), item["stock"], item["reset_fields"])
    if sent != (product.title, str(product.price), product.stock, []):
        problems.append(f"{where}: published (name, price, stock, reset) {sent}")
    shown = [i["name"] for i in published.get("images", [])]
    if shown != sorted(image_names(str(fields.get("item_code")), len(product.images))):
        problems.append(f"{where}: published with images {shown}")
    for image in item["images"]:
        if image["format"] != "JPEG" or not 0 < image["size"] <= IMAGE_MAX_BYTES:
            problems.append(f"{where}: image {image}")
    return problems
