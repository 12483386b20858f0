"""The sandboxes as separate processes on 127.0.0.1: BASE's, eBay's and Yahoo!'s, each
with a little latency, about 5% transient faults, and access tokens that run out during
the run.

Their output goes to a file, never to a pipe the demo would have to keep reading; the
first line names the URL. Every request is recorded to a JSONL file that outlives the
process, so the verdict can be drawn after it stopped.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from upload_scheduler.demo.procs import child_env, detached_flags, python_module, stop_process
from upload_scheduler.demo.workdir import DemoPaths

MODULE = "upload_scheduler.platforms.thebase.sandbox"
EBAY_MODULE = "upload_scheduler.platforms.ebay.sandbox"
YAHOO_MODULE = "upload_scheduler.platforms.yahoo.sandbox"
LISTENING = "Sandbox listening on "
START_TIMEOUT_SECONDS = 20.0
CONTROL_TIMEOUT_SECONDS = 5.0
# About 5% of API requests fail in a way the worker must retry: 500s, connection resets
# and lost responses (carried out, answer dropped: the at-most-once case). No hanging
# timeouts: each would cost the adapter's 30 s read timeout.
FAULTS = {"server-error": 0.025, "reset": 0.01, "lost-response": 0.015}
# eBay's own kinds: a 500 / 25001, a 500 / 25025 "concurrent access", lost answers.
EBAY_FAULTS = {"server-error": 0.02, "concurrency": 0.01, "reset": 0.005, "lost-response": 0.015}
# Yahoo!'s: a 500 "System error", a 503, resets, lost answers (no hangs, as above).
YAHOO_FAULTS = {"server-error": 0.02, "unavailable": 0.01, "reset": 0.005, "lost-response": 0.015}
# Yahoo! takes one request per API URL and store a second; the demo's sandbox a fifth of
# that (its 429 otherwise), and publishes a submitted item this soon.
YAHOO_URL_INTERVAL_SECONDS = 0.2
YAHOO_PUBLISH_DELAY_SECONDS = 0.5
LATENCY_SECONDS = 0.05
TOKEN_LIFETIME_SECONDS = 40
SEED = 20240601


class SandboxStartError(RuntimeError):
    pass


@dataclass
class SandboxProcess:
    process: subprocess.Popen[bytes]
    url: str
    pid_file: Path
    output: Path

    def stop(self) -> None:
        stop_process(self.process)
        self.pid_file.unlink(missing_ok=True)


def _common_args(record: Path) -> list[str]:
    """What every sandbox of the demo is started with: a free port on 127.0.0.1, the
    latency, short access tokens, the seed and the record file."""
    return [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--latency",
        str(LATENCY_SECONDS),
        "--token-lifetime",
        str(TOKEN_LIFETIME_SECONDS),
        "--seed",
        str(SEED),
        "--record",
        str(record),
    ]


def sandbox_command(paths: DemoPaths) -> list[str]:
    args = _common_args(paths.sandbox_record)
    for name, odds in FAULTS.items():
        args += [f"--p-{name}", str(odds)]
    return python_module(MODULE, *args)


def ebay_sandbox_command(
    paths: DemoPaths, client_secret: str, sellers_without_location: Collection[str]
) -> list[str]:
    """No faults at start: the login and `account setup` run on a quiet sandbox (they
    are shown, not tested here); `faults_on` turns them on before the manager starts."""
    args = [*_common_args(paths.ebay_sandbox_record), "--client-secret", client_secret]
    if sellers_without_location:
        args += ["--sellers-without-location", ",".join(sellers_without_location)]
    return python_module(EBAY_MODULE, *args)


def yahoo_sandbox_command(paths: DemoPaths, client_secret: str) -> list[str]:
    """Quiet at start as eBay's (the login is shown, not tested); a short per-URL
    interval and publish delay, so a store lists an item a second."""
    return python_module(
        YAHOO_MODULE,
        *_common_args(paths.yahoo_sandbox_record),
        "--client-secret",
        client_secret,
        "--url-interval",
        str(YAHOO_URL_INTERVAL_SECONDS),
        "--publish-delay",
        str(YAHOO_PUBLISH_DELAY_SECONDS),
    )


def start_sandbox(paths: DemoPaths) -> SandboxProcess:
    """Start BASE's and wait for its URL; raises SandboxStartError with its output if not."""
    return _start(sandbox_command(paths), paths.sandbox_output, paths.sandbox_pid, "sandbox")


def start_ebay_sandbox(
    paths: DemoPaths, client_secret: str, sellers_without_location: Collection[str]
) -> SandboxProcess:
    """Start eBay's; every App ID's secret is `client_secret`."""
    command = ebay_sandbox_command(paths, client_secret, sellers_without_location)
    return _start(command, paths.ebay_sandbox_output, paths.ebay_sandbox_pid, "eBay sandbox")


def start_yahoo_sandbox(paths: DemoPaths, client_secret: str) -> SandboxProcess:
    """Start Yahoo!'s; every client_id's secret is `client_secret`."""
    command = yahoo_sandbox_command(paths, client_secret)
    return _start(command, paths.yahoo_sandbox_output, paths.yahoo_sandbox_pid, "Yahoo! sandbox")


def faults_on(sandbox: SandboxProcess, odds: Mapping[str, float]) -> None:
    """Set a quiet sandbox's fault odds (POST /_sandbox/odds, which eBay's and Yahoo!'s
    both take). Raises httpx.HTTPError."""
    form = {name.replace("-", "_"): str(p) for name, p in odds.items()}
    answer = httpx.post(f"{sandbox.url}/_sandbox/odds", data=form, timeout=CONTROL_TIMEOUT_SECONDS)
    answer.raise_for_status()


def _start(command: list[str], output: Path, pid_file: Path, what: str) -> SandboxProcess:
    with output.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
            **detached_flags(),
        )
    pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
    sandbox = SandboxProcess(process, "", pid_file, output)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        url = _listening_url(output)
        if url:
            sandbox.url = url
            return sandbox
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sandbox.stop()
    text = output.read_text(encoding="utf-8", errors="replace").strip()
    raise SandboxStartError(
        f"the {what} did not start (see {output}): {text[-500:] or 'no output'}"
    )


def _listening_url(output: Path) -> str | None:
    try:
        first = output.read_text(encoding="utf-8", errors="replace").partition("\n")
    except OSError:
        return None
    if not first[1] or not first[0].startswith(LISTENING):
        return None
    return first[0][len(LISTENING) :].strip()
