"""The notifier as the worker sees it: anything with `notify`, or nothing at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from upload_scheduler.config.settings import Settings


class Notifier(Protocol):
    def notify(self, kind: str, account_key: str, message: str) -> object: ...

    def close(self) -> object:
        """Send what is still queued (bounded), then stop."""
        ...


class NullNotifier:
    def notify(self, kind: str, account_key: str, message: str) -> None:
        return None

    def close(self) -> None:
        return None


def notifier_for(settings: Settings) -> Notifier:
    """The `[notify]` section's notifier. With nothing configured, the null one, and
    the notify package (its senders, queue and thread) is not even imported: a daemon's
    memory is counted per process."""
    conf = settings.file.notify
    if not (
        conf.chatwork_token or conf.chatwork_token_env or conf.chatwork_room_id or conf.webhook_url
    ):
        return NullNotifier()
    from upload_scheduler.notify import Notifier as ChatNotifier

    return ChatNotifier.from_settings(settings)
