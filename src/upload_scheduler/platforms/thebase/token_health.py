"""What `token status` says about an account (the seed's check_token_status.py): valid
until, refresh token age, and whether a login is needed now or soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from upload_scheduler.platforms.thebase.token_store import TokenRecord

OK, WARNING, LOGIN_REQUIRED = "ok", "warning", "login_required"
REFRESH_TOKEN_LIFETIME = timedelta(days=30)  # BASE: "about 30 days"
REFRESH_TOKEN_WARNING = timedelta(days=25)


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


def assess(record: TokenRecord | None, now: datetime) -> TokenHealth:
    """The seed's check_token_status.py: valid until, refresh token age, and whether the
    account needs a login (now, or soon: BASE's refresh tokens last about 30 days)."""
    if record is None:
        return TokenHealth(LOGIN_REQUIRED, "no tokens stored", False, None, None)
    access_valid = record.expires_at > now
    age = (
        None if record.refresh_token_obtained_at is None else now - record.refresh_token_obtained_at
    )
    expires = (
        None
        if record.refresh_token_obtained_at is None
        else record.refresh_token_obtained_at + REFRESH_TOKEN_LIFETIME
    )

    def health(status: str, message: str) -> TokenHealth:
        return TokenHealth(status, message, access_valid, age, expires)

    if record.login_required:
        return health(LOGIN_REQUIRED, record.login_required)
    if not record.refresh_token:
        if access_valid:
            return health(WARNING, "no refresh token: a login is needed when the access token ends")
        return health(LOGIN_REQUIRED, "the access token has expired and there is no refresh token")
    if age is not None and age >= REFRESH_TOKEN_LIFETIME:
        return health(LOGIN_REQUIRED, f"the refresh token is {age.days} days old (BASE: ~30 days)")
    if age is not None and age >= REFRESH_TOKEN_WARNING:
        left = REFRESH_TOKEN_LIFETIME - age
        return health(WARNING, f"the refresh token ends in about {left.days} day(s): log in soon")
    if not access_valid:
        return health(OK, "access token expired; it is refreshed on next use")
    return health(OK, "")
