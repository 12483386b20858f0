"""The BASE sandbox as a separate process on 127.0.0.1: a little latency, about 5%
transient faults, and access tokens that run out during the run.

Its output goes to a file, never to a pipe the demo would have to keep reading; the
first line names its URL. Every request is recorded to a JSONL file that outlives it,
so the verdict can be drawn after it stopped.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from upload_scheduler.demo.procs import child_env, detached_flags, python_module, stop_process
from upload_scheduler.demo.workdir import DemoPaths

MODULE = "upload_scheduler.platforms.thebase.sandbox"
LISTENING = "Sandbox listening on "
START_TIMEOUT_SECONDS = 20.0
# About 5% of API requests fail in a way the worker must retry: 500s, connection resets
# and lost responses (carried out, answer dropped: the at-most-once case). No hanging
# timeouts: each would cost the adapter's 30 s read timeout.
FAULTS = {"server-error": 0.025, "reset": 0.01, "lost-response": 0.015}
LATENCY_SECONDS = 0.05
TOKEN_LIFETIME_SECONDS = 40
SEED = 20240601


class SandboxStartError(RuntimeError):
    pass


@dataclass
class SandboxProcess:
    process: subprocess.Popen[bytes]
    url: str
    paths: DemoPaths

    def stop(self) -> None:
        stop_process(self.process)
        self.paths.sandbox_pid.unlink(missing_ok=True)


def sandbox_command(paths: DemoPaths) -> list[str]:
    args = [
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
        str(paths.sandbox_record),
    ]
    for name, odds in FAULTS.items():
        args += [f"--p-{name}", str(odds)]
    return python_module(MODULE, *args)


def start_sandbox(paths: DemoPaths) -> SandboxProcess:
    """Start it and wait for its URL; raises SandboxStartError with its output if not."""
    with paths.sandbox_output.open("wb") as out:
        process = subprocess.Popen(
            sandbox_command(paths),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
            **detached_flags(),
        )
    paths.sandbox_pid.write_text(f"{process.pid}\n", encoding="utf-8")
    sandbox = SandboxProcess(process, "", paths)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        url = _listening_url(paths.sandbox_output)
        if url:
            sandbox.url = url
            return sandbox
        if process.poll() is not None:
            break
        time.sleep(0.05)
    sandbox.stop()
    output = paths.sandbox_output.read_text(encoding="utf-8", errors="replace").strip()
    raise SandboxStartError(
        f"the sandbox did not start (see {paths.sandbox_output}): {output[-500:] or 'no output'}"
    )


def _listening_url(output: Path) -> str | None:
    try:
        first = output.read_text(encoding="utf-8", errors="replace").partition("\n")
    except OSError:
        return None
    if not first[1] or not first[0].startswith(LISTENING):
        return None
    return first[0][len(LISTENING) :].strip()
