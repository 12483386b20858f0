"""The restart policy is pure: times are plain numbers."""

from __future__ import annotations

from upload_scheduler.supervisor.policy import RestartPolicy

POLICY = RestartPolicy(
    backoff_base_seconds=1,
    backoff_max_seconds=60,
    crash_limit=5,
    crash_window_seconds=600,
    crash_retry_seconds=300,
    stable_seconds=60,
)


def test_first_restart_is_immediate_then_backoff_doubles_up_to_the_cap() -> None:
    delays = [POLICY.backoff(n) for n in range(1, 10)]
    assert delays == [0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_a_child_killed_once_comes_back_at_once() -> None:
    decision = POLICY.decide(started_at=0, exited_at=5, failures=0, restarts=[])
    assert (decision.delay, decision.failures, decision.crash_looping) == (0, 1, False)


def test_a_long_run_resets_the_backoff() -> None:
    decision = POLICY.decide(started_at=0, exited_at=61, failures=6, restarts=[])
    assert decision.failures == 1
    assert decision.delay == 0


def test_more_than_five_restarts_in_ten_minutes_is_a_crash_loop() -> None:
    restarts = [10.0, 20.0, 30.0, 40.0]
    assert not POLICY.decide(
        started_at=40, exited_at=41, failures=4, restarts=restarts
    ).crash_looping
    restarts.append(50.0)
    decision = POLICY.decide(started_at=50, exited_at=51, failures=5, restarts=restarts)
    assert decision.crash_looping
    assert decision.delay == 300


def test_restarts_older_than_the_window_do_not_count() -> None:
    restarts = [0.0, 1.0, 2.0, 3.0, 4.0]
    assert POLICY.crash_looping(restarts, 500)
    assert not POLICY.crash_looping(restarts, 603.5)
    assert POLICY.recent(restarts, 603.5) == [4.0]


def test_stable_after_the_configured_time() -> None:
    assert not POLICY.is_stable(100, 159)
    assert POLICY.is_stable(100, 160)
