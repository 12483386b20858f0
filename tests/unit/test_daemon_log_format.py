"""The daemon's log lines: a value holding a newline or a terminal escape code cannot
forge a line or reach the terminal of whoever reads the log (issue 15)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from upload_scheduler.worker.logs import ROOT_LOGGER, escape_controls, setup_daemon_logging


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = setup_daemon_logging(tmp_path, "d.log", ZoneInfo("Asia/Tokyo"), console=False)
    yield path
    logger = logging.getLogger(ROOT_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_a_value_cannot_forge_a_log_line(log_file: Path) -> None:
    log = logging.getLogger(f"{ROOT_LOGGER}.test")
    forged = "A1\n2026-01-01 00:00:00 INFO uploaded FAKE\x1b[2J\x1b]0;title\x07\u2028x"
    log.info("uploaded %s (%d image(s), %.1f s)", forged, 3, 1.25)
    log.warning("item %(asin)s refused", {"asin": "B\r\n2"})

    lines = log_file.read_text(encoding="utf-8").splitlines()

    assert len(lines) == 2
    assert lines[0].endswith(
        "uploaded A1\\n2026-01-01 00:00:00 INFO uploaded FAKE\\x1b[2J\\x1b]0;title\\x07"
        "\\u2028x (3 image(s), 1.2 s)"
    )
    assert lines[1].endswith("item B\\r\\n2 refused")


def test_a_traceback_keeps_its_lines(log_file: Path) -> None:
    log = logging.getLogger(f"{ROOT_LOGGER}.test")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed on %s", "x\ny")
    text = log_file.read_text(encoding="utf-8")
    assert "failed on x\\ny\nTraceback (most recent call last):" in text


def test_plain_text_is_unchanged() -> None:
    assert escape_controls("ポケモンカード ① 1,980円") == "ポケモンカード ① 1,980円"
