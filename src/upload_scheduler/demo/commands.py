"""Our own command line, run as a user runs it: `token login --code` (eBay, Yahoo!),
`account setup` (eBay), `manager start --detach`, `manager stop`, `manager status
--json`. The demo goes through these CLI contracts rather than their Python internals,
so it shows exactly what an operator gets."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from upload_scheduler.demo.procs import child_env, detached_flags, python_module
from upload_scheduler.demo.workdir import DemoPaths

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 90.0
STATUS_TIMEOUT_SECONDS = 30.0
LOGIN_TIMEOUT_SECONDS = 60.0
SETUP_TIMEOUT_SECONDS = 60.0
HIDDEN = "…"  # what the command log shows for a consent code
NOT_RUNNING = 3  # `manager status` when no manager runs


@dataclass(frozen=True)
class CommandResult:
    args: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_command(
    paths: DemoPaths, *args: str, timeout: float, hide: tuple[str, ...] = ()
) -> CommandResult:
    """`upload-scheduler --config <demo config> ARGS`, outside the terminal's process
    group (Ctrl+C must not cut a start or stop in half). Its output is read in full and
    appended to the demo's command log, where the value after each option in `hide` is
    left out."""
    command = python_module("upload_scheduler", "--config", str(paths.config), *args)
    shown = _hidden(args, hide)
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=child_env(),
            check=False,
            **detached_flags(),
        )
        result = CommandResult(shown, done.returncode, _text(done.stdout) + _text(done.stderr))
    except subprocess.TimeoutExpired as exc:
        output = _text(exc.stdout) + _text(exc.stderr)
        result = CommandResult(shown, -1, output + f"\n(no answer within {timeout:g} s)")
    _log(paths, result)
    return result


def token_login(paths: DemoPaths, platform: str, account: str, code: str) -> CommandResult:
    """`token login --platform P --account A --code C`: C is the address the consent page
    sent the browser to (or the code in it)."""
    return run_command(
        paths,
        "token",
        "login",
        "--platform",
        platform,
        "--account",
        account,
        "--code",
        code,
        timeout=LOGIN_TIMEOUT_SECONDS,
        hide=("--code",),
    )


def account_setup(paths: DemoPaths, platform: str, account: str) -> CommandResult:
    """`account setup --platform P --account A`: exit 0 when the seller can list."""
    return run_command(
        paths,
        "account",
        "setup",
        "--platform",
        platform,
        "--account",
        account,
        timeout=SETUP_TIMEOUT_SECONDS,
    )


def manager_start(paths: DemoPaths) -> CommandResult:
    return run_command(paths, "manager", "start", "--detach", timeout=START_TIMEOUT_SECONDS)


def manager_stop(paths: DemoPaths) -> CommandResult:
    return run_command(paths, "manager", "stop", timeout=STOP_TIMEOUT_SECONDS)


def manager_status(paths: DemoPaths) -> dict[str, Any] | None:
    """The `manager status --json` document, or None if it could not be read."""
    result = run_command(paths, "manager", "status", "--json", timeout=STATUS_TIMEOUT_SECONDS)
    if result.returncode not in (0, NOT_RUNNING):
        return None
    try:
        start = result.output.index("{")
        status, _ = json.JSONDecoder().raw_decode(result.output[start:])
    except ValueError:
        return None
    return dict(status) if isinstance(status, dict) else None


def _hidden(args: tuple[str, ...], hide: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(HIDDEN if i > 0 and args[i - 1] in hide else arg for i, arg in enumerate(args))


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _log(paths: DemoPaths, result: CommandResult) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with paths.commands_log.open("a", encoding="utf-8") as fh:
        fh.write(f"--- {stamp} upload-scheduler {' '.join(result.args)} -> {result.returncode}\n")
        fh.write(result.output.rstrip() + "\n")
