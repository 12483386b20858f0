"""`upload-scheduler manager`, run as a user runs it: real manager and daemon processes
on the file-backed fake platform, short intervals, every wait bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from tests.acceptance.manager_helpers import (
    WorkerSampler,
    config_path,
    daemon_pids,
    kill_everything,
    make_workdir,
    manager,
    manager_pid,
    output,
    queue_items,
    queue_rows,
    statuses,
    wait_for,
)
from upload_scheduler.platforms.fake import created_items

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="uses POSIX signals (kill -9, SIGINT)"),
]

CONTRACT_KEYS = ["running", "pid", "host", "processes"]
PROCESS_KEYS = [
    "platform",
    "account_id",
    "state",
    "pid",
    "uptime_seconds",
    "restarts",
    "last_exit_code",
    "paused_until",
    "pause_reason",
]


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    kill_everything(tmp_path)


def start_detached(workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = manager(workdir, "start", "--detach", "--check-interval", "1", *extra)
    assert result.returncode == 0, output(result)
    return result


def status_json(workdir: Path) -> dict:
    result = manager(workdir, "status", "--json")
    assert result.returncode in (0, 3), output(result)
    return json.loads(result.stdout)


def one_each(workdir: Path, accounts: list[str]) -> dict[str, int] | None:
    pids = daemon_pids(workdir)
    if sorted(pids) == sorted(accounts) and all(len(p) == 1 for p in pids.values()):
        return {a: p[0] for a, p in pids.items()}
    return None


def lock_is_free(workdir: Path) -> bool:
    lock = FileLock(str(workdir / "logs" / "multi_account_manager.lock"), timeout=0)
    lock.acquire()
    lock.release()
    return True


def test_three_accounts_start_status_restart_after_kill_and_stop(workdir: Path) -> None:
    accounts = ["acc_1", "acc_2", "acc_3"]
    make_workdir(workdir, accounts)
    for n, account in enumerate(accounts):
        queue_items(workdir, account, 2, f"B{n}")
    started = start_detached(workdir)
    for line in (
        "Multi-account upload manager",
        "Processes to start: 3",
        "[START] fake_acc_1 (PID: ",
        "[OK] Started 3 processes",
        "Running processes:",
        "  [Running] fake_acc_3",
        "    Settings: batch_size=10, interval=1s",
        "Check interval: 1s",
    ):
        assert line in started.stdout, started.stdout
    pids = wait_for(lambda: one_each(workdir, accounts), 5, "one daemon per account")
    for account, pid in pids.items():
        assert f"[START] fake_{account} (PID: {pid})" in started.stdout

    wait_for(lambda: statuses(workdir)["success"] == 6, 30, "six items uploaded", poll=0.25)
    text = manager(workdir, "status")
    assert text.returncode == 0, output(text)
    assert text.stdout.count("[Running] fake_acc_") == 3
    assert text.stdout.count("Today: 2 succeeded, 0 failed") == 3

    # kill -9 one child: polled, not waiting for the check interval, it is back at once
    os.kill(pids["acc_2"], signal.SIGKILL)
    killed = time.monotonic()

    def replaced() -> dict[str, int] | None:
        now = one_each(workdir, accounts)
        return now if now and now["acc_2"] != pids["acc_2"] else None

    after = wait_for(replaced, 5, "acc_2 restarted", poll=0.02)
    assert time.monotonic() - killed <= 1.0  # --check-interval 1
    assert after["acc_1"] == pids["acc_1"] and after["acc_3"] == pids["acc_3"]

    report = status_json(workdir)
    assert list(report)[:4] == CONTRACT_KEYS
    assert report["running"] is True and isinstance(report["pid"], int)
    for process in report["processes"]:
        assert list(process)[:9] == PROCESS_KEYS
        assert process["state"] == "running"
        assert process["pid"] == after[process["account_id"]]
        assert process["today_success"] == 2
    restarts = {p["account_id"]: (p["restarts"], p["last_exit_code"]) for p in report["processes"]}
    assert restarts == {"acc_1": (0, None), "acc_2": (1, -9), "acc_3": (0, None)}

    stopped = manager(workdir, "stop")
    assert stopped.returncode == 0, output(stopped)
    for account, pid in after.items():
        assert f"[STOP] Stopping fake_{account} (PID: {pid})..." in stopped.stdout
    assert stopped.stdout.count("  [OK] Stopped") == 3
    assert "All processes stopped" in stopped.stdout
    assert daemon_pids(workdir) == {}
    assert lock_is_free(workdir)
    idle = manager(workdir, "status", "--json")
    assert idle.returncode == 3
    assert json.loads(idle.stdout)["running"] is False
    again = manager(workdir, "stop")
    assert again.returncode == 0 and "not running" in again.stdout


def test_stop_lets_the_upload_in_flight_finish(workdir: Path) -> None:
    make_workdir(workdir, ["acc_1"], latency=1.0)
    start_detached(workdir)
    queue_items(workdir, "acc_1", 3, "F")

    def in_flight() -> dict | None:
        return next((r for r in queue_rows(workdir) if r["status"] == "uploading"), None)

    item = wait_for(in_flight, 20, "an upload in flight", poll=0.05)
    stopped = manager(workdir, "stop")
    assert stopped.returncode == 0, output(stopped)
    assert "  [OK] Stopped" in stopped.stdout  # warm: exit code 0, not killed
    assert daemon_pids(workdir) == {}
    assert lock_is_free(workdir)
    rows = {r["id"]: r for r in queue_rows(workdir)}
    assert rows[item["id"]]["status"] == "success"
    assert "uploading" not in {r["status"] for r in rows.values()}
    created = Counter(created_items(workdir / "items.db"))
    assert created[("acc_1", item["asin"])] == 1
    assert max(created.values()) == 1
    succeeded = {r["asin"] for r in rows.values() if r["status"] == "success"}
    assert {asin for _, asin in created} == succeeded  # nothing uploaded but unrecorded


def test_second_start_refused_and_start_after_manager_kill_never_doubles_a_worker(
    workdir: Path,
) -> None:
    accounts = ["acc_1", "acc_2"]
    make_workdir(workdir, accounts, latency=0.3)
    for n, account in enumerate(accounts):
        queue_items(workdir, account, 200, f"K{n}")  # more than the test can upload
    with WorkerSampler(workdir) as sampler:
        start_detached(workdir)
        first = wait_for(lambda: one_each(workdir, accounts), 5, "two daemons")
        manager_pid = status_json(workdir)["pid"]

        refused = manager(workdir, "start", "--check-interval", "1")
        assert refused.returncode == 1, output(refused)
        assert f"PID {manager_pid}" in refused.stderr
        assert "already running" in refused.stderr

        wait_for(lambda: statuses(workdir)["success"] >= 2, 20, "uploads under way", poll=0.25)
        os.kill(manager_pid, signal.SIGKILL)
        time.sleep(1.0)
        assert one_each(workdir, accounts) == first  # the children keep working
        orphaned = manager(workdir, "status", "--json")
        assert orphaned.returncode == 3
        assert {p["state"] for p in json.loads(orphaned.stdout)["processes"]} == {"running"}

        start_detached(workdir)
        second = wait_for(lambda: one_each(workdir, accounts), 10, "two new daemons")
        assert not set(second.values()) & set(first.values())
        done = statuses(workdir)["success"]
        wait_for(lambda: statuses(workdir)["success"] >= done + 4, 20, "uploads go on", poll=0.25)
        assert manager(workdir, "stop").returncode == 0
    assert sampler.samples > 20  # ten a second; a daemon needs over a second to start
    assert max(sampler.most.values()) == 1, sampler.most
    log = (workdir / "logs" / "multi_account_manager.log").read_text(encoding="utf-8")
    assert "left running by a previous manager" in log
    created = Counter(created_items(workdir / "items.db"))
    assert max(created.values()) == 1, "an item was created twice"
    rows = queue_rows(workdir)
    assert "uploading" not in {r["status"] for r in rows}
    assert {r["asin"] for r in rows if r["status"] == "success"} == {a for _, a in created}


def test_a_crash_looping_account_does_not_hold_up_the_others(workdir: Path) -> None:
    """`broken` dies at start: its log file cannot be opened (a folder has its name),
    as reliably as a bad credential would fail it, and on every OS."""
    make_workdir(workdir, ["good", "broken"])
    (workdir / "logs" / "upload_scheduler_fake_broken.log").mkdir(parents=True)
    queue_items(workdir, "good", 4, "G")
    start_detached(
        workdir,
        *("--crash-limit", "2", "--crash-window", "60"),
        *("--backoff-base", "0.2", "--crash-retry", "60"),
    )

    state_file = workdir / "logs" / "multi_account_manager.state.json"

    def looping() -> bool:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        return any(p["crash_looping"] for p in state["processes"])

    wait_for(looping, 40, "broken marked crash-looping", poll=0.2)
    report = {p["account_id"]: p for p in status_json(workdir)["processes"]}
    assert report["broken"]["state"] == "crash_looping"
    assert report["broken"]["restarts"] == 2
    assert report["broken"]["last_exit_code"] == 1
    assert report["good"]["state"] == "running" and report["good"]["restarts"] == 0
    wait_for(lambda: statuses(workdir)["success"] == 4, 30, "good's items uploaded", poll=0.25)
    stderr = Path(report["broken"]["stderr_path"])
    assert stderr == workdir / "logs" / "fake_broken.stderr"
    assert "IsADirectoryError" in stderr.read_text(encoding="utf-8")
    text = manager(workdir, "status")
    assert "[Crash-looping] fake_broken" in text.stdout, text.stdout
    assert f"Early output: {stderr}" in text.stdout
    log = (workdir / "logs" / "multi_account_manager.log").read_text(encoding="utf-8")
    assert "crash-looping" in log
    assert manager(workdir, "stop").returncode == 0
    assert daemon_pids(workdir) == {}


def test_foreground_start_and_ctrl_c(workdir: Path) -> None:
    """Ctrl+C reaches the terminal's whole process group; the children have their own,
    so each gets exactly one stop, from the manager."""
    accounts = ["acc_1", "acc_2"]
    make_workdir(workdir, accounts)
    out_path = workdir / "manager.out"
    command = [sys.executable, "-m", "upload_scheduler", "--config", str(config_path(workdir))]
    with open(out_path, "wb") as out:
        process = subprocess.Popen(
            [*command, "manager", "start", "--check-interval", "1"],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            start_new_session=True,  # its own group, as a shell gives a foreground job
        )
    try:
        pids = wait_for(lambda: one_each(workdir, accounts), 10, "two daemons")
        logs = [workdir / "logs" / f"upload_scheduler_fake_{a}.log" for a in accounts]
        wait_for(
            lambda: all(p.exists() and "daemon started" in p.read_text() for p in logs),
            15,
            "daemons started",
        )
        os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl+C
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    text = out_path.read_text(encoding="utf-8")
    expected = [
        "Multi-account upload manager",
        "Processes to start: 2",
        f"[START] fake_acc_1 (PID: {pids['acc_1']})",
        f"[START] fake_acc_2 (PID: {pids['acc_2']})",
        "[OK] Started 2 processes",
        "Running processes:",
        "  [Running] fake_acc_1",
        "Monitoring processes",
        "Check interval: 1s",
        "Press Ctrl+C to stop",
        "Signal 2 received. Stopping processes...",
        "Stopping all processes...",
        f"[STOP] Stopping fake_acc_1 (PID: {pids['acc_1']})...",
        "  [OK] Stopped",
        f"[STOP] Stopping fake_acc_2 (PID: {pids['acc_2']})...",
        "All processes stopped",
    ]
    position = 0
    for line in expected:
        found = text.find(line, position)
        assert found >= 0, f"{line!r} missing or out of order in:\n{text}"
        position = found + len(line)
    for log in logs:
        content = log.read_text(encoding="utf-8")
        assert content.count("signal 15 received") == 1, content
        assert "signal 2 received" not in content and "second signal" not in content
    assert daemon_pids(workdir) == {}
    assert lock_is_free(workdir)


def launch_detached(workdir: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "upload_scheduler", "--config", str(config_path(workdir))]
    return subprocess.Popen(
        [*command, "manager", "start", "--detach", "--check-interval", "1"],
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def uploaded(workdir: Path) -> int:
    items = workdir / "items.db"
    return len(created_items(items)) if items.exists() else 0


@pytest.mark.parametrize("moment", ["returned", "spawning", "spawning", "returned", "spawning"])
def test_stop_right_after_or_during_start_detach_stops_everything(
    tmp_path: Path, moment: str
) -> None:
    """`returned`: stop once `start --detach` has returned. `spawning`: stop while the
    start is still bringing the background manager up (its output file exists, so the
    start has begun; the manager does not run yet). Either way, once `stop` returns no
    manager or daemon is left and nothing more is uploaded."""
    workdir = make_workdir(tmp_path, ["acc_1", "acc_2"])
    try:
        queue_items(workdir, "acc_1", 20, "S")
        launcher = launch_detached(workdir)
        if moment == "returned":
            launcher.wait(timeout=60)
            assert launcher.returncode == 0, launcher.stderr.read() if launcher.stderr else ""
        else:
            stderr_file = workdir / "logs" / "multi_account_manager.stderr"
            wait_for(stderr_file.exists, 20, "the start spawning its manager", poll=0.01)
        stopped = manager(workdir, "stop")
        assert stopped.returncode == 0, output(stopped)
        assert "nothing to stop" not in stopped.stdout, output(stopped)
        assert "Stopping the manager" in stopped.stdout
        assert daemon_pids(workdir) == {}
        assert manager_pid(workdir) is None
        launcher.communicate(timeout=60)
        assert launcher.returncode in (0, 1)  # 1: stopped before it was running
        done = uploaded(workdir)
        time.sleep(2.0)
        assert uploaded(workdir) == done, "uploads went on after the stop"
        assert daemon_pids(workdir) == {} and manager_pid(workdir) is None
        assert lock_is_free(workdir)
        assert manager(workdir, "status").returncode == 3
    finally:
        kill_everything(workdir)


def test_detach_with_an_unwritable_log_dir_fails_at_once_in_one_line(workdir: Path) -> None:
    """A log_dir under a regular file cannot be created, even by root."""
    make_workdir(workdir, ["acc_1"])
    (workdir / "blocker").write_text("a file, not a folder\n", encoding="utf-8")
    config = config_path(workdir)
    text = config.read_text(encoding="utf-8").replace('"logs"', '"blocker/logs"')
    config.write_text(text, encoding="utf-8")
    for _ in range(2):  # the second start shows its own error, not the first one's again
        started = manager(workdir, "start", "--detach", "--check-interval", "1")
        assert started.returncode == 2, output(started)
        lines = started.stderr.strip().splitlines()
        assert len(lines) == 1, output(started)
        assert "blocker" in lines[0] and "log_dir" in lines[0]
        assert "Traceback" not in started.stderr and "[OK] Started" not in started.stdout
    assert manager_pid(workdir) is None and daemon_pids(workdir) == {}


def test_detach_failure_shows_only_this_starts_output(workdir: Path) -> None:
    """An earlier run's lines in the manager's output file are not this start's error."""
    make_workdir(workdir, ["acc_1"])
    (workdir / "logs").mkdir()
    stale = "error: STALE LINE FROM AN EARLIER RUN"
    (workdir / "logs" / "multi_account_manager.stderr").write_text(stale + "\n")
    start_detached(workdir)
    assert manager(workdir, "stop").returncode == 0
    # A foreground manager holding the lock: the background one exits 1 at once.
    holder = FileLock(str(workdir / "logs" / "multi_account_manager.lock"), timeout=0)
    holder.acquire()
    try:
        refused = manager(workdir, "start", "--detach", "--check-interval", "1")
    finally:
        holder.release()
    assert refused.returncode == 1, output(refused)
    assert "STALE LINE" not in refused.stderr, output(refused)
    assert refused.stderr.count("another manager holds") == 1, output(refused)


def test_manager_stops_everything_when_its_database_file_vanishes(workdir: Path) -> None:
    accounts = ["acc_1", "acc_2"]
    make_workdir(workdir, accounts)
    queue_items(workdir, "acc_1", 2, "V")
    command = [sys.executable, "-m", "upload_scheduler", "--config", str(config_path(workdir))]
    out_path = workdir / "manager.out"
    with open(out_path, "wb") as out:
        process = subprocess.Popen(
            [*command, "manager", "start", "--check-interval", "1"],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            start_new_session=True,
        )
    try:
        wait_for(lambda: one_each(workdir, accounts), 10, "two daemons")
        wait_for(lambda: statuses(workdir)["success"] == 2, 30, "two uploads", poll=0.25)
        for path in workdir.glob("us.db*"):
            path.unlink()
        assert process.wait(timeout=60) == 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    text = out_path.read_text(encoding="utf-8")
    assert "Traceback" not in text
    assert "error: the database file" in text and "was deleted" in text, text
    log = (workdir / "logs" / "multi_account_manager.log").read_text(encoding="utf-8")
    assert "was deleted while the manager was running" in log
    assert daemon_pids(workdir) == {}
    assert lock_is_free(workdir)
