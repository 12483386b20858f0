"""The manager's supervision with small stand-in children (a few lines of Python that
record the stop signals they get), so restarts, crash loops and stops are checked in
seconds. The real daemon is covered by tests/acceptance/test_manager.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import insert

from upload_scheduler.config import load_settings
from upload_scheduler.store.database import open_database
from upload_scheduler.store.tables import account_state
from upload_scheduler.supervisor.events import EventKind, ManagerEvent
from upload_scheduler.supervisor.lock import ManagerAlreadyRunning
from upload_scheduler.supervisor.manager import MultiAccountUploadManager
from upload_scheduler.supervisor.oskit import child_popen_options
from upload_scheduler.supervisor.policy import RestartPolicy
from upload_scheduler.supervisor.procs import host_name
from upload_scheduler.supervisor.state import read_state

pytestmark = pytest.mark.skipif(os.name == "nt", reason="stand-ins stop on POSIX SIGTERM")

CONFIG = """\
database = "sqlite:///us.db"
log_dir = "logs"
[accounts]
fake = ["good", "bad"]
[platforms.fake]
api_base_url = "fake:items.db"
"""

# mode file: run (default) | crash | ignore (ignores the stop signal)
STAND_IN = """\
import os, pathlib, signal, sys, time
folder, account = pathlib.Path(sys.argv[1]), sys.argv[2]
mode_file = folder / (account + ".mode")
mode = mode_file.read_text().strip() if mode_file.exists() else "run"
if mode == "crash":
    sys.exit(3)
def on_stop(signum, frame):
    with open(folder / (account + ".stops"), "a") as f:
        f.write(str(signum) + "\\n")
    if mode != "ignore":
        sys.exit(0)
signal.signal(signal.SIGTERM, on_stop)
(folder / (account + "." + str(os.getpid()) + ".up")).touch()
while True:
    time.sleep(0.05)
