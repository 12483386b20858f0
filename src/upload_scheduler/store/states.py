"""The values a row's state columns may hold, written once.

`str` enums: the database and JSON keep the plain values ("pending", "rate limit"), and
a member compares equal to its value, so rows read back as strings still match."""

from __future__ import annotations

from enum import StrEnum


class QueueStatus(StrEnum):
    PENDING = "pending"
    UPLOADING = "uploading"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ListingStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    LISTED = "listed"
    FAILED = "failed"
    DELISTED = "delisted"


class JobKind(StrEnum):
    UPLOAD = "upload"
    DELETE = "delete"


class PauseKind(StrEnum):
    """Who paused an account; stored as the head of `account_state.pause_reason`
    ("rate limit: BASE answered hour_api_limit …")."""

    OPERATOR = "operator"
    RATE_LIMIT = "rate limit"
    QUOTA = "quota"
    AUTH = "auth"
    CONFIG = "config"  # the platform's endpoint or the seller's set-up is wrong

    def reason(self, text: str) -> str:
        return f"{self.value}: {text}"

    @classmethod
    def of(cls, reason: str | None) -> PauseKind | None:
        """The kind a stored reason starts with; None for anything else."""
        head = (reason or "").split(":", 1)[0].strip()
        try:
            return cls(head)
        except ValueError:
            return None


AUTOMATIC_PAUSES = (PauseKind.RATE_LIMIT, PauseKind.QUOTA, PauseKind.AUTH, PauseKind.CONFIG)
