"""A product as the master DB holds it: what the queue reads for a due item and what
every adapter lists (`platforms.interface` re-exports it for them)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Product:
    """One row of the master DB's products."""

    asin: str
    title: str
    description: str
    price: int
    stock: int
    images: tuple[str, ...] = ()
    brand: str = ""
    category: str = ""
    # English text for marketplaces that list in English (eBay); "" when the file had none.
    title_en: str = ""
    description_en: str = ""


# The master DB's product columns besides the key, in the dataclass's order: what the
# queue's due read selects and what a re-import writes.
PRODUCT_COLUMNS = tuple(f.name for f in fields(Product) if f.name != "asin")
