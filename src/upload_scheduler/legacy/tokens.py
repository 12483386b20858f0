"""The old token files (`platforms/base/accounts/tokens/<account>_token.json`) into our
token store. Their times are local ISO strings; ours are UTC. Tokens already in our
store are never replaced: a refresh since the first import may have rotated them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Engine

from upload_scheduler.legacy.old_files import TokenFile
from upload_scheduler.legacy.report import ROWS, Skip
from upload_scheduler.legacy.values import BadTime, integer, local_time, optional_text, text
from upload_scheduler.platforms.thebase.token_store import TokenStore

PLATFORM = "base"


@dataclass(frozen=True)
class PlannedToken:
    account_id: str
    file_name: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_at: datetime
    obtained_at: datetime


@dataclass
class TokenPlan:
    tokens: list[PlannedToken] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_tokens(files: Iterable[TokenFile], zone: tzinfo, now: datetime) -> TokenPlan:
    plan = TokenPlan()
    expired = []
    for token_file in files:
        try:
            planned = _planned(token_file, zone)
        except ValueError as exc:
            plan.skipped.append(
                Skip(
                    "oauth_tokens",
                    token_file.path.name,
                    ROWS,
                    token_file.account_id,
                    "unusable token file",
                    str(exc),
                )
            )
            continue
        plan.tokens.append(planned)
        if planned.expires_at <= now:
            expired.append(planned.account_id)
    if expired:
        plan.notes.append(
            f"{len(expired)} access token(s) have expired ({', '.join(expired)}): they are "
            "refreshed on first use while the refresh token is valid, else `upload-scheduler "
            "token login` is needed"
        )
    return plan


def store_tokens(
    engine: Engine | None, tokens: Iterable[PlannedToken], *, now: datetime, dry_run: bool
) -> dict[str, bool]:
    """account id -> True when added, False when the account already had tokens here.
    `engine` None: there is no database yet (a dry run), so every token would be new."""
    store = TokenStore(engine, PLATFORM) if engine is not None else None
    outcome: dict[str, bool] = {}
    for token in tokens:
        if store is None:
            outcome[token.account_id] = True
        elif dry_run:
            outcome[token.account_id] = store.get(token.account_id) is None
        else:
            outcome[token.account_id] = store.import_token(
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
    try:
        expires_at = local_time(data.get("expires_at"), zone)
        obtained_at = local_time(data.get("obtained_at"), zone)
    except BadTime:
        raise ValueError("bad time in expires_at or obtained_at") from None
    lifetime = integer(data.get("expires_in"))
    span = timedelta(seconds=lifetime) if lifetime and lifetime > 0 else None
    if expires_at is None and obtained_at is not None and span is not None:
        expires_at = obtained_at + span
    if expires_at is None:
        raise ValueError("no expires_at (nor obtained_at and expires_in)")
    if obtained_at is None:
        obtained_at = expires_at - span if span is not None else expires_at
    token_type = (text(data.get("token_type")) or "bearer").lower()[:32]
    return PlannedToken(
        account_id=token_file.account_id,
        file_name=token_file.path.name,
        access_token=access,
        refresh_token=optional_text(data.get("refresh_token")),
        token_type=token_type,
        expires_at=expires_at,
        obtained_at=min(obtained_at, expires_at),
    )
