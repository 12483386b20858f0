"""Everything the manager does differently on POSIX and on Windows, in one module.

Children get a process group of their own so that a terminal's Ctrl+C reaches only the
manager, which then sends each child exactly one stop. A child that also saw the
terminal's SIGINT would take the manager's stop as a second, aborting signal.

Windows: a console control event reaches every process of a group that shares the
sender's console, so children stay on the manager's console (never DETACHED_PROCESS)
and get CTRL_BREAK_EVENT, which Python raises as SIGBREAK in the daemon. The
background manager gets a console without a window (CREATE_NO_WINDOW) for the same
reason: with no console at all it could not signal its children.

The tests are `sys.platform == "win32"`, written out each time, because that is the form a
type checker understands: it checks the branch of the platform it checks for, and the
Windows-only names of `subprocess` and `signal` exist only in the other branch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import psutil


def child_popen_options() -> dict[str, Any]:
    """Popen keyword arguments that put a daemon in its own process group."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def background_popen_options() -> dict[str, Any]:
    """Popen keyword arguments for the background manager: its own session or group, no
    terminal, and nothing of the caller's kept open."""
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
        return {"creationflags": flags, "close_fds": True}
    return {"start_new_session": True, "close_fds": True}


def stop_signals() -> list[int]:
    """The signals that ask the manager to stop: Ctrl+C, a service stop, a closed
    terminal (SIGHUP), and Windows' CTRL_BREAK_EVENT (SIGBREAK)."""
    names = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"]
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def request_stop(pid: int) -> bool:
    """Send one warm stop to a daemon; False when it is already gone."""
    try:
        if sys.platform == "win32":
            os.kill(pid, signal.CTRL_BREAK_EVENT)
        else:
            os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, OSError):
        return False
    return True


def force_stop(pid: int) -> None:
    """Kill a process that did not stop in time, and its own children: on Windows a
    virtual environment's python.exe is a launcher whose child is the interpreter.
    (SIGKILL on POSIX; TerminateProcess on Windows.)"""
    try:
        process = psutil.Process(pid)
        family = [*process.children(recursive=True), process]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return
    for member in family:
        try:
            member.kill()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass


def signal_manager(pid: int) -> bool:
    """Ask a running manager to stop. POSIX: SIGTERM. Windows: a console event cannot
    cross consoles, so the caller writes the stop-request file instead."""
    if sys.platform == "win32":
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, OSError):
        return False
    return True
