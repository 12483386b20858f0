"""Starting and stopping the demo's child processes on every OS: each in its own
process group, so a terminal's Ctrl+C reaches only the demo, which then stops them in
order (the manager first, the sandbox last)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import psutil

STOP_TIMEOUT_SECONDS = 10.0


def detached_flags() -> dict[str, Any]:
    """Popen arguments for a child outside the terminal's process group."""
    if sys.platform == "win32":  # the form mypy reads: see supervisor/oskit.py
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def child_env() -> dict[str, str]:
    """Our own commands print UTF-8 whatever the console's code page."""
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def stop_process(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """A graceful stop (SIGTERM; CTRL_BREAK on Windows), then a kill after `timeout`."""
    if process.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            process.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            process.terminate()
        process.wait(timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait(timeout=timeout)


def process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def stop_pid(pid: int, must_contain: str, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
    """Stop a process we started in an earlier run, if it is alive and its command line
    still names `must_contain` (a reused PID belongs to someone else). True if stopped."""
    try:
        process = psutil.Process(pid)
        if not any(must_contain in part for part in process.cmdline()):
            return False
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return True
