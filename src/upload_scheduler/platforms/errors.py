"""What can go wrong when talking to a platform, by what the worker must do about it
(DESIGN.md, "Errors from a platform"). Adapters translate their wire errors into these;
the worker never looks at a platform's own error codes."""

from __future__ import annotations

from datetime import datetime


class PlatformError(Exception):
    """Base class. `message` is safe to show and store: it never holds a secret."""

    # The API calls the failing method made, the refused one included, when the adapter
    # knows them (eBay: a refusal at publish follows two calls that went through); None:
    # one. They are counted against the budgets like those of a success.
    calls: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Transient(PlatformError):
    """Timeout, connection reset, 5xx: retried after `retry_delay_seconds`, up to
    `max_attempts`. `maybe_created` says the platform may have acted before the error
    (a lost response), so the item must be looked up before it is created again."""

    def __init__(self, message: str, *, maybe_created: bool = False) -> None:
        super().__init__(message)
        self.maybe_created = maybe_created


class AuthExpired(PlatformError):
    """The access token was refused: refresh once and retry; a failed refresh pauses
    the account."""


class RateLimited(PlatformError):
    """An hourly or daily call budget is spent: pause the account until `until`; no
    attempt is spent."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class Throttled(PlatformError):
    """The platform refused the call for its rate (eBay's 429, errorId 2001) and nothing
    was done. No attempt is spent: the item is tried again after `retry_after` seconds
    (None: retry_delay_seconds, doubling up to a minute). When the account's budget is the
    application's and our own count says that day budget is spent, the worker pauses
    every account on the application until the reset instead."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApplicationLimited(PlatformError):
    """The platform says the application's (client id's) day budget is spent (Yahoo!'s
    403 "Your Request was Forbidden"); nothing was done. The worker pauses every account on
    the application until the platform's day ends; no attempt is spent."""


class QuotaExhausted(PlatformError):
    """The daily creation limit is reached: the item stays pending until `until`."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class Permanent(PlatformError):
    """Invalid data or a rule of our own: fail at once, never retried."""


class PartialUpload(PlatformError):
    """The item was created but some images were not added: the item id is kept and
    only the missing images are retried; the item is never created again."""

    calls: int  # always known: the calls of the creation and the images added

    def __init__(
        self,
        message: str,
        *,
        platform_item_id: str,
        images_done: int,
        images_total: int,
        calls: int,
        cause: PlatformError,
    ) -> None:
        super().__init__(message)
        self.platform_item_id = platform_item_id
        self.images_done = images_done
        self.images_total = images_total
        self.calls = calls
        self.cause = cause


class Misconfigured(PlatformError):
    """Not the item's fault: the endpoint is wrong (a 404 or a redirect without the
    platform's own error body) or the seller's set-up is incomplete. The account pauses
    until someone resumes it, and no item fails."""
