"""When to refresh an access token, and doing it once across processes, for every
platform with OAuth tokens; a platform's own endpoints and forms are its `Grants`.

An access token is refreshed before it runs out (less than min(5 minutes, half its
lifetime) left) and at once when the platform refuses it. Several processes may want the
same account's token at the same moment: the refresh is claimed by compare-and-set on the
row's version, the others wait for the winner and use its token. BASE may invalidate a
refresh token once used, so a second refresh racing the first would log the shop out;
eBay allows only so many refreshes a day per application.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine

from upload_scheduler.clock import Clock
from upload_scheduler.config import AccountSettings, Settings
from upload_scheduler.platforms.errors import (
    AuthExpired,
    Misconfigured,
    Permanent,
    PlatformError,
    Transient,
)
from upload_scheduler.platforms.oauth import TokenGrant
from upload_scheduler.platforms.token_store import TokenRecord, TokenStore
from upload_scheduler.platforms.wire import ApiError, WireError, is_wrong_endpoint, wrong_endpoint

REFRESH_MARGIN = timedelta(minutes=5)
# How long a refresh claim holds: longer than one token request can take (connect 5 s +
# read 30 s), so a live claim is never taken over; a dead process's claim lapses.
REFRESH_CLAIM_SECONDS = 45.0
CLAIM_POLL_SECONDS = 0.05
# A token this close to its end is not handed out while a refresh is possible.
STILL_USABLE = timedelta(seconds=30)

# Token-endpoint codes that no retry can fix: only a new login helps.
REFUSED_GRANT = frozenset(
    {"invalid_request", "unauthorized_client", "access_denied", "invalid_grant"}
)

log = logging.getLogger(__name__)


class Grants(Protocol):
    """A platform's token endpoint. The calls raise `wire.ApiError` for an answer in
    OAuth's error envelope (or a wrong URL's) and `wire.WireError` for no answer."""

    def check(self, account: AccountSettings) -> str | None:
        """Why the account's URLs must not receive tokens, or None."""
        ...

    def exchange_code(self, account: AccountSettings, client_secret: str, code: str) -> TokenGrant:
        """grant_type=authorization_code."""
        ...

    def refresh(
        self, account: AccountSettings, client_secret: str, refresh_token: str
    ) -> TokenGrant:
        """grant_type=refresh_token."""
        ...


def refresh_due(record: TokenRecord, now: datetime) -> bool:
    """Less than min(5 minutes, half the token's lifetime) left."""
    margin = min(REFRESH_MARGIN, record.lifetime / 2)
    return record.remaining(now) < margin


def still_usable(record: TokenRecord) -> timedelta:
    """How much life a token needs left to be handed out instead of being refreshed."""
    return min(STILL_USABLE, record.lifetime / 4)


