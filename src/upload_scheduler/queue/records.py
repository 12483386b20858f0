"""Plain records read from the queue, frozen so callers cannot mistake them for live rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping


@dataclass(frozen=True)
class QueueItem:
    id: int
    listing_id: int
    asin: str
    platform: str
    account_id: str
    kind: str
    status: str
    priority: int
    scheduled_time: datetime
    attempts: int
    error_message: str | None
    platform_item_id: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    processed_at: datetime | None
    call_started_at: datetime | None = None
    images_done: int = 0

    @classmethod
    def from_row(cls, row: RowMapping) -> QueueItem:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def to_json(self) -> dict[str, Any]:
        """The `check-queue --json` item shape: a contract with users' scripts."""
        return {
            "id": self.id,
            "asin": self.asin,
            "platform": self.platform,
            "account_id": self.account_id,
            "status": self.status,
            "priority": self.priority,
            "scheduled_time": self.scheduled_time.isoformat(),
            "attempts": self.attempts,
            "error_message": self.error_message,
        }


@dataclass(frozen=True)
class DayPlan:
    """One line of the add-to-queue summary: an account's new items on one day."""

    account_id: str
    day: date
    count: int
    first: datetime
    last: datetime
    interval_seconds: float


@dataclass
class EnqueueResult:
    queued: int
    queue_ids: list[int]
    days: list[DayPlan]
    moved: int
    unplaced: list[tuple[str, str]]  # (asin, reason)
    skipped: list[tuple[str, str]]  # (asin, reason): not eligible at all
    dry_run: bool = False
