"""The one due order: the most urgent priority first, then the earliest scheduled time,
then the oldest row. The daemon claims in it, and `check-queue --show-due`, `manager
status` and the demo show the next item by it, so they name the item that runs next.

The seed's README says priority only breaks ties between equal times; its code orders
by priority first, and so do we (README, "Order")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from upload_scheduler.queue.records import QueueItem


def due_order(columns: Any) -> tuple[Any, ...]:
    """ORDER BY terms over a selectable's columns (`upload_queue.c`, or a subquery's)."""
    return (columns.priority.desc(), columns.scheduled_time, columns.id)


def due_key(item: QueueItem) -> tuple[int, datetime, int]:
    """The same order as a sort key of items already read."""
    return (-item.priority, item.scheduled_time, item.id)
