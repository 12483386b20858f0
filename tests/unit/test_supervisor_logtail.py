"""The log viewer's logic: which files, what is new in each, rotation, levels."""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from upload_scheduler.supervisor.logtail import (
    LogFollower,
    LogSelection,
    TailedFile,
    discover,
    in_arrival_order,
    parse_head,
    parse_log_name,
)

PLATFORMS = ("base", "fake")


def line(second: int, level: str, message: str) -> str:
    return f"2025-11-28 13:39:{second:02d} {level} {message}\n"


def append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("upload_scheduler_base_base_account_1.log", ("base", "base_account_1")),
        ("upload_scheduler_base.log", ("base", None)),
        ("upload_scheduler_fake_acc.log", ("fake", "acc")),
        ("upload_scheduler_ebay_shop_1.log", ("ebay", "shop_1")),  # unknown platform
        ("upload_scheduler_base_base_account_1.log.1", None),  # a rotated backup
        ("multi_account_manager.log", None),
        ("fake_acc.stderr", None),
    ],
)
def test_parse_log_name(name: str, expected: tuple[str, str | None] | None) -> None:
    assert parse_log_name(name, PLATFORMS) == expected


def test_parse_head() -> None:
    assert parse_head("2025-11-28 13:39:15 INFO upload success") == ("2025-11-28 13:39:15", "INFO")
    assert parse_head("2025-11-28 13:39:15 ERROR boom")[1] == "ERROR"
    assert parse_head("Traceback (most recent call last):") == (None, None)
    assert parse_head("2025-11-28 13:39:15 INFORMATION x") == (None, None)


def test_discover_filters_by_platform_and_account(tmp_path: Path) -> None:
    for name in (
        "upload_scheduler_base_base_account_1.log",
        "upload_scheduler_base_base_account_2.log",
        "upload_scheduler_base.log",
        "upload_scheduler_fake_acc.log",
        "upload_scheduler_base_base_account_1.log.1",
        "multi_account_manager.log",
    ):
        (tmp_path / name).write_text("", encoding="utf-8")
    everything = discover(tmp_path, LogSelection(), PLATFORMS)
    assert sorted(everything.values()) == [
        "acc",
        "base",
        "base_account_1",
        "base_account_2",
        "manager",
    ]
    base = discover(tmp_path, LogSelection(platform="base"), PLATFORMS)
    assert sorted(base.values()) == ["base", "base_account_1", "base_account_2"]
    one = discover(tmp_path, LogSelection(account="base_account_2"), PLATFORMS)
    assert list(one.values()) == ["base_account_2"]
    assert discover(tmp_path / "missing", LogSelection(), PLATFORMS) == {}


def test_last_lines_then_only_new_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "upload_scheduler_base_a.log"
    append(path, "".join(line(s, "INFO", f"old {s}") for s in range(5)))
    tailed = TailedFile(path, "a")
    assert [x.text[-5:] for x in tailed.last_lines(2)] == ["old 3", "old 4"]
    assert tailed.read_new() == []
    append(path, line(6, "WARNING", "new") + "2025-11-28 13:39:07 ERR")
    new = tailed.read_new()
    assert [(x.label, x.level, x.text[-3:]) for x in new] == [("a", "WARNING", "new")]
    append(path, "OR half written\n")  # the rest of a line being written
    assert [x.text for x in tailed.read_new()] == ["2025-11-28 13:39:07 ERROR half written"]


def test_last_lines_of_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    append(path, "".join(line(i % 60, "INFO", f"n{i} " + "x" * 200) for i in range(2000)))
    lines = TailedFile(path, "a").last_lines(100)
    assert len(lines) == 100
    assert lines[-1].text.split()[3] == "n1999"
    assert lines[0].text.split()[3] == "n1900"


def test_continuation_lines_inherit_the_level(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    append(path, line(1, "ERROR", "failed") + "Traceback (most recent call last):\n")
    lines = TailedFile(path, "a").read_new()
    assert [x.level for x in lines] == ["ERROR", "ERROR"]
    assert lines[1].time == lines[0].time


def test_follows_a_rename_rotation_without_losing_lines(tmp_path: Path) -> None:
    path = tmp_path / "upload_scheduler_base_a.log"
    append(path, line(1, "INFO", "one"))
    tailed = TailedFile(path, "a")
    assert [x.text[-3:] for x in tailed.read_new()] == ["one"]
    append(path, line(2, "INFO", "two"))  # written, not yet read, then rotated
    os.replace(path, path.with_name(path.name + ".1"))
    append(path, line(3, "INFO", "three"))
    assert [x.text.split()[-1] for x in tailed.read_new()] == ["two", "three"]
    append(path, line(4, "INFO", "four"))
    assert [x.text.split()[-1] for x in tailed.read_new()] == ["four"]


def test_follows_a_truncation(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    append(path, line(1, "INFO", "first line that is long"))
    tailed = TailedFile(path, "a")
    tailed.read_new()
    path.write_text(line(2, "INFO", "short"), encoding="utf-8")
    assert [x.text.split()[-1] for x in tailed.read_new()] == ["short"]


def test_follows_rotating_file_handler(tmp_path: Path) -> None:
    """The daemons' own handler: size rotation with backups."""
    path = tmp_path / "upload_scheduler_base_a.log"
    handler = RotatingFileHandler(path, maxBytes=150, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("2025-11-28 13:39:00 %(levelname)s %(message)s"))
    logger = logging.getLogger("test_supervisor_logtail.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    tailed = TailedFile(path, "a")
    seen: list[str] = []
    try:
        for n in range(12):
            logger.info("message %02d", n)
            if n % 2:  # read every second record: one rotation may fall between reads
                seen += [x.text.split()[-1] for x in tailed.read_new()]
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert seen == [f"{n:02d}" for n in range(12)]


def test_follower_merges_files_in_time_order_and_picks_up_new_files(tmp_path: Path) -> None:
    a = tmp_path / "upload_scheduler_base_acc_a.log"
    b = tmp_path / "upload_scheduler_base_acc_b.log"
    append(a, line(1, "INFO", "a-old"))
    follower = LogFollower(tmp_path, LogSelection(), ["base"])
    assert [(x.label, x.text.split()[-1]) for x in follower.start(5)] == [("acc_a", "a-old")]
    append(a, line(3, "INFO", "a3"))
    append(b, line(2, "INFO", "b2") + line(4, "ERROR", "b4"))  # b appears later
    merged = follower.poll()
    assert [(x.label, x.text.split()[-1]) for x in merged] == [
        ("acc_b", "b2"),
        ("acc_a", "a3"),
        ("acc_b", "b4"),
    ]
    assert follower.poll() == []


def test_tail_zero_starts_at_the_end(tmp_path: Path) -> None:
    a = tmp_path / "upload_scheduler_base_acc_a.log"
    append(a, line(1, "INFO", "old"))
    follower = LogFollower(tmp_path, LogSelection(), ["base"])
    assert follower.start(0) == []
    append(a, line(2, "INFO", "new"))
    assert [x.text.split()[-1] for x in follower.poll()] == ["new"]


def test_in_arrival_order_is_stable_within_a_second() -> None:
    from upload_scheduler.supervisor.logtail import LogLine

    first = [LogLine("a", "x", "INFO", "2025-11-28 13:39:01")]
    second = [LogLine("b", "y", "INFO", "2025-11-28 13:39:01")]
    assert [x.label for x in in_arrival_order([first, second])] == ["a", "b"]
