"""The old token files (`platforms/<base|ebay>/accounts/tokens/<account>_token.json`)
into our token store. Their times are local ISO strings; ours are UTC. Tokens already in
our store are never replaced: a refresh since the first import may have rotated them.

BASE's files say when the access token was obtained (`obtained_at`) and ends
(`expires_at`); eBay's hold eBay's token answer and `token_saved_at`, so the access token
ends `expires_in` after that (unless `expires_at` says), and the refresh token
`refresh_token_expires_in` after it (eBay's refresh tokens last about 18 months, and
only a new login renews one, so its end is worth keeping).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine

from upload_scheduler.legacy.old_files import TokenFile
from upload_scheduler.legacy.report import ROWS, Skip
from upload_scheduler.legacy.values import BadTime, integer, local_time, optional_text, text
from upload_scheduler.platforms.token_store import TokenStore

PLATFORM = "base"
# When each file says the access token was obtained: BASE's `obtained_at`, eBay's
# `token_saved_at` (the time the old module wrote eBay's answer down).
_OBTAINED_KEYS = ("obtained_at", "token_saved_at")
_CENTURY_SECONDS = 100 * 366 * 86_400
_NAMES = {"ebay": "eBay"}  # as the notes spell a platform


@dataclass(frozen=True)
class PlannedToken:
    account_id: str
    file_name: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_at: datetime
    obtained_at: datetime
    platform: str = PLATFORM
    refresh_expires_at: datetime | None = None  # None: the platform's usual lifetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.account_id)


@dataclass
class TokenPlan:
    tokens: list[PlannedToken] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_tokens(files: Iterable[TokenFile], zone: tzinfo, now: datetime) -> TokenPlan:
    """The usable files' tokens; one file's problem skips that file only. The notes
    name expired tokens per platform (a BASE note keeps its old wording)."""
    plan = TokenPlan()
    expired: dict[str, list[str]] = {}
    refresh_ended: dict[str, list[str]] = {}
    for token_file in files:
        try:
            planned = _planned(token_file, zone)
        except ValueError as exc:
            plan.skipped.append(
                Skip(
                    "oauth_tokens",
                    token_file.path.name,
                    ROWS,
                    _what(token_file.platform, token_file.account_id),
                    "unusable token file",
                    str(exc),
                )
            )
            continue
        plan.tokens.append(planned)
        if planned.expires_at <= now:
            expired.setdefault(planned.platform, []).append(planned.account_id)
        if planned.refresh_expires_at is not None and planned.refresh_expires_at <= now:
            refresh_ended.setdefault(planned.platform, []).append(planned.account_id)
    for platform, ids in expired.items():
        which = "" if platform == PLATFORM else f"{_NAMES.get(platform, platform)} "
        login = "token login" if platform == PLATFORM else f"token login --platform {platform}"
        plan.notes.append(
            f"{len(ids)} {which}access token(s) have expired ({', '.join(ids)}): they are "
            "refreshed on first use while the refresh token is valid, else `upload-scheduler "
            f"{login}` is needed"
        )
    for platform, ids in refresh_ended.items():
        plan.notes.append(
            f"{len(ids)} {_NAMES.get(platform, platform)} refresh token(s) have expired "
            f"({', '.join(ids)}): "
            f"`upload-scheduler token login --platform {platform}` is needed for each"
        )
    return plan


def store_tokens(
    engine: Engine | None, tokens: Iterable[PlannedToken], *, now: datetime, dry_run: bool
) -> dict[tuple[str, str], bool]:
    """(platform, account id) -> True when added, False when the account already had
    tokens here. `engine` None: there is no database yet (a dry run), so every token
    would be new."""
    stores: dict[str, TokenStore] = {}
    outcome: dict[tuple[str, str], bool] = {}
    for token in tokens:
        if engine is None:
            outcome[token.key] = True
            continue
        store = stores.setdefault(token.platform, TokenStore(engine, token.platform))
        if dry_run:
            outcome[token.key] = store.get(token.account_id) is None
        else:
            outcome[token.key] = store.import_token(
                token.account_id,
                access_token=token.access_token,
                refresh_token=token.refresh_token,
                token_type=token.token_type,
                expires_at=token.expires_at,
                obtained_at=token.obtained_at,
                # The old files do not say when the refresh token was issued; the access
                # token's time is the latest it can be, so its age is not understated.
                refresh_token_obtained_at=token.obtained_at if token.refresh_token else None,
                now=now,
                refresh_expires_at=token.refresh_expires_at,
            )
    return outcome


def _planned(token_file: TokenFile, zone: tzinfo) -> PlannedToken:
    """Raises ValueError naming what is wrong, never quoting a token."""
    if token_file.data is None:
        raise ValueError(token_file.problem or "unreadable")
    if not token_file.account_id:
        raise ValueError("no account id in the file name")
    data: dict[str, Any] = token_file.data
    access = text(data.get("access_token"))
    if not access:
        raise ValueError("no access_token")
    refresh_token = optional_text(data.get("refresh_token"))
    try:
        expires_at, obtained_at, refresh_end = _times(data, zone, bool(refresh_token))
    except OverflowError:
        raise ValueError("a time beyond the calendar") from None
    token_type = (text(data.get("token_type")) or "bearer").lower()[:32]
    return PlannedToken(
        account_id=token_file.account_id,
        file_name=token_file.path.name,
        access_token=access,
        refresh_token=refresh_token,
        token_type=token_type,
        expires_at=expires_at,
        obtained_at=min(obtained_at, expires_at),
        platform=token_file.platform,
        refresh_expires_at=refresh_end,
    )


def _times(
    data: dict[str, Any], zone: tzinfo, has_refresh: bool
) -> tuple[datetime, datetime, datetime | None]:
    """The access token's end and start, and the refresh token's end (None: unknown)."""
    saved_key = next((k for k in _OBTAINED_KEYS if data.get(k) not in (None, "")), "obtained_at")
    try:
        expires_at = local_time(data.get("expires_at"), zone)
        obtained_at = local_time(data.get(saved_key), zone)
    except BadTime:
        raise ValueError(f"bad time in expires_at or {saved_key}") from None
    span = _seconds(data.get("expires_in"))
    if expires_at is None and obtained_at is not None and span is not None:
        expires_at = obtained_at + span
    if expires_at is None:
        raise ValueError(f"no expires_at (nor {saved_key} and expires_in)")
    if obtained_at is None:
        obtained_at = expires_at - span if span is not None else expires_at
    refresh_span = _seconds(data.get("refresh_token_expires_in"))
    refresh_end = obtained_at + refresh_span if has_refresh and refresh_span else None
    return expires_at, obtained_at, refresh_end


def _seconds(value: Any) -> timedelta | None:
    """A lifetime in seconds (`expires_in`), or None when absent or not positive.
    Raises ValueError past a century, which no token lives (and a date cannot hold)."""
    number = integer(value)
    if number is not None and number > _CENTURY_SECONDS:
        raise ValueError(f"a lifetime of {number} seconds")
    return timedelta(seconds=number) if number and number > 0 else None


def _what(platform: str, account_id: str) -> str:
    return account_id if platform == PLATFORM else f"{platform}/{account_id}"
