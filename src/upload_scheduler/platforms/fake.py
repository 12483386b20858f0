"""A stand-in marketplace that keeps its items in a local SQLite file.

For rehearsals, tests and benchmarks where the point is our side (pacing, crash
recovery, at-most-once), not a platform's wire protocol; the BASE sandbox covers that.
Configure it with `[platforms.fake] api_base_url = "fake:///path/to/items.db"`, and
optionally `?latency=0.03&fail=transient:0.1,lost:0.05&seed=1`:

- `latency`: seconds each call takes;
- `fail`: probabilities per call kind: `transient` (nothing created), `lost` (the item
  is created, the response is lost), `permanent`, `image` (an image call fails);
- `seed`: makes the failures repeatable.

Every call is recorded in the file (table `calls`), so a test can check spacing and
that no identifier was created twice for one account.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from upload_scheduler.platforms.errors import PartialUpload, Permanent, Transient
from upload_scheduler.platforms.interface import (
    Account,
    DeleteResult,
    ExistingItem,
    PlatformContext,
    Product,
    UploadResult,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, identifier TEXT NOT NULL,
    title TEXT NOT NULL, images INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, account_id TEXT NOT NULL, kind TEXT NOT NULL,
    identifier TEXT, outcome TEXT NOT NULL
);
"""


@dataclass
class FakeOptions:
    path: Path
    latency: float = 0.0
    fail: dict[str, float] = field(default_factory=dict)
    seed: int | None = None

    @classmethod
    def from_url(cls, url: str) -> FakeOptions:
        parts = urlsplit(url)
        if parts.scheme != "fake" or not parts.path:
            raise ValueError(f"the fake platform needs api_base_url = 'fake:PATH', got {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        fail: dict[str, float] = {}
        for pair in filter(None, query.get("fail", "").split(",")):
            kind, _, probability = pair.partition(":")
            fail[kind] = float(probability)
        seed = int(query["seed"]) if "seed" in query else None
        path = Path(unquote(parts.path))
        return cls(path, float(query.get("latency", 0.0)), fail, seed)


class FakeStore:
    """The fake platform's item file; every connection commits at once."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def record(
        self, account_id: str, kind: str, identifier: str | None, outcome: str, at: float
    ) -> None:
        """`at` is when the call arrived (before its latency), as a platform sees it."""
        with self._lock:
            self._db.execute(
                "INSERT INTO calls (at, account_id, kind, identifier, outcome) "
                "VALUES (?, ?, ?, ?, ?)",
                (at, account_id, kind, identifier, outcome),
            )

    def create(self, account_id: str, product: Product) -> str:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO items (account_id, identifier, title, created_at) VALUES (?, ?, ?, ?)",
                (account_id, product.asin, product.title, time.time()),
            )
        return str(cursor.lastrowid)

    def add_image(self, item_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE items SET images = images + 1 WHERE id = ?", (int(item_id),))

    def find(self, account_id: str, identifier: str) -> ExistingItem | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, images FROM items WHERE account_id = ? AND identifier = ? "
                "ORDER BY id DESC LIMIT 1",
                (account_id, identifier),
            ).fetchone()
        return ExistingItem(str(row[0]), int(row[1])) if row else None

    def remove(self, account_id: str, item_id: str) -> bool:
        """Delete the item; False when the account has no such item."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM items WHERE id = ? AND account_id = ?", (_int(item_id), account_id)
            )
        return cursor.rowcount > 0

    def has(self, account_id: str, item_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM items WHERE id = ? AND account_id = ?", (_int(item_id), account_id)
            ).fetchone()
        return row is not None

    def close(self) -> None:
        self._db.close()