"""

FAST = RestartPolicy(
    backoff_base_seconds=0.05,
    backoff_max_seconds=0.2,
    crash_limit=2,
    crash_window_seconds=60,
    crash_retry_seconds=30,
)


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def notify(self, kind: str, account_key: str, message: str) -> bool:
        self.sent.append((str(kind), account_key, message))
        return True


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout}s: {predicate}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "upload-scheduler.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def stand_in(folder: Path) -> Callable[[str, str], list[str]]:
    def command(platform: str, account_id: str) -> list[str]:
        return [sys.executable, "-c", STAND_IN, str(folder), account_id]

    return command


def make_manager(folder: Path, **options: Any) -> MultiAccountUploadManager:
    options.setdefault("policy", FAST)
    options.setdefault("notifier", RecordingNotifier())
    return MultiAccountUploadManager(
        load_settings(folder / "upload-scheduler.toml"),
        command=stand_in(folder),
        poll_seconds=0.05,
        **options,
    )


@pytest.fixture
def running() -> Iterator[Callable[[MultiAccountUploadManager, float], threading.Thread]]:
    """Runs monitor() in a thread; always shuts the manager down afterwards."""
    started: list[tuple[MultiAccountUploadManager, threading.Thread]] = []

    def run(manager: MultiAccountUploadManager, check_interval: float) -> threading.Thread:
        manager.start_all()
        thread = threading.Thread(target=manager.monitor, args=(check_interval,), daemon=True)
        thread.start()
        started.append((manager, thread))
        return thread

    yield run
    for manager, thread in started:
        manager.request_stop()
        thread.join(timeout=20)
        manager.shutdown_all()


def stops(folder: Path, account: str) -> list[str]:
    path = folder / f"{account}.stops"
    return path.read_text().split() if path.exists() else []


def test_a_killed_child_is_restarted_at_once_and_counted(folder: Path, running: Any) -> None:
    manager = make_manager(folder)
    running(manager, 30.0)  # a long check interval: the restart must come from polling
    first = manager.get_status()["processes"]["fake_good"]["pid"]
    wait_for(lambda: list(folder.glob(f"good.{first}.up")))
    killed_at = time.monotonic()
    psutil.Process(first).kill()

    def restarted() -> dict[str, Any] | None:
        process = manager.get_status()["processes"]["fake_good"]
        return process if process["running"] and process["pid"] != first else None

    process = wait_for(restarted, timeout=5)
    assert time.monotonic() - killed_at < 2.0
    assert process["restarts"] == 1
    assert process["last_exit_code"] == -9
    assert manager.notifier.sent[0][:2] == ("daemon_restarted", "fake/good")  # type: ignore[attr-defined]
    state = read_state(manager.paths.state)
    assert state is not None
    assert {p.key: p.restarts for p in state.processes} == {"fake_good": 1, "fake_bad": 0}


def test_a_crash_loop_is_marked_and_notified_while_the_others_run(
    folder: Path, running: Any
) -> None:
    (folder / "bad.mode").write_text("crash")
    notifier = RecordingNotifier()
    manager = make_manager(folder, notifier=notifier)
    running(manager, 0.2)
    wait_for(lambda: manager.get_status()["processes"]["fake_bad"]["crash_looping"])
    status = manager.get_status()
    bad, good = status["processes"]["fake_bad"], status["processes"]["fake_good"]
    assert bad["state"] == "crash_looping"
    assert bad["restarts"] == 2  # the limit; a third restart waits for the slow pace
    assert bad["last_exit_code"] == 3
    assert good["running"] and good["restarts"] == 0
    crashed = [s for s in notifier.sent if s[0] == "daemon_crashed"]
    assert len(crashed) == 1 and crashed[0][1] == "fake/bad"
    time.sleep(0.5)  # no further restart before crash_retry_seconds
    assert manager.get_status()["processes"]["fake_bad"]["restarts"] == 2
    state = read_state(manager.paths.state)
    assert state is not None
    assert [p.crash_looping for p in state.processes] == [False, True]
    assert status["total"] == 2 and status["running"] == 1 and status["stopped"] == 1


def test_shutdown_sends_exactly_one_stop_and_releases_the_lock(folder: Path) -> None:
    events: list[ManagerEvent] = []
    manager = make_manager(folder, on_event=events.append)
    manager.start_all()
    pids = [p["pid"] for p in manager.get_status()["processes"].values()]
    for account, pid in zip(("good", "bad"), pids, strict=True):
        wait_for(lambda a=account, p=pid: list(folder.glob(f"{a}.{p}.up")))
    final = manager.shutdown_all()
    assert final["running"] == 0
    assert stops(folder, "good") == ["15"] and stops(folder, "bad") == ["15"]
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.CHILD_STOPPED) == 2
    assert all(not e.forced and e.exit_code == 0 for e in events if e.kind == "child_stopped")
    state = read_state(manager.paths.state)
    assert state is not None and state.state == "stopped"
    assert {p.stop_result for p in state.processes} == {"stopped"}
    assert not manager.paths.pid_file.exists()
    again = make_manager(folder)
    again.start_all()  # the lock is free
    again.shutdown_all()


def test_a_child_that_ignores_the_stop_is_killed_after_the_timeout(folder: Path) -> None:
    (folder / "good.mode").write_text("ignore")
    manager = make_manager(folder, stop_timeout=0.5)
    manager.start_all()
    pid = manager.get_status()["processes"]["fake_good"]["pid"]
    wait_for(lambda: list(folder.glob(f"good.{pid}.up")))
    manager.shutdown_all()
    state = read_state(manager.paths.state)
    assert state is not None
    good = next(p for p in state.processes if p.account_id == "good")
    assert good.stop_result == "killed"
    assert stops(folder, "good") == ["15"]  # one stop, then the kill
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_second_manager_is_refused_with_the_running_pid(folder: Path) -> None:
    first = make_manager(folder)
    first.start_all()
    try:
        with pytest.raises(ManagerAlreadyRunning) as refused:
            make_manager(folder).start_all()
        assert f"PID {os.getpid()}" in str(refused.value)
    finally:
        first.shutdown_all()


def test_a_leftover_daemon_is_stopped_before_its_replacement_starts(folder: Path) -> None:
    """What a killed manager leaves behind: a child still running on its own."""
    command = stand_in(folder)("fake", "good")
    leftover = subprocess.Popen(command, stdin=subprocess.DEVNULL, **child_popen_options())
    try:
        wait_for(lambda: list(folder.glob(f"good.{leftover.pid}.up")))
        events: list[ManagerEvent] = []
        manager = make_manager(folder, on_event=events.append)
        manager.start_all()
        try:
            assert leftover.poll() == 0  # stopped warmly, and reaped before the new one
            assert stops(folder, "good") == ["15"]
            kinds = [e.kind for e in events]
            assert kinds.index(EventKind.LEFTOVER_STOPPED) < kinds.index(EventKind.CHILD_STARTED)
            assert manager.get_status()["processes"]["fake_good"]["pid"] != leftover.pid
        finally:
            manager.shutdown_all()
    finally:
        if leftover.poll() is None:
            leftover.kill()
        leftover.wait(5)


def test_get_status_has_the_seed_shape(folder: Path) -> None:
    manager = make_manager(folder)
    status = manager.get_status()
    assert set(status) == {"total", "running", "stopped", "processes"}
    assert status["total"] == 2 and status["running"] == 0 and status["stopped"] == 2
    assert set(status["processes"]) == {"fake_good", "fake_bad"}
    assert status["processes"]["fake_good"]["settings"]["batch_size"] == 10


def test_a_child_refused_by_another_workers_lease_waits_without_crash_looping(
    folder: Path, running: Any
) -> None:
    """The daemon exits 1 when another live worker holds the account's lease: that is
    no crash; the manager retries at the lease pace and never marks a crash loop."""
    settings = load_settings(folder / "upload-scheduler.toml")
    engine = open_database(settings.database_url)
    with engine.begin() as conn:
        conn.execute(
            insert(account_state).values(
                platform="fake",
                account_id="bad",
                lease_owner="someone-else",
                lease_host=host_name(),
                lease_pid=os.getpid(),  # alive: this test process
                lease_expires_at=datetime.now(UTC) + timedelta(minutes=5),
            )
        )
    engine.dispose()
    (folder / "bad.mode").write_text("crash")
    policy = RestartPolicy(crash_limit=1, backoff_base_seconds=0.01, lease_retry_seconds=30)
    manager = make_manager(folder, policy=policy)
    running(manager, 0.2)
    wait_for(lambda: manager.get_status()["processes"]["fake_bad"]["state"] == "lease_held")
    time.sleep(0.3)
    bad = manager.get_status()["processes"]["fake_bad"]
    assert bad["state"] == "lease_held" and not bad["crash_looping"]
    assert bad["restarts"] == 0
    assert "another worker holds the account's lease" in bad["message"]


def test_the_stop_request_file_stops_the_manager(folder: Path) -> None:
    """How `manager stop` reaches a manager on Windows (no signal crosses consoles)."""
    events: list[ManagerEvent] = []
    manager = make_manager(folder, on_event=events.append)
    manager.start_all()
    thread = threading.Thread(target=manager.monitor, args=(30.0,), daemon=True)
    thread.start()
    try:
        manager.paths.stop_request.write_text("1\n")
        thread.join(timeout=10)
        assert not thread.is_alive()
    finally:
        manager.shutdown_all()
    kinds = [e.kind for e in events]
    assert EventKind.STOP_REQUESTED in kinds
    assert kinds[-1] == EventKind.ALL_STOPPED
    assert manager.get_status()["running"] == 0
    assert not manager.paths.stop_request.exists()
