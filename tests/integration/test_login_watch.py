"""The daemon's watch over a login with a known end (`worker.login_watch.LoginWatch`), on
SQLite and PostgreSQL, with Yahoo!'s real token manager built from a configuration file
and a login stored as `token login` stores it (a four-week refresh token): a notice 3 days
and 1 day before the end, each once per login, also across restarts; a new login starts
the warnings again; once the login has ended the account pauses for a login and the
token record says a login is required; an operator's pause is never replaced."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from upload_scheduler.clock import FakeClock
from upload_scheduler.config.load import load_settings
from upload_scheduler.platforms import registry
from upload_scheduler.platforms.oauth import TokenGrant
from upload_scheduler.platforms.token_manager import TokenManager
from upload_scheduler.platforms.token_store import TokenStore
from upload_scheduler.platforms.yahoo.client import YahooClient
from upload_scheduler.platforms.yahoo.tokens import token_manager
from upload_scheduler.store import account_state
from upload_scheduler.store.database import open_database
from upload_scheduler.store.engine import write_transaction
from upload_scheduler.worker.login_watch import LoginWatch

ACCOUNT = "yahoo_account_1"
KEY = f"yahoo/{ACCOUNT}"
COMMAND = f"token login --platform yahoo --account {ACCOUNT}"
LOGIN_AT = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
FOUR_WEEKS = timedelta(days=28)
END = LOGIN_AT + FOUR_WEEKS
SECOND = timedelta(seconds=1)

CONFIG = """\
database = "{database}"
timezone = "Asia/Tokyo"

[accounts]
yahoo = ["{account}"]

[platforms.yahoo]
client_id = "cid"
client_secret = "s"
api_base_url = "http://127.0.0.1:9"
auth_base_url = "http://127.0.0.1:9"

[account_overrides.{account}]
seller_id = "mystore"
"""


@dataclass
class Notes:
    """A notifier that records what it is asked to send."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def notify(self, kind: str, account_key: str, message: str) -> bool:
        self.sent.append((kind, account_key, message))
        return True

    def close(self) -> None:
        return None

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.sent]


@dataclass
class Env:
    engine: Engine
    clock: FakeClock
    tokens: TokenManager
    notes: Notes

    def watch(self) -> LoginWatch:
        """A daemon's watch; a new one is what a restarted daemon has."""
        return LoginWatch(self.engine, self.tokens, [ACCOUNT], self.notes)

    def login(self, at: datetime, lifetime: timedelta = FOUR_WEEKS) -> None:
        """`token login`'s store of a YConnect grant (Yahoo! says the refresh token's end)."""
        grant = TokenGrant(
            access_token="access-token-value",
            refresh_token="refresh-token-value",
            token_type="Bearer",
            expires_in=3600,
            refresh_token_expires_in=int(lifetime.total_seconds()),
        )
        TokenStore(self.engine, "yahoo").save_login(ACCOUNT, grant, at)

    def check_at(self, moment: datetime, watch: LoginWatch | None = None) -> list[str]:
        """Run one check at `moment`; the kinds of the notices it sent."""
        self.clock.set(moment)
        before = len(self.notes.sent)
        (watch or self.watch()).check(moment)
        return [kind for kind, _, _ in self.notes.sent[before:]]

    def account(self) -> account_state.AccountRecord | None:
        with self.engine.connect() as conn:
            return account_state.read_account(conn, "yahoo", ACCOUNT)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(CONFIG.format(database=database_url, account=ACCOUNT), encoding="utf-8")
    settings = load_settings(path, platforms=registry)
    engine = open_database(settings.database_url)
    clock = FakeClock(LOGIN_AT)
    client = YahooClient()
    try:
        yield Env(engine, clock, token_manager(settings, engine, clock, client), Notes())
    finally:
        client.close()
        engine.dispose()


# ------------------------------------------------------------------------- the notices