class FakePlatform:
    name = "fake"

    def __init__(self, options: FakeOptions, name: str = "fake") -> None:
        self.name = name
        self.options = options
        self.store = FakeStore(options.path)
        self._random = random.Random(options.seed)

    def prepare(self, account: Account) -> None:
        """Nothing to prepare: the fake platform has no tokens."""

    def calls_for(self, product: Product, images_done: int = 0) -> int:
        return (1 if images_done == 0 else 0) + max(0, len(product.images) - images_done)

    def upload(
        self,
        product: Product,
        account: Account,
        *,
        platform_item_id: str | None = None,
        images_done: int = 0,
        pace: Callable[[], None] | None = None,
    ) -> UploadResult:
        calls = 0
        if platform_item_id is None:
            calls += 1
            if pace is not None:
                pace()
            platform_item_id = self._create(product, account)
        for index in range(images_done, len(product.images)):
            calls += 1
            try:
                self._add_image(platform_item_id, account, product)
            except Transient as exc:
                raise PartialUpload(
                    f"{index} of {len(product.images)} images added: {exc.message}",
                    platform_item_id=platform_item_id,
                    images_done=index,
                    images_total=len(product.images),
                    calls=calls,
                    cause=exc,
                ) from exc
        return UploadResult(platform_item_id, calls, len(product.images) - images_done)

    def find_existing(
        self, asin: str, account: Account, *, since: datetime | None = None
    ) -> ExistingItem | None:
        arrived = self._pause()
        found = self.store.find(account.account_id, asin)
        self.store.record(account.account_id, "find", asin, "found" if found else "none", arrived)
        return found

    def delete(self, platform_item_id: str, account: Account, *, asin: str = "") -> DeleteResult:
        """`fail` applies as to creations: `transient` deletes nothing, `lost` deletes
        the item and loses the answer."""
        arrived = self._pause()
        roll = self._random.random()
        fail = self.options.fail
        if roll < fail.get("transient", 0.0):
            self.store.record(account.account_id, "delete", platform_item_id, "transient", arrived)
            raise Transient("fake: server error (nothing deleted)")
        roll -= fail.get("transient", 0.0)
        removed = self.store.remove(account.account_id, platform_item_id)
        if roll < fail.get("lost", 0.0):
            self.store.record(account.account_id, "delete", platform_item_id, "lost", arrived)
            raise Transient("fake: response lost after the delete", maybe_created=True)
        outcome = "deleted" if removed else "gone"
        self.store.record(account.account_id, "delete", platform_item_id, outcome, arrived)
        return DeleteResult(1, already_gone=not removed)

    def exists(self, platform_item_id: str, account: Account, *, asin: str = "") -> bool:
        arrived = self._pause()
        found = self.store.has(account.account_id, platform_item_id)
        outcome = "found" if found else "none"
        self.store.record(account.account_id, "exists", platform_item_id, outcome, arrived)
        return found

    def close(self) -> None:
        self.store.close()

    def _create(self, product: Product, account: Account) -> str:
        arrived = self._pause()
        roll = self._random.random()
        fail = self.options.fail
        if roll < fail.get("transient", 0.0):
            self.store.record(account.account_id, "add", product.asin, "transient", arrived)
            raise Transient("fake: server error (nothing created)")
        roll -= fail.get("transient", 0.0)
        if roll < fail.get("permanent", 0.0):
            self.store.record(account.account_id, "add", product.asin, "permanent", arrived)
            raise Permanent("fake: validation_error")
        roll -= fail.get("permanent", 0.0)
        item_id = self.store.create(account.account_id, product)
        if roll < fail.get("lost", 0.0):
            self.store.record(account.account_id, "add", product.asin, "lost", arrived)
            raise Transient("fake: response lost after the item was created", maybe_created=True)
        self.store.record(account.account_id, "add", product.asin, "created", arrived)
        return item_id

    def _add_image(self, item_id: str, account: Account, product: Product) -> None:
        arrived = self._pause()
        if self._random.random() < self.options.fail.get("image", 0.0):
            self.store.record(account.account_id, "image", product.asin, "transient", arrived)
            raise Transient("fake: image upload failed")
        self.store.add_image(item_id)
        self.store.record(account.account_id, "image", product.asin, "ok", arrived)

    def _pause(self) -> float:
        """Simulate the platform's latency; returns when the call arrived."""
        arrived = time.time()
        if self.options.latency > 0:
            time.sleep(self.options.latency)
        return arrived


def _int(item_id: str) -> int:
    try:
        return int(item_id)
    except ValueError:
        return -1  # no item has this id


def create_platform(context: PlatformContext) -> FakePlatform:
    """A relative path (`fake:items.db`) is relative to the config file."""
    url = context.settings.platform_config(context.name).api_base_url
    options = FakeOptions.from_url(url)
    if not options.path.is_absolute():
        options.path = context.settings.base_dir / options.path
    return FakePlatform(options, context.name)


def created_items(path: Path) -> list[tuple[str, str]]:
    """(account_id, identifier) of every item the fake platform holds, for checks."""
    db = sqlite3.connect(path)
    try:
        return [(a, i) for a, i in db.execute("SELECT account_id, identifier FROM items")]
    finally:
        db.close()


def call_times(path: Path, account_id: str, kind: str = "add") -> list[float]:
    """Arrival times (epoch seconds) of an account's calls of one kind, in order."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute(
            "SELECT at FROM calls WHERE account_id = ? AND kind = ? ORDER BY at",
            (account_id, kind),
        )
        return [at for (at,) in rows]
    finally:
        db.close()
