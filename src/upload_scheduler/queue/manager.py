"""`UploadQueueManager`: the seed's queue API, on a database that keeps queue and
listings consistent in one transaction.

Every state change of a queue row and its listing happens in the same transaction, so
no crash can leave a listing that allows a second upload (the old system's "clearing
the queue" incident).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select, update

from upload_scheduler import defaults
from upload_scheduler.clock import Clock, SystemClock
from upload_scheduler.config import Settings, load_settings
from upload_scheduler.planning import AccountWindow, Mode, PlanRequest
from upload_scheduler.queue import enqueue
from upload_scheduler.queue.order import due_order
from upload_scheduler.queue.records import EnqueueResult, QueueItem
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.tables import (
    QUEUE_STATUSES,
    listings,
    upload_queue,
)
from upload_scheduler.store.usage import add_usage

STATISTIC_KEYS = (*QUEUE_STATUSES, "total")

# Which queue statuses a row may move to from each status; final ones move nowhere.
_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"pending", "uploading", "success", "failed", "cancelled"}),
    "uploading": frozenset({"pending", "uploading", "success", "failed"}),
    "failed": frozenset({"pending"}),
    "success": frozenset(),
    "cancelled": frozenset(),
}
# What the listing becomes when its queue row reaches a status.
_LISTING_STATUS = {
    "pending": "queued",
    "uploading": "queued",
    "success": "listed",
    "failed": "failed",
    "cancelled": "pending",
}


class QueueError(ValueError):
    """A request the queue refuses, with a message for the operator."""


class UploadQueueManager:
    """The upload queue. `UploadQueueManager()` loads the config the way the CLI does."""

    def __init__(
        self,
        config: Settings | str | os.PathLike[str] | None = None,
        *,
        engine: Engine | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = config if isinstance(config, Settings) else load_settings(config)
        if engine is None:
            from upload_scheduler.store.database import open_database

            engine = open_database(self.settings.database_url)
        self.engine = engine
        self.clock = clock or SystemClock()

    # ------------------------------------------------------------------ enqueue

    def add_to_queue(
        self,
        asin: str,
        platform: str,
        account_id: str | None = None,
        priority: int = defaults.PRIORITY_NORMAL,
        scheduled_time: datetime | None = None,
    ) -> int | None:
        """Queue one product; returns the queue id, or None when it cannot be queued.

        `scheduled_time=None` schedules it now (within the account's daily quota, else on
        the next day with room). A naive `scheduled_time`, as in the seed's
        `datetime.now()` example, is read in the configured time zone.
        """
        if scheduled_time is not None and scheduled_time.tzinfo is None:
            scheduled_time = scheduled_time.replace(tzinfo=self.settings.zone)
        result = self.enqueue(
            platform,
            asins=[asin],
            account_id=account_id,
            priority=priority,
            mode=Mode.NOW,
            at=scheduled_time,
        )
        return result.queue_ids[0] if result.queue_ids else None

    def add_batch_to_queue(
        self,
        asins: Sequence[str],
        platform: str,
        priority: int = defaults.PRIORITY_NORMAL,
        distribute_time: bool = True,
        account_id: str | None = None,
    ) -> EnqueueResult:
        """Queue many products; with `distribute_time` they are spread over tomorrow's
        business hours (and later days when tomorrow is full), else scheduled now."""
        return self.enqueue(
            platform,
            asins=list(asins),
            account_id=account_id,
            priority=priority,
            mode=Mode.DISTRIBUTE if distribute_time else Mode.NOW,
        )

    def enqueue(
        self,
        platform: str,
        *,
        asins: Sequence[str] | None = None,
        limit: int | None = None,
        account_id: str | None = None,
        priority: int = defaults.PRIORITY_NORMAL,
        mode: Mode = Mode.DISTRIBUTE,
        start_date: date | None = None,
        within: timedelta | None = None,
        max_days: int = defaults.MAX_DAYS,
        at: datetime | None = None,
        dry_run: bool = False,
    ) -> EnqueueResult:
        """The work of `add-to-queue`: take pending listings (the given asins, or the
        oldest `limit`), plan them and queue them, all in one transaction."""
        if not defaults.PRIORITY_MIN <= priority <= defaults.PRIORITY_MAX:
            raise QueueError(
                f"priority must be between {defaults.PRIORITY_MIN} and "
                f"{defaults.PRIORITY_MAX}, got {priority}"
            )
        if max_days < 1:
            raise QueueError(f"max-days must be at least 1, got {max_days}")
        windows = self._windows(platform, account_id)
        # An explicit time plans on that time's own day, so its quota is the one checked.
        now = self.clock.now()
        request = PlanRequest(
            mode, at or now, start_date=start_date, within=within, max_days=max_days
        )
        with write_transaction(self.engine) as conn:
            result = enqueue.enqueue_listings(
                conn,
                platform=platform,
                windows=windows,
                request=request,
                asins=asins,
                limit=limit,
                priority=priority,
                dry_run=dry_run,
                now=now,
            )
            if dry_run:
                conn.rollback()
        return result

    def windows(self, platform: str, account_id: str | None = None) -> list[AccountWindow]:
        """The accounts `enqueue` plans for, as the planner sees them (the CLI says when
        a --within span starts from these)."""
        return self._windows(platform, account_id)

    def _windows(self, platform: str, account_id: str | None) -> list[AccountWindow]:
        ids = self.settings.account_ids(platform)
        if not ids:
            raise QueueError(
                f"no account is configured for platform {platform!r}; "
                f"add one under [accounts] in {self.settings.source}"
            )
        if account_id is not None and account_id not in ids:
            raise QueueError(
                f"account {account_id!r} is not configured for platform {platform!r} "
                f"(configured: {', '.join(ids)})"
            )
        chosen = [account_id] if account_id else ids
        return [_window(self.settings, platform, a) for a in chosen]

    # ------------------------------------------------------------------ reading

    def get_queue_statistics(
        self, platform: str | None = defaults.DEFAULT_PLATFORM, account_id: str | None = None
    ) -> dict[str, int]:
        """Counts per status plus `total`, for one platform (or all with None)."""
        query = select(upload_queue.c.status, func.count()).group_by(upload_queue.c.status)
        query = _filter(query, platform, account_id)
        with self.engine.connect() as conn:
            counts = dict(conn.execute(query).all())
        stats = {status: int(counts.get(status, 0)) for status in QUEUE_STATUSES}
        stats["total"] = sum(stats.values())
        return stats

    def get_account_statistics(
        self, platform: str | None = defaults.DEFAULT_PLATFORM
    ) -> dict[str, dict[str, int]]:
        """Counts per status for each account of the platform."""
        query = select(upload_queue.c.account_id, upload_queue.c.status, func.count()).group_by(
            upload_queue.c.account_id, upload_queue.c.status
        )
        query = _filter(query, platform, None)
        per_account: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for account, status, count in conn.execute(query):
                row = per_account.setdefault(account, dict.fromkeys(STATISTIC_KEYS, 0))
                row[status] = int(count)
                row["total"] += int(count)
        return per_account

    def get_scheduled_items_due(
        self,
        limit: int = defaults.CHECK_LIMIT,
        platform: str | None = defaults.DEFAULT_PLATFORM,
        account_id: str | None = None,
    ) -> list[QueueItem]:
        """Pending items whose time has come, most urgent first: priority (highest
        first), then scheduled_time, so an urgent item overtakes an overdue backlog."""
        return self.list_items(
            platform=platform, account_id=account_id, status="pending", due=True, limit=limit
        )

    def list_items(
        self,
        *,
        platform: str | None = defaults.DEFAULT_PLATFORM,
        account_id: str | None = None,
        status: str | None = None,
        due: bool = False,
        limit: int = defaults.CHECK_LIMIT,
    ) -> list[QueueItem]:
        """Items for display: due ones in claim order, others newest first."""
        if status is not None and status not in QUEUE_STATUSES:
            raise QueueError(f"unknown status {status!r} (use one of: {', '.join(QUEUE_STATUSES)})")
        query = _filter(select(upload_queue), platform, account_id)
        if status is not None:
            query = query.where(upload_queue.c.status == status)
        if due:
            query = query.where(upload_queue.c.scheduled_time <= self.clock.now())
            query = query.order_by(*due_order(upload_queue.c))
        else:
            query = query.order_by(upload_queue.c.id.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [QueueItem.from_row(r) for r in rows]

    def get_item(self, queue_id: int) -> QueueItem | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(upload_queue).where(upload_queue.c.id == queue_id))
                .mappings()
                .first()
            )
        return QueueItem.from_row(row) if row else None

    # ------------------------------------------------------------------ changing

    def update_queue_status(
        self, queue_id: int, status: str, result_data: dict[str, Any] | None = None
    ) -> bool:
        """Move a queue row to `status`, and its listing with it, in one transaction.

        `result_data` may carry `platform_item_id` (on success) and `error_message`.
        Returns False when the row does not exist or cannot move to `status` (a
        success is final: it is never turned into a second upload).
        """
        if status not in QUEUE_STATUSES:
            raise QueueError(f"unknown status {status!r} (use one of: {', '.join(QUEUE_STATUSES)})")
        data = result_data or {}
        now = self.clock.now()
        with write_transaction(self.engine) as conn:
            row = (
                conn.execute(
                    select(
                        upload_queue.c.status,
                        upload_queue.c.listing_id,
                        upload_queue.c.platform,
                        upload_queue.c.account_id,
                        upload_queue.c.kind,
                    ).where(upload_queue.c.id == queue_id)
                )
                .mappings()
                .first()
            )
            if row is None or status not in _TRANSITIONS[row["status"]]:
                return False
            values: dict[str, Any] = {"status": status, "updated_at": now}
            if "platform_item_id" in data:
                values["platform_item_id"] = str(data["platform_item_id"])
            if "error_message" in data or "error" in data:
                values["error_message"] = str(data.get("error_message", data.get("error")))
            if status in ("success", "failed", "cancelled"):
                values["processed_at"] = now
                values["lease_owner"] = None
                values["lease_expires_at"] = None
            if status == "pending":
                values["lease_owner"] = None
                values["lease_expires_at"] = None
            conn.execute(update(upload_queue).where(upload_queue.c.id == queue_id).values(values))
            self._sync_listing(
                conn, row["listing_id"], status, values.get("platform_item_id"), now, row["kind"]
            )
            if status == "success" and row["kind"] == "upload":
                self._count_creation(conn, row["platform"], row["account_id"], now)
        return True

    def cancel(
        self,
        queue_ids: Iterable[int] | None = None,
        *,
        platform: str | None = None,
        account_id: str | None = None,
        asins: Iterable[str] | None = None,
    ) -> int:
        """Cancel pending items (a user's action); their listings return to pending so
        they can be queued again later. Items being uploaded are left to finish."""
        return self._bulk_change(
            "pending", "cancelled", queue_ids, platform=platform, account_id=account_id, asins=asins
        )

    def requeue_failed(
        self,
        queue_ids: Iterable[int] | None = None,
        *,
        platform: str | None = None,
        account_id: str | None = None,
        asins: Iterable[str] | None = None,
    ) -> int:
        """Put failed items back to pending, due now, with their attempts reset."""
        return self._bulk_change(
            "failed", "pending", queue_ids, platform=platform, account_id=account_id, asins=asins
        )

    def _bulk_change(
        self,
        from_status: str,
        to_status: str,
        queue_ids: Iterable[int] | None,
        *,
        platform: str | None,
        account_id: str | None,
        asins: Iterable[str] | None,
    ) -> int:
        now = self.clock.now()
        conditions = [upload_queue.c.status == from_status]
        if queue_ids is not None:
            conditions.append(upload_queue.c.id.in_(list(queue_ids)))
        if asins is not None:
            conditions.append(upload_queue.c.asin.in_(list(asins)))
        if platform is not None:
            conditions.append(upload_queue.c.platform == platform)
        if account_id is not None:
            conditions.append(upload_queue.c.account_id == account_id)
        values: dict[str, Any] = {"status": to_status, "updated_at": now}
        if to_status == "pending":
            values.update(attempts=0, scheduled_time=now, processed_at=None)
        else:
            values["processed_at"] = now
        with write_transaction(self.engine) as conn:
            rows = conn.execute(
                update(upload_queue)
                .where(and_(*conditions))
                .values(values)
                .returning(upload_queue.c.listing_id, upload_queue.c.kind)
            ).all()
            for listing_id, kind in rows:
                self._sync_listing(conn, listing_id, to_status, None, now, kind)
        return len(rows)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _sync_listing(
        conn: Connection,
        listing_id: int,
        queue_status: str,
        platform_item_id: str | None,
        now: datetime,
        kind: str = "upload",
    ) -> None:
        if kind == "delete":
            # The listing shows what the shop has: it changes only once the item is gone.
            if queue_status == "success":
                conn.execute(
                    update(listings)
                    .where(listings.c.id == listing_id)
                    .values(status="delisted", updated_at=now)
                )
            return
        values: dict[str, Any] = {"status": _LISTING_STATUS[queue_status], "updated_at": now}
        if queue_status == "success":
            values["listed_at"] = now
            if platform_item_id is not None:
                values["platform_item_id"] = platform_item_id
        conn.execute(update(listings).where(listings.c.id == listing_id).values(values))

    def _count_creation(
        self, conn: Connection, platform: str, account_id: str, now: datetime
    ) -> None:
        zone = self.settings.zone
        if account_id in self.settings.account_ids(platform):
            zone = self.settings.account(platform, account_id).zone
        day = now.astimezone(zone).date().isoformat()
        add_usage(conn, platform, account_id, day, creations=1)


def _window(settings: Settings, platform: str, account_id: str) -> AccountWindow:
    account = settings.account(platform, account_id)
    return AccountWindow(
        account_id=account_id,
        timezone=account.timezone,
        business_hours_start=account.business_hours_start,
        business_hours_end=account.business_hours_end,
        daily_limit=account.daily_limit,
        min_interval_seconds=account.min_interval_seconds,
    )


def _filter(query: Any, platform: str | None, account_id: str | None) -> Any:
    if platform is not None:
        query = query.where(upload_queue.c.platform == platform)
    if account_id is not None:
        query = query.where(upload_queue.c.account_id == account_id)
    return query
