"""The real `upload-scheduler dashboard` process for a test: started in a workdir with a
config file, its address read from the first line it prints (`--port 0` picks a free
port), stopped again with its pipes closed. The CLI's acceptance tests and the browser
tests share it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

START_TIMEOUT = 30.0


@contextmanager
def serving(workdir: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboard process; yields its address from the first line it prints."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    full_env.pop("UPLOAD_SCHEDULER_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "upload_scheduler", "dashboard", "--port", "0", *flags],
        cwd=workdir,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        line = _first_line(process)
        found = re.fullmatch(r"Dashboard: (http://127\.0\.0\.1:(\d+)/)", line.strip())
        assert found, line
        assert int(found.group(2)) > 0
        url = found.group(1)
        _wait_until_answering(url)
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)  # also closes the pipes
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=15)


def _first_line(process: subprocess.Popen[str]) -> str:
    """The first stdout line, within START_TIMEOUT (read on a thread: a pipe's
    readline has no timeout of its own)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.daemon = True
    reader.start()
    reader.join(START_TIMEOUT)
    if not lines or not lines[0]:
        process.kill()
        _, err = process.communicate(timeout=15)
        pytest.fail(f"no address line within {START_TIMEOUT} s; stderr: {err}")
    return lines[0]


def _wait_until_answering(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            httpx.get(url + "healthz", timeout=2.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
