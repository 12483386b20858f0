"""The notifier as the worker sees it: anything with `notify`, or nothing at all."""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def notify(self, kind: str, account_key: str, message: str) -> object: ...


class NullNotifier:
    def notify(self, kind: str, account_key: str, message: str) -> None:
        return None
