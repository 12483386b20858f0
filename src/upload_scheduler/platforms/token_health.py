"""What `token status` says about an account (the seed's check_token_status.py): valid
until, the refresh token's age and end, and whether a login is needed now or soon.

A refresh token's end is the one the platform gave (eBay: `refresh_token_expires_in`,
stored as `refresh_expires_at`), else its usual lifetime from when it was obtained (BASE:
about 30 days), else unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from upload_scheduler.platforms.token_store import TokenRecord

OK, WARNING, LOGIN_REQUIRED = "ok", "warning", "login_required"
# Platforms whose token answer does not say when the refresh token ends.
# BASE: "about 30 days"; Yahoo!: four weeks from the login, never extended by a refresh
# (its token answer does not say; `platforms.yahoo.oauth` stores the end at the login).
REFRESH_TOKEN_LIFETIMES = {"base": timedelta(days=30), "yahoo": timedelta(days=28)}
# How long before the refresh token's end `token status` asks for a login.
REFRESH_TOKEN_WARNINGS = {"base": timedelta(days=5), "yahoo": timedelta(days=3)}
DEFAULT_REFRESH_TOKEN_WARNING = timedelta(days=14)
_NAMES = {"base": "BASE", "ebay": "eBay", "yahoo": "Yahoo!"}


@dataclass(frozen=True)
class TokenHealth:
    """What `token status` says about one account."""

    status: str  # "ok", "warning" or "login_required"
    message: str
    access_valid: bool
    refresh_age: timedelta | None
    refresh_expires_at: datetime | None

    @property
    def login_required(self) -> bool:
        return self.status == LOGIN_REQUIRED


def refresh_end(record: TokenRecord) -> datetime | None:
    """When the refresh token ends: as the platform said, or by its usual lifetime."""
    if record.refresh_expires_at is not None:
        return record.refresh_expires_at
    lifetime = REFRESH_TOKEN_LIFETIMES.get(record.platform)
    if lifetime is None or record.refresh_token_obtained_at is None:
        return None
    return record.refresh_token_obtained_at + lifetime


def days_left(end: datetime | None, now: datetime) -> int | None:
    """Whole days until `end` (0 once it has passed); None when the end is unknown."""
    if end is None:
        return None
    return max(0, (end - now) // timedelta(days=1))


def assess(record: TokenRecord | None, now: datetime) -> TokenHealth:
    """Whether the account can work now, and whether it needs a login now or soon."""
    if record is None:
        return TokenHealth(LOGIN_REQUIRED, "no tokens stored", False, None, None)
    access_valid = record.expires_at > now
    obtained = record.refresh_token_obtained_at
    age = None if obtained is None else now - obtained
    end = refresh_end(record)

    def health(status: str, message: str) -> TokenHealth:
        return TokenHealth(status, message, access_valid, age, end)

    if record.login_required:
        return health(LOGIN_REQUIRED, record.login_required)
    if not record.refresh_token:
        if access_valid:
            return health(WARNING, "no refresh token: a login is needed when the access token ends")
        return health(LOGIN_REQUIRED, "the access token has expired and there is no refresh token")
    if end is not None and now >= end:
        lifetime = REFRESH_TOKEN_LIFETIMES.get(record.platform)
        if record.refresh_expires_at is None and age is not None and lifetime is not None:
            name = _NAMES.get(record.platform, record.platform)
            return health(
                LOGIN_REQUIRED,
                f"the refresh token is {age.days} days old ({name}: ~{lifetime.days} days)",
            )
        return health(LOGIN_REQUIRED, f"the refresh token ended on {end.date().isoformat()}")
    warning = REFRESH_TOKEN_WARNINGS.get(record.platform, DEFAULT_REFRESH_TOKEN_WARNING)
    if end is not None and end - now <= warning:
        left = end - now
        return health(WARNING, f"the refresh token ends in about {left.days} day(s): log in soon")
    if not access_valid:
        return health(OK, "access token expired; it is refreshed on next use")
    return health(OK, "")
