"""`worker.login_watch.login_notice`: which "the login ends in N days" notice is due, a
pure function of the login's end, `now` and the last notice sent for this login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from upload_scheduler.worker.login_watch import LOGIN_WARNING_DAYS, login_notice

END = datetime(2026, 2, 2, 3, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def before_end(days: float = 0, seconds: float = 0) -> datetime:
    return END - timedelta(days=days, seconds=seconds)


def test_the_issue_asks_for_three_days_and_one_day() -> None:
    assert LOGIN_WARNING_DAYS == (3, 1)


@pytest.mark.parametrize("now", [before_end(27), before_end(4), before_end(3, seconds=1)])
def test_nothing_is_due_while_the_end_is_more_than_three_days_away(now: datetime) -> None:
    assert login_notice(END, now, None) is None


@pytest.mark.parametrize("now", [before_end(3), before_end(2), before_end(1, seconds=1)])
def test_the_three_day_notice_is_due_within_three_days(now: datetime) -> None:
    assert login_notice(END, now, None) == 3


@pytest.mark.parametrize("now", [before_end(2), before_end(1, seconds=1)])
def test_the_three_day_notice_is_sent_once(now: datetime) -> None:
    assert login_notice(END, now, 3) is None


@pytest.mark.parametrize("now", [before_end(1), before_end(0, seconds=3600), END - SECOND])
def test_the_one_day_notice_follows_the_three_day_one(now: datetime) -> None:
    assert login_notice(END, now, 3) == 1


def test_within_one_day_with_nothing_sent_only_the_one_day_notice_is_due() -> None:
    # A daemon that was stopped during the third-to-last day does not send a stale
    # "3 days" on its return: the nearer notice is the one due.
    assert login_notice(END, before_end(0, seconds=7200), None) == 1


@pytest.mark.parametrize("now", [before_end(1), before_end(0, seconds=60), END, END + SECOND])
def test_nothing_again_after_the_one_day_notice(now: datetime) -> None:
    assert login_notice(END, now, 1) is None


def test_the_boundaries_are_inclusive_to_the_second() -> None:
    assert login_notice(END, before_end(3), None) == 3
    assert login_notice(END, before_end(3) - SECOND, None) is None
    assert login_notice(END, before_end(1), 3) == 1
    assert login_notice(END, before_end(1) - SECOND, 3) is None


def test_other_warning_days_are_taken_as_given() -> None:
    days = (7, 3, 1)
    assert login_notice(END, before_end(8), None, days) is None
    assert login_notice(END, before_end(6), None, days) == 7
    assert login_notice(END, before_end(6), 7, days) is None
    assert login_notice(END, before_end(2), 7, days) == 3
    assert login_notice(END, before_end(0.5), 3, days) == 1


def test_a_walk_through_a_four_week_login_sends_each_notice_once() -> None:
    """Hourly checks from the login to its end: 3 then 1, each exactly once."""
    login = END - timedelta(days=28)
    sent: list[tuple[int, datetime]] = []
    warned: int | None = None
    now = login
    while now < END:
        due = login_notice(END, now, warned)
        if due is not None:
            sent.append((due, now))
            warned = due
        now += timedelta(hours=1)
    assert [days for days, _ in sent] == [3, 1]
    assert sent[0][1] == before_end(3)
    assert sent[1][1] == before_end(1)
