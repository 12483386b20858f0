"""OAuth tokens in the database (`oauth_tokens`), for every platform: reads, a login's
upsert, and the compare-and-set claim that lets exactly one process refresh an account
at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, RowMapping, and_, bindparam, or_, select, update

from upload_scheduler.platforms.oauth import TokenGrant
from upload_scheduler.store import account_state
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.store.states import PauseKind
from upload_scheduler.store.tables import oauth_tokens


@dataclass(frozen=True)
class TokenRecord:
    platform: str
    account_id: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_type: str
    expires_at: datetime
    obtained_at: datetime
    refresh_token_obtained_at: datetime | None
    login_required: str | None
    refresh_locked_until: datetime | None
    refresh_lock_owner: str | None
    version: int
    updated_at: datetime
    # The refresh token's end when the platform said it (eBay's refresh_token_expires_in);
    # None: the platform's usual lifetime from refresh_token_obtained_at (`token_health`).
    refresh_expires_at: datetime | None = None
    # The last "login ends in N days" notice sent for this login (the daemon's).
    login_warned_days: int | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> TokenRecord:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    @property
    def lifetime(self) -> timedelta:
        return self.expires_at - self.obtained_at

    def remaining(self, now: datetime) -> timedelta:
        return self.expires_at - now

    def locked(self, now: datetime) -> bool:
        return self.refresh_locked_until is not None and self.refresh_locked_until > now


def tail(secret: str | None) -> str:
    """What status may show of a token: its last 4 characters."""
    return f"…{secret[-4:]}" if secret and len(secret) > 8 else "…"


# Read before every API call (the token may have been refreshed by another process):
# built once, so a call costs only the query.
_GET = select(oauth_tokens).where(
    oauth_tokens.c.platform == bindparam("token_platform"),
    oauth_tokens.c.account_id == bindparam("token_account_id"),
)


class TokenStore:
    def __init__(self, engine: Engine, platform: str) -> None:
        self.engine = engine
        self.platform = platform

    def get(self, account_id: str) -> TokenRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    _GET, {"token_platform": self.platform, "token_account_id": account_id}
                )
                .mappings()
                .first()
            )
        return None if row is None else TokenRecord.from_row(row)

    def all(self) -> dict[str, TokenRecord]:
        query = select(oauth_tokens).where(oauth_tokens.c.platform == self.platform)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return {row["account_id"]: TokenRecord.from_row(row) for row in rows}

    def save_login(self, account_id: str, grant: TokenGrant, now: datetime) -> TokenRecord:
        """Store a login's tokens, replacing whatever was there (a stale lock included)."""
        values = {
            **_grant_values(grant, now),
            "refresh_token": grant.refresh_token,
            "refresh_token_obtained_at": now if grant.refresh_token else None,
            "refresh_expires_at": _refresh_end(grant, now),
            "login_required": None,
            "login_warned_days": None,
            "refresh_locked_until": None,
            "refresh_lock_owner": None,
            "updated_at": now,
        }
        with write_transaction(self.engine) as conn:
            current = conn.execute(
                select(oauth_tokens.c.version).where(self._key(account_id))
            ).scalar()
            if current is None:
                conn.execute(
                    oauth_tokens.insert().values(
                        platform=self.platform, account_id=account_id, version=1, **values
                    )
                )
            else:
                conn.execute(
                    update(oauth_tokens)
                    .where(self._key(account_id))
                    .values(version=current + 1, **values)
                )
        return self._must_get(account_id)

    def import_token(
        self,
        account_id: str,
        *,
        access_token: str,
        refresh_token: str | None,
        token_type: str,
        expires_at: datetime,
        obtained_at: datetime,
        refresh_token_obtained_at: datetime | None,
        now: datetime,
        refresh_expires_at: datetime | None = None,
    ) -> bool:
        """Store tokens brought from another system unless the account already has some:
        tokens here may be newer (a refresh rotates the refresh token), so they are never
        replaced. True when the row was written."""
        with write_transaction(self.engine) as conn:
            if conn.execute(select(oauth_tokens.c.version).where(self._key(account_id))).first():
                return False
            conn.execute(
                oauth_tokens.insert().values(
                    platform=self.platform,
                    account_id=account_id,
                    access_token=access_token,
                    refresh_token=refresh_token,
                    token_type=token_type,
                    expires_at=expires_at,
                    obtained_at=obtained_at,
                    refresh_token_obtained_at=refresh_token_obtained_at,
                    refresh_expires_at=refresh_expires_at,
                    version=1,
                    updated_at=now,
                )
            )
        return True

    def claim_refresh(
        self, record: TokenRecord, *, owner: str, until: datetime, now: datetime
    ) -> TokenRecord | None:
        """Take the refresh of this account if nobody changed the row since `record` was
        read and no live claim is held; the claimed record, or None."""
        unlocked = or_(
            oauth_tokens.c.refresh_locked_until.is_(None),
            oauth_tokens.c.refresh_locked_until <= now,
        )
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(oauth_tokens)
                .where(
                    and_(
                        self._key(record.account_id),
                        oauth_tokens.c.version == record.version,
                        unlocked,
                    )
                )
                .values(
                    version=record.version + 1,
                    refresh_locked_until=until,
                    refresh_lock_owner=owner,
                )
            )
        if result.rowcount != 1:
            return None
        return self._must_get(record.account_id)

    def finish_refresh(
        self, claimed: TokenRecord, grant: TokenGrant, *, owner: str, now: datetime
    ) -> TokenRecord | None:
        """Store a refresh's tokens under our claim; None if the claim was lost."""
        # A grant without a refresh token (eBay's refresh) leaves the stored one, and its
        # end, as they are.
        rotated = bool(grant.refresh_token) and grant.refresh_token != claimed.refresh_token
        values = {
            **_grant_values(grant, now),
            "refresh_token": grant.refresh_token or claimed.refresh_token,
            "refresh_token_obtained_at": now if rotated else claimed.refresh_token_obtained_at,
            # A new refresh token ends when the answer says; one that says nothing keeps
            # the login's known end (Yahoo!'s four weeks are not extended by refreshing).
            "refresh_expires_at": (
                (_refresh_end(grant, now) or claimed.refresh_expires_at)
                if rotated
                else claimed.refresh_expires_at
            ),
            "login_required": None,
            "refresh_locked_until": None,
            "refresh_lock_owner": None,
            "version": claimed.version + 1,
            "updated_at": now,
        }
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(oauth_tokens).where(self._claimed(claimed, owner)).values(**values)
            )
        if result.rowcount != 1:
            return None
        return self._must_get(claimed.account_id)

    def release_claim(
        self, claimed: TokenRecord, *, owner: str, now: datetime, login_required: str | None = None
    ) -> None:
        """Give the claim back after a failed refresh, noting a refusal for `token status`."""
        values: dict[str, object] = {
            "refresh_locked_until": None,
            "refresh_lock_owner": None,
            "version": claimed.version + 1,
            "updated_at": now,
        }
        if login_required is not None:
            values["login_required"] = login_required
        with write_transaction(self.engine) as conn:
            conn.execute(update(oauth_tokens).where(self._claimed(claimed, owner)).values(**values))

    def mark_login_required(self, account_id: str, reason: str, now: datetime) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(oauth_tokens)
                .where(self._key(account_id))
                .values(
                    login_required=reason,
                    version=oauth_tokens.c.version + 1,
                    updated_at=now,
                )
            )

    def mark_login_warned(self, account_id: str, days: int) -> None:
        """Note the "login ends in `days` days" notice as sent (a new login clears it)."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(oauth_tokens).where(self._key(account_id)).values(login_warned_days=days)
            )

    def clear_auth_pause(self, account_id: str, now: datetime) -> bool:
        """Lift a pause the worker set because the account's tokens failed: a login is
        exactly what it was waiting for. Pauses for other reasons stay."""
        with write_transaction(self.engine) as conn:
            return account_state.lift_pause(conn, self.platform, account_id, PauseKind.AUTH, now)

    def _key(self, account_id: str):  # type: ignore[no-untyped-def]
        return and_(
            oauth_tokens.c.platform == self.platform, oauth_tokens.c.account_id == account_id
        )

    def _claimed(self, claimed: TokenRecord, owner: str):  # type: ignore[no-untyped-def]
        return and_(
            self._key(claimed.account_id),
            oauth_tokens.c.version == claimed.version,
            oauth_tokens.c.refresh_lock_owner == owner,
        )

    def _must_get(self, account_id: str) -> TokenRecord:
        record = self.get(account_id)
        if record is None:  # pragma: no cover - the row was written a moment ago
            raise LookupError(f"the tokens of {self.platform}/{account_id} vanished")
        return record


def _grant_values(grant: TokenGrant, now: datetime) -> dict[str, object]:
    return {
        "access_token": grant.access_token,
        "token_type": grant.token_type,
        "expires_at": now + timedelta(seconds=grant.expires_in),
        "obtained_at": now,
    }


def _refresh_end(grant: TokenGrant, now: datetime) -> datetime | None:
    if not grant.refresh_token or grant.refresh_token_expires_in is None:
        return None
    return now + timedelta(seconds=grant.refresh_token_expires_in)