def test_no_notice_while_the_end_is_far_or_without_a_login(env: Env) -> None:
    assert env.check_at(LOGIN_AT) == []  # no tokens at all: nothing to watch
    env.login(LOGIN_AT)
    assert env.check_at(LOGIN_AT) == []
    assert env.check_at(END - timedelta(days=3) - SECOND) == []
    record = env.account()
    assert record is None or not record.pause_reason


def test_three_days_and_one_day_before_the_end_each_notice_is_sent_once(env: Env) -> None:
    env.login(LOGIN_AT)
    watch = env.watch()

    assert env.check_at(END - timedelta(days=3), watch) == ["login_ending"]
    _, key, message = env.notes.sent[-1]
    assert key == KEY
    assert "within 3 day(s)" in message
    assert f"upload-scheduler {COMMAND}" in message
    assert END.date().isoformat() in message
    warned = env.tokens.store.get(ACCOUNT)
    assert warned is not None and warned.login_warned_days == 3

    assert env.check_at(END - timedelta(days=2), watch) == []
    assert env.check_at(END - timedelta(days=1), watch) == ["login_ending"]
    assert "within 1 day(s)" in env.notes.sent[-1][2]
    assert env.check_at(END - timedelta(hours=1), watch) == []
    assert env.check_at(END - SECOND, watch) == []
    assert len(env.notes.sent) == 2
    # Warning is not pausing: the account still works until the end.
    record = env.account()
    assert record is None or not record.pause_in_force(END - SECOND)


def test_a_restarted_daemon_does_not_repeat_a_notice(env: Env) -> None:
    env.login(LOGIN_AT)
    assert env.check_at(END - timedelta(days=3)) == ["login_ending"]
    # Each check below is a new LoginWatch, as after a restart of the daemon.
    assert env.check_at(END - timedelta(days=3) + SECOND) == []
    assert env.check_at(END - timedelta(days=2)) == []
    assert env.check_at(END - timedelta(hours=20)) == ["login_ending"]
    assert env.check_at(END - timedelta(hours=19)) == []
    assert env.check_at(END - SECOND) == []
    assert env.notes.kinds() == ["login_ending", "login_ending"]


def test_a_daemon_back_within_the_last_day_sends_only_the_one_day_notice(env: Env) -> None:
    env.login(LOGIN_AT)
    assert env.check_at(END - timedelta(hours=10)) == ["login_ending"]
    assert "within 1 day(s)" in env.notes.sent[-1][2]
    assert env.check_at(END - timedelta(hours=9)) == []


def test_a_new_login_starts_the_warnings_again(env: Env) -> None:
    env.login(LOGIN_AT)
    assert env.check_at(END - timedelta(days=1)) == ["login_ending"]

    relogin = END - timedelta(hours=12)
    env.login(relogin)
    record = env.tokens.store.get(ACCOUNT)
    assert record is not None and record.login_warned_days is None
    assert record.refresh_expires_at == relogin + FOUR_WEEKS

    new_end = relogin + FOUR_WEEKS
    assert env.check_at(END + timedelta(days=1)) == []  # the old end means nothing now
    assert env.check_at(new_end - timedelta(days=3)) == ["login_ending"]
    # The day as the operator's clock shows it (the config's zone, Asia/Tokyo by default).
    day = new_end.astimezone(ZoneInfo("Asia/Tokyo")).date().isoformat()
    assert day in env.notes.sent[-1][2]
    assert env.check_at(new_end - timedelta(days=1)) == ["login_ending"]
    assert env.notes.kinds() == ["login_ending"] * 3


# --------------------------------------------------------------------------- the end


