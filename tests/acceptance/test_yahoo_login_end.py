"""Issue 17's "Done when": a Yahoo! login that ends mid-run. Yahoo!'s refresh token ends
four weeks after the login (or early, e.g. after a password change) and only a new
`token login` helps: the account pauses with "Yahoo! login ended: run `upload-scheduler
token login --platform yahoo --account A`", nothing fails, `token status` exits 1, and
`token login` lifts the pause, after which the remaining items list.

As a user runs it: the sandbox as a process (`sandbox serve --platform yahoo`), the real
CLI with a config file, the manager running the daemons of two stores. Mid-run, once
store A has listed a few items, the sandbox ends A's login (`/_sandbox/end_logins`: its
refresh token is refused from then on) and its access token (`/_sandbox/expire_tokens`:
as if its hour were up), so A's next request needs a refresh, which Yahoo! refuses.
Store B, logged in on its own, goes on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.demo_helpers import cli, ok, queue_json, wait_for
from tests.acceptance.yahoo_run_helpers import (
    SUCCESS,
    YahooRun,
    accounts_listed,
    done,
    login,
    yahoo_run,
)

pytestmark = pytest.mark.acceptance

ENDS, GOES_ON = "yahoo_ends", "yahoo_goes_on"
STORES = {ENDS: "login-ends-shop", GOES_ON: "goes-on-shop"}
PER_STORE = {ENDS: 12, GOES_ON: 6}
ASINS = [f"B0LOGIN{n:03d}" for n in range(sum(PER_STORE.values()))]
# As in the fault-mix test: ours the same as the sandbox's.
URL_INTERVAL = 0.2
SANDBOX = ("--url-interval", str(URL_INTERVAL), "--token-lifetime", "20")
PLATFORM = {
    "url_interval_seconds": URL_INTERVAL,
    "min_interval_seconds": 0.1,
    "retry_delay_seconds": 0.2,
    "max_attempts": 3,
}
MESSAGE = (
    f"Yahoo! login ended: run `upload-scheduler token login --platform yahoo --account {ENDS}`"
)
END_AFTER = 3  # of A's items listed when its login ends
START_SECONDS = 15.0
PAUSE_SECONDS = 10.0
DRAIN_SECONDS = 30.0


@pytest.fixture
def run(tmp_path: Path) -> Iterator[YahooRun]:
    """Two logged-in stores on one application: 12 products queued to A, 6 to B."""
    with yahoo_run(tmp_path, SANDBOX, STORES, PER_STORE, ASINS, platform=PLATFORM) as run:
        yield run


def token_status(run: YahooRun) -> tuple[int, str]:
    result = cli(run.workdir, "token", "status", "--platform", "yahoo")
    return result.returncode, result.stdout + result.stderr


def test_login_ends_mid_run_pauses_the_store_until_token_login(run: YahooRun) -> None:
    code, text = token_status(run)
    assert code == 0, text

    ok(cli(run.workdir, "manager", "start", "--detach", "--check-interval", "1"))
    wait_for(
        lambda: done(run.workdir, ENDS, SUCCESS) >= END_AFTER,
        START_SECONDS,
        f"{END_AFTER} of {ENDS}'s items listed" + run.evidence(),
        poll=0.02,
    )
    assert run.sandbox.control("end_logins", user=ENDS) == {"ended": 1}
    assert run.sandbox.control("expire_tokens", user=ENDS)["expired"] >= 1
    ended_at = len(run.sandbox.calls())

    paused = wait_for(
        lambda: (a := accounts_listed(run.workdir)[ENDS])["paused"] and a,
        PAUSE_SECONDS,
        f"{ENDS} paused" + run.evidence(),
        poll=0.2,
    )
    assert MESSAGE in str(paused["pause_reason"]), paused
    # The other store is not paused and lists all its items meanwhile.
    wait_for(
        lambda: done(run.workdir, GOES_ON, SUCCESS) == PER_STORE[GOES_ON],
        DRAIN_SECONDS,
        f"{GOES_ON}'s items listed" + run.evidence(),
    )
    assert accounts_listed(run.workdir)[GOES_ON]["paused"] is False

    # Nothing failed, and the login ended mid-run: some of A's items are still to list.
    stats = queue_json(run.workdir, "--platform", "yahoo", "--limit", "0")["statistics"]
    assert stats["failed"] == 0, stats
    assert END_AFTER <= done(run.workdir, ENDS, SUCCESS) < PER_STORE[ENDS], stats
    code, text = token_status(run)
    assert code == 1, text
    assert f"token login --platform yahoo --account {ENDS}" in text, text
    # While paused, A's daemon sends A's store nothing: at most the one request that
    # found the token expired (refused, nothing done; the sandbox names no store before
    # the token passes; none when the refresh was due anyway), and the one refresh
    # Yahoo! refused. Store B's requests carry B's login.
    not_b = [c for c in run.sandbox.calls()[ended_at:] if c["user"] != GOES_ON]
    refused = [c["refused"] for c in not_b if c["api"] is not None]
    assert refused in ([], ["invalid_token"]), not_b
    refreshes = [c["outcome"] for c in not_b if c.get("grant_type") == "refresh_token"]
    assert refreshes == ["invalid_grant"], not_b

    assert f"Logged in yahoo/{ENDS}" in login(run.workdir, run.sandbox, ENDS)
    assert accounts_listed(run.workdir)[ENDS]["paused"] is False
    run.wait_drained(DRAIN_SECONDS)
    code, text = token_status(run)
    assert code == 0, text
    run.stop_manager()

    assert run.queue_problems() == []
    run.judge_stores()
