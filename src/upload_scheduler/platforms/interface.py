"""The interface every marketplace adapter implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from upload_scheduler.inventory.product import Product

__all__ = [
    "Account",
    "DeleteResult",
    "ExistingItem",
    "Platform",
    "PlatformContext",
    "Product",
    "UploadResult",
]

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from upload_scheduler.clock import Clock
    from upload_scheduler.config import Settings


@dataclass(frozen=True)
class Account:
    """The shop an adapter acts for; `settings` holds the account's resolved settings."""

    platform: str
    account_id: str
    settings: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PlatformContext:
    """What an adapter factory receives: `factory(context) -> Platform`."""

    name: str
    settings: Settings
    engine: Engine
    clock: Clock


@dataclass(frozen=True)
class UploadResult:
    platform_item_id: str
    calls: int  # API calls made, images included: they count against the budgets
    images_added: int = 0
    offer_id: str | None = None  # a second id the platform gives the listing (eBay's offer)


@dataclass(frozen=True)
class ExistingItem:
    platform_item_id: str
    images: int  # how many images the platform already has for it
    calls: int = 1  # API calls the lookup made (pages), for the budgets
    offer_id: str | None = None


@dataclass(frozen=True)
class DeleteResult:
    calls: int  # API calls made, for the budgets
    already_gone: bool = False  # the platform no longer had the item: done all the same


@runtime_checkable
class Platform(Protocol):
    """A marketplace adapter. Errors are raised as `platforms.errors` classes."""

    name: str

    def upload(
        self,
        product: Product,
        account: Account,
        *,
        platform_item_id: str | None = None,
        images_done: int = 0,
        pace: Callable[[], None] | None = None,
    ) -> UploadResult:
        """Create the item (unless `platform_item_id` says it exists) and add the images
        from index `images_done` on. `pace`, when given, is called immediately before each
        creation request is sent, after any token or database work: the worker's spacing
        is then measured between the requests themselves."""
        ...

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        """The item this account already has for `asin`, if any. Used only in crash
        recovery, never on the normal path. `since` bounds how far back to look."""
        ...

    def prepare(self, account: Account) -> None:
        """Do any slow preliminary (a due token refresh) now, before the worker stamps
        the item's start, so it does not sit between the pacing decision and the call."""
        ...

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        """How many API calls `upload` will make, so pacing can reserve them first."""
        ...

    def delete(self, platform_item_id: str, account: Account, *, asin: str = "") -> DeleteResult:
        """Remove the item from the shop (one call). An item the platform no longer has
        is not an error: `already_gone` says so. `asin` is the listing's product: a
        platform that keys items by SKU (eBay) deletes by it."""
        ...

    def exists(self, platform_item_id: str, account: Account, *, asin: str = "") -> bool:
        """Whether the shop still has the item (one call): asked before a delete whose
        answer was lost is tried again. `asin` as for `delete`."""
        ...

    def close(self) -> None: ...
