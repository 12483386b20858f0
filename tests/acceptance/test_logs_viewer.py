"""`upload-scheduler logs`: the multi-log viewer, run as a user runs it, its output
captured in a file (not a terminal: no colour codes)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from tests.acceptance.manager_helpers import cli, config_path, make_workdir, output, wait_for

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="ends the viewer with SIGINT (Ctrl+C)"),
]

FORMAT = "%(asctime)s %(levelname)s %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def file_logger(path: Path, max_bytes: int = 0) -> tuple[logging.Logger, logging.Handler]:
    """A daemon-like writer: the same format and, for one file, size rotation. The file
    is created by the first record."""
    logger = logging.getLogger(f"test_logs_viewer.{path.name}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=3, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    logger.addHandler(handler)
    return logger, handler


def test_lines_from_two_files_interleave_and_a_rotation_is_followed(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, ["acc_a", "acc_b"])
    logs = workdir / "logs"
    logs.mkdir()
    path_a = logs / "upload_scheduler_fake_acc_a.log"
    path_b = logs / "upload_scheduler_fake_acc_b.log"
    writer_a, handler_a = file_logger(path_a, max_bytes=200)  # rotates every 2-3 lines
    writer_b, handler_b = file_logger(path_b)
    late = logs / "upload_scheduler_fake_acc_c.log"  # a file that appears later
    writer_c, handler_c = file_logger(late)
    writer_a.info("old a (before the viewer)")
    writer_b.info("old b (before the viewer)")
    out_path = workdir / "viewer.out"
    command = [sys.executable, "-m", "upload_scheduler", "--config", str(config_path(workdir))]
    with open(out_path, "wb") as out:
        viewer = subprocess.Popen(
            [*command, "logs", "--tail", "1"],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            start_new_session=True,
        )
    expected = ["[acc_a] old a", "[acc_b] old b"]
    try:
        wait_for(lambda: "old b" in out_path.read_text(encoding="utf-8"), 20, "viewer ready")
        for n in range(6):
            writer, name = (writer_a, "acc_a") if n % 2 == 0 else (writer_b, "acc_b")
            level = ("INFO", "WARNING", "ERROR")[n % 3]
            writer.log(getattr(logging, level), "upload %d: ASIN B0TEST%03d", n, n)
            expected.append(f"[{name}] upload {n}")
            time.sleep(0.5)
        assert not late.exists()
        writer_c.info("upload 6 from a new file")
        expected.append("[acc_c] upload 6")
        wait_for(lambda: "upload 6" in out_path.read_text(encoding="utf-8"), 10, "all lines")
        viewer.send_signal(signal.SIGINT)  # Ctrl+C
        assert viewer.wait(timeout=10) == 0
    finally:
        if viewer.poll() is None:
            viewer.kill()
            viewer.wait(5)
        for logger, handler in (
            (writer_a, handler_a),
            (writer_b, handler_b),
            (writer_c, handler_c),
        ):
            logger.removeHandler(handler)
            handler.close()
    assert (logs / "upload_scheduler_fake_acc_a.log.1").exists()  # it did rotate
    text = out_path.read_text(encoding="utf-8")
    assert "\x1b[" not in text  # not a terminal: no colour codes
    shown = [line for line in text.splitlines() if line.startswith("[")]
    assert len(shown) == len(expected), text
    for line, start in zip(shown, expected, strict=True):
        prefix, _, message = start.partition("] ")
        assert line.startswith(prefix + "] "), text
        assert message in line, text
    assert "WARNING upload 1" in text and "ERROR upload 2" in text


def test_no_follow_shows_the_last_lines_of_one_account(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, ["acc_a", "acc_b"])
    logs = workdir / "logs"
    logs.mkdir()
    for account in ("acc_a", "acc_b"):
        lines = [f"2025-11-28 13:39:{n:02d} INFO {account} line {n}\n" for n in range(5)]
        (logs / f"upload_scheduler_fake_{account}.log").write_text("".join(lines))
    result = cli(workdir, "logs", "--no-follow", "--tail", "2", "--account", "acc_b")
    assert result.returncode == 0, output(result)
    assert result.stdout.splitlines() == [
        "[acc_b] 2025-11-28 13:39:03 INFO acc_b line 3",
        "[acc_b] 2025-11-28 13:39:04 INFO acc_b line 4",
    ]
