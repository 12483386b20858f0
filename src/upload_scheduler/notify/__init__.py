"""Notifications: Chatwork and Slack-compatible webhooks, coalesced per account.

    notifier = Notifier.from_settings(settings)
    notifier.notify(NotifyKind.ITEM_FAILED, "base/base_account_1", "B00X: validation_error")
    notifier.close(timeout=5)

`notify()` never raises and never waits for the network.
"""

from __future__ import annotations

from upload_scheduler.notify.coalesce import Batch, Coalescer, RoomLimiter, render_batch
from upload_scheduler.notify.events import NotifyEvent, NotifyKind
from upload_scheduler.notify.notifier import Notifier, NotifierStats
from upload_scheduler.notify.senders import (
    ChatworkSender,
    NotifySendError,
    Sender,
    WebhookSender,
)

__all__ = [
    "Batch",
    "ChatworkSender",
    "Coalescer",
    "Notifier",
    "NotifierStats",
    "NotifyEvent",
    "NotifyKind",
    "NotifySendError",
    "RoomLimiter",
    "Sender",
    "WebhookSender",
    "render_batch",
]