def test_once_the_login_has_ended_the_account_pauses_for_a_login(env: Env) -> None:
    env.login(LOGIN_AT)

    assert env.check_at(END) == ["account_paused"]

    record = env.account()
    assert record is not None and record.pause_reason is not None
    assert record.pause_reason.startswith("auth: ")
    assert COMMAND in record.pause_reason
    assert "Yahoo! login ended" in record.pause_reason
    assert record.paused_until is None  # until the login, not until a time
    assert record.pause_in_force(END + timedelta(days=365))

    kind, key, message = env.notes.sent[-1]
    assert (kind, key) == ("account_paused", KEY)
    assert COMMAND in message and "Yahoo! login ended" in message

    tokens = env.tokens.store.get(ACCOUNT)
    assert tokens is not None and tokens.login_required
    assert END.date().isoformat() in tokens.login_required


def test_the_end_is_told_once_even_after_a_restart(env: Env) -> None:
    env.login(LOGIN_AT)
    assert env.check_at(END + timedelta(minutes=5)) == ["account_paused"]
    assert env.check_at(END + timedelta(minutes=10)) == []
    assert env.check_at(END + timedelta(days=3)) == []
    assert env.notes.kinds() == ["account_paused"]


def test_a_login_after_the_end_lifts_the_pause_and_watches_the_new_login(env: Env) -> None:
    env.login(LOGIN_AT)
    env.check_at(END)
    later = END + timedelta(days=2)

    env.login(later)
    assert env.tokens.store.clear_auth_pause(ACCOUNT, later)  # what `token login` does next

    record = env.account()
    assert record is not None and not record.pause_in_force(later)
    tokens = env.tokens.store.get(ACCOUNT)
    assert tokens is not None and tokens.login_required is None
    assert env.check_at(later + timedelta(days=1)) == []
    assert env.check_at(later + FOUR_WEEKS - timedelta(days=3)) == ["login_ending"]


def test_an_operators_pause_in_force_is_not_replaced(env: Env) -> None:
    env.login(LOGIN_AT)
    with write_transaction(env.engine) as conn:
        account_state.set_pause(conn, "yahoo", ACCOUNT, None, "operator: shop closed", LOGIN_AT)

    # Told all the same (a login is what the store needs next), but the operator's pause
    # and its reason stay.
    assert env.check_at(END + SECOND) == ["account_paused"]

    record = env.account()
    assert record is not None and record.pause_reason == "operator: shop closed"
    # The token record still says a login is required, for `token status` and the worker.
    tokens = env.tokens.store.get(ACCOUNT)
    assert tokens is not None and tokens.login_required


def test_a_pause_that_is_over_is_replaced_by_the_login_pause(env: Env) -> None:
    env.login(LOGIN_AT)
    with write_transaction(env.engine) as conn:
        account_state.set_pause(
            conn, "yahoo", ACCOUNT, END - timedelta(hours=1), "rate limit: 429", LOGIN_AT
        )

    assert env.check_at(END) == ["account_paused"]

    record = env.account()
    assert record is not None and record.pause_reason is not None
    assert record.pause_reason.startswith("auth: ") and record.paused_until is None


def test_a_refresh_that_hands_out_a_new_refresh_token_keeps_the_logins_end(env: Env) -> None:
    """Yahoo!'s four weeks run from the login: a token endpoint that rotates the refresh
    token without saying its lifetime must not start them again."""
    env.login(LOGIN_AT)
    store = TokenStore(env.engine, "yahoo")
    record = store.get(ACCOUNT)
    assert record is not None and record.refresh_expires_at == LOGIN_AT + FOUR_WEEKS
    later = LOGIN_AT + timedelta(days=10)
    claimed = store.claim_refresh(
        record, owner="test", until=later + timedelta(seconds=45), now=later
    )
    assert claimed is not None
    rotated = TokenGrant(
        access_token="access-token-value-2",
        refresh_token="refresh-token-value-2",
        token_type="Bearer",
        expires_in=3600,
    )
    stored = store.finish_refresh(claimed, rotated, owner="test", now=later)
    assert stored is not None and stored.refresh_token == "refresh-token-value-2"
    assert stored.refresh_expires_at == LOGIN_AT + FOUR_WEEKS
