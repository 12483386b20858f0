"""A store's items as Yahoo! keeps them: the editing side (what editItem, setStock and
uploadItemImage change) and the published side, which only submitItem or
reservePublish update, after the publish delay, with a snapshot taken when asked.

Images belong to the store and are linked to an item by file name (`CODE.jpg` the
main one, `CODE_N.jpg` the others), so they may arrive before the item. A change (an
edit, an image, a deletion) is pending until a snapshot taken after it is published.
setStock takes effect at once (PLATFORMS.md): it is no pending change. Callers hold
the state's lock and call `settle(now)` first, which publishes what is due.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from upload_scheduler.platforms.yahoo.sandbox.answers import not_found

IMAGE_NAME = re.compile(r"([A-Za-z0-9-]{1,99})(?:_([1-9]|1[0-9]|20))?\.jpg")


@dataclass(frozen=True)
class ImageFile:
    name: str
    size: int
    format: str  # JPEG, GIF or PNG, from the bytes
    uploaded_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """What a publish puts in the store: the item as it was when publishing was asked."""

    fields: dict[str, str]
    images: dict[str, ImageFile]
    stock: int | None
    revision: int
    deleted: bool
    taken_at: datetime
    publish_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "images": _images_json(self.images),
            "stock_at_submit": self.stock,
            "deleted": self.deleted,
            "taken_at": self.taken_at.isoformat(),
            "published_at": self.publish_at.isoformat(),
        }


@dataclass
class Item:
    code: str
    fields: dict[str, str]
    reset_fields: tuple[str, ...] = ()
    stock: int | None = None
    revision: int = 1
    deleted: bool = False
    edits: int = 1
    published: Snapshot | None = None
    ever_published: bool = False

    def pending(self) -> bool:
        """A change the store's shoppers do not see yet (submitted or not)."""
        if self.published is None:
            return not self.deleted
        return self.published.revision != self.revision


@dataclass
class Store:
    seller_id: str
    items: dict[str, Item] = field(default_factory=dict)
    images: dict[str, ImageFile] = field(default_factory=dict)  # by file name
    queue: list[Snapshot] = field(default_factory=list)  # asked, not yet published
    uploads: deque[datetime] = field(default_factory=deque)  # the last hour's images

    def settle(self, now: datetime) -> None:
        """Publish every snapshot that is due, in the order they were asked."""
        due = [s for s in self.queue if s.publish_at <= now]
        self.queue = [s for s in self.queue if s.publish_at > now]
        for snapshot in due:
            self._apply(snapshot)

    def _apply(self, snapshot: Snapshot) -> None:
        item = self.items.get(snapshot.fields["item_code"])
        if item is None:
            return
        if snapshot.deleted:
            item.published = None
            if item.deleted and item.revision == snapshot.revision:
                del self.items[item.code]
            return
        item.published = snapshot
        item.ever_published = True

    def edit(self, fields: dict[str, str], reset_fields: tuple[str, ...]) -> Item:
        """editItem: create the item, or replace every field of the existing one."""
        code = fields["item_code"]
        item = self.items.get(code)
        if item is None:
            item = self.items[code] = Item(code, fields, reset_fields)
            return item
        item.fields, item.reset_fields = fields, reset_fields
        item.deleted = False
        item.revision += 1
        item.edits += 1
        return item

    def live(self, code: str) -> Item:
        """The item on the editing side; 400 it-00999 when absent or deleted."""
        item = self.items.get(code)
        if item is None or item.deleted:
            raise not_found(code)
        return item

    def delete(self, code: str) -> None:
        """deleteItem: gone from the editing side now; from the store at the next publish
        (at once if it was never published)."""
        item = self.live(code)
        if item.published is None and not any(s.fields["item_code"] == code for s in self.queue):
            del self.items[code]
            return
        item.deleted = True
        item.revision += 1

    def add_image(self, image: ImageFile, code: str) -> None:
        """Store the file (replacing one of the same name); the item's change."""
        self.images[image.name] = image
        item = self.items.get(code)
        if item is not None and not item.deleted:
            item.revision += 1

    def images_of(self, code: str) -> dict[str, ImageFile]:
        return {
            name: image
            for name, image in sorted(self.images.items())
            if (match := IMAGE_NAME.fullmatch(name)) and match.group(1) == code
        }

    def submit(self, code: str, now: datetime, delay: float) -> Snapshot:
        """submitItem: snapshot one item now, published `delay` seconds later."""
        return self._snapshot(self.live(code), now, delay)

    def reserve_all(self, now: datetime, delay: float) -> list[Snapshot]:
        """reservePublish mode=1: snapshot every item with a pending change."""
        return [
            self._snapshot(item, now, delay) for item in list(self.items.values()) if item.pending()
        ]

    def _snapshot(self, item: Item, now: datetime, delay: float) -> Snapshot:
        snapshot = Snapshot(
            fields=dict(item.fields),
            images=self.images_of(item.code),
            stock=item.stock,
            revision=item.revision,
            deleted=item.deleted,
            taken_at=now,
            publish_at=now + timedelta(seconds=delay),
        )
        self.queue.append(snapshot)
        return snapshot

    def count_upload(self, now: datetime, limit: int) -> bool:
        """One more image this hour, or False when the store's hour is full."""
        while self.uploads and self.uploads[0] <= now - timedelta(hours=1):
            self.uploads.popleft()
        if len(self.uploads) >= limit:
            return False
        self.uploads.append(now)
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "items": {code: self._item_json(item) for code, item in sorted(self.items.items())},
            "images": _images_json(self.images),
            "publishes_waiting": len(self.queue),
        }

    def _item_json(self, item: Item) -> dict[str, Any]:
        waiting = [s for s in self.queue if s.fields["item_code"] == item.code]
        return {
            "fields": dict(item.fields),
            "reset_fields": list(item.reset_fields),
            "images": _images_json(self.images_of(item.code)),
            "stock": item.stock,
            "deleted": item.deleted,
            "edits": item.edits,
            "pending": item.pending(),
            "publish_due": waiting[-1].publish_at.isoformat() if waiting else None,
            "ever_published": item.ever_published,
            "published": item.published.to_json() if item.published else None,
        }


def _images_json(images: dict[str, ImageFile]) -> list[dict[str, Any]]:
    return [{"name": i.name, "size": i.size, "format": i.format} for _, i in sorted(images.items())]