class TokenManager:
    """Access tokens for the accounts of one platform, refreshed as needed."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        grants: Grants,
        *,
        platform: str,
        login_hint: Callable[[str, str], str] | None = None,
    ) -> None:
        """`login_hint(account_id, reason)`: the platform's own words for "log in again"
        (Yahoo!'s four-week login); by default the reason and the command."""
        self.settings = settings
        self._hint = login_hint
        self.clock = clock
        self.grants = grants
        self.platform = platform
        self.store = TokenStore(engine, platform)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._local = threading.Lock()  # one refresh per process at a time; the DB guards the rest

    # ------------------------------------------------------------------ the adapter's calls

    def access_token(self, account_id: str) -> str:
        """A usable access token, refreshed first if it is about to run out."""
        record = self._record(account_id)
        now = self.clock.now()
        if not refresh_due(record, now):
            return record.access_token
        try:
            return self._refresh(account_id, rejected=None).access_token
        except Transient as exc:
            if record.remaining(now) > still_usable(record):
                log.warning("%s; using the current token, still valid for a while", exc.message)
                return record.access_token
            raise

    def after_rejection(self, account_id: str, rejected: str) -> str:
        """The platform refused `rejected`: a fresh token, from another process's refresh if one
        happened meanwhile, else from our own."""
        return self._refresh(account_id, rejected=rejected).access_token

    # ------------------------------------------------------------------ the CLI's calls

    def refresh(self, account_id: str) -> TokenRecord:
        """Refresh now (`token refresh`), unless another process just did."""
        record = self._record(account_id)
        return self._refresh(account_id, rejected=record.access_token)

    def login_with_code(self, account_id: str, code: str) -> TokenRecord:
        """Exchange an authorization code and store the tokens; a login also lifts an
        auth pause of the account."""
        account = self.account_settings(account_id)
        try:
            grant = self.grants.exchange_code(account, self.client_secret(account_id), code)
        except ApiError as err:
            if is_wrong_endpoint(err.status, err.platform_body):
                problem = wrong_endpoint(err.status, err.path).message
                raise Misconfigured(f"{self.platform} account {account_id}: {problem}") from None
            raise AuthExpired(
                f"{self.platform} account {account_id}: the code was refused "
                f"({err.code}: {err.description})"
            ) from None
        except WireError as err:
            raise Transient(f"{self.platform} account {account_id}: token request {err}") from None
        now = self.clock.now()
        record = self.store.save_login(account_id, grant, now)
        if self.store.clear_auth_pause(account_id, now):
            log.info("%s/%s: login lifted the account's auth pause", self.platform, account_id)
        log.info("%s/%s: logged in; tokens stored", self.platform, account_id)
        return record

    # ------------------------------------------------------------------ settings

    def check_configuration(self) -> None:
        """Raise ValueError naming what is missing for any configured account, so a
        worker stops at start-up with a clear message instead of failing items."""
        problems = []
        for account_id in self.settings.account_ids(self.platform):
            try:
                self.account_settings(account_id)
                self.client_secret(account_id)
            except Permanent as exc:
                problems.append(exc.message)
        if problems:
            raise ValueError("; ".join(dict.fromkeys(problems)))

    def account_settings(self, account_id: str) -> AccountSettings:
        try:
            account = self.settings.account(self.platform, account_id)
        except KeyError as exc:
            raise Permanent(str(exc.args[0])) from None
        problem = self.grants.check(account)
        if problem:
            raise Permanent(f"{self.platform} account {account_id}: {problem}")
        if not account.client_id:
            raise Permanent(
                f"{self.platform} account {account_id}: client_id is empty; set it in "
                f"[platforms.{self.platform}]"
            )
        return account

    def client_secret(self, account_id: str | None = None) -> str:
        """The account's own secret if [account_overrides] gives one, else the platform's."""
        secret = self.settings.client_secret(self.platform, account_id)
        if not secret:
            env_name, _ = self.settings.client_secret_source(self.platform, account_id)
            where = (
                f"the environment variable {env_name} is empty or unset"
                if env_name
                else f"set client_secret_env (or client_secret) in [platforms.{self.platform}]"
            )
            raise Permanent(f"{self.platform}: no OAuth client secret: {where}")
        return secret

    # ------------------------------------------------------------------ refresh, once

    def _record(self, account_id: str) -> TokenRecord:
        record = self.store.get(account_id)
        if record is None:
            raise AuthExpired(self.login_message(account_id, "no tokens are stored"))
        return record

    def _refresh(self, account_id: str, *, rejected: str | None) -> TokenRecord:
        with self._local:
            deadline = time.monotonic() + REFRESH_CLAIM_SECONDS
            while True:
                record = self._record(account_id)
                now = self.clock.now()
                if record.login_required:
                    raise AuthExpired(self.login_message(account_id, record.login_required))
                end = record.refresh_expires_at  # as the platform said, or Yahoo!'s 4 weeks
                if end is not None and now >= end:
                    # Sending an ended refresh token only earns a refusal: a login is due.
                    day = end.astimezone(self.settings.zone).date().isoformat()
                    reason = f"the login ended on {day}"
                    self.store.mark_login_required(account_id, reason, now)
                    raise AuthExpired(self.login_message(account_id, reason))
                if self._usable_as_is(record, now, rejected):
                    return record
                if not record.refresh_token:
                    reason = "no refresh token is stored"
                    self.store.mark_login_required(account_id, reason, now)
                    raise AuthExpired(self.login_message(account_id, reason))
                until = now + timedelta(seconds=REFRESH_CLAIM_SECONDS)
                claimed = self.store.claim_refresh(record, owner=self.owner, until=until, now=now)
                if claimed is not None:
                    return self._do_refresh(claimed)
                if time.monotonic() > deadline:
                    raise Transient(
                        f"{self.platform} account {account_id}: another process is refreshing "
                        "the token and has not finished"
                    )
                time.sleep(CLAIM_POLL_SECONDS)

    def _usable_as_is(self, record: TokenRecord, now: datetime, rejected: str | None) -> bool:
        """Whether `record` needs no refresh from us: another process refreshed it, or is
        refreshing it while the current token still works for a while."""
        if record.remaining(now) <= still_usable(record):
            return False
        if rejected is not None:
            return record.access_token != rejected and not record.locked(now)
        return record.locked(now) or not refresh_due(record, now)

    def _do_refresh(self, claimed: TokenRecord) -> TokenRecord:
        account_id = claimed.account_id
        try:
            account = self.account_settings(account_id)
            grant = self.grants.refresh(
                account, self.client_secret(account_id), claimed.refresh_token or ""
            )
        except ApiError as err:
            now = self.clock.now()
            if is_wrong_endpoint(err.status, err.platform_body):
                # Not the platform refusing the refresh token: the token endpoint's URL is
                # wrong. The tokens stay as they are (no login is needed once it is fixed).
                self.store.release_claim(claimed, owner=self.owner, now=now)
                raise wrong_endpoint(err.status, err.path) from None
            if err.code in REFUSED_GRANT or err.status == 401:
                reason = f"the refresh token was refused ({err.code}: {err.description})"
                self.store.release_claim(claimed, owner=self.owner, now=now, login_required=reason)
                raise AuthExpired(self.login_message(account_id, reason)) from None
            self.store.release_claim(claimed, owner=self.owner, now=now)
            raise Transient(
                f"{self.platform} account {account_id}: token refresh failed "
                f"({err.code}: {err.description})"
            ) from None
        except WireError as err:
            self.store.release_claim(claimed, owner=self.owner, now=self.clock.now())
            raise Transient(f"{self.platform} account {account_id}: token refresh {err}") from None
        except PlatformError as err:
            # A configuration problem (no client secret): the account waits for the
            # operator instead of failing its items.
            self.store.release_claim(claimed, owner=self.owner, now=self.clock.now())
            raise AuthExpired(err.message) from None
        now = self.clock.now()
        stored = self.store.finish_refresh(claimed, grant, owner=self.owner, now=now)
        if stored is None:
            # Our claim lapsed while the platform answered; another process owns the row now.
            log.warning("%s/%s: refresh claim lapsed before it finished", self.platform, account_id)
            return self._record(account_id)
        log.info(
            "%s/%s: access token refreshed, valid until %s",
            self.platform,
            account_id,
            stored.expires_at.isoformat(timespec="seconds"),
        )
        return stored

    def login_message(self, account_id: str, reason: str) -> str:
        if self._hint is not None:
            return self._hint(account_id, reason)
        return (
            f"{self.platform} account {account_id}: {reason}; log in again with "
            f"`upload-scheduler token login --platform {self.platform} --account {account_id}`"
        )
