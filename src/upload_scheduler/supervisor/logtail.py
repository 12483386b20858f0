"""The multi-log viewer's logic (seed `view_multi_logs.py`), without any output: which
log files to follow, reading what was added to each, surviving rotation, and parsing a
line's time and level. The CLI colours and prints.

Files are opened, read and closed on every poll instead of being held open: on Windows
an open file cannot be renamed, and holding a log open would stop its daemon's
RotatingFileHandler from rotating it (the seed lost logs to a rotation conflict).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from upload_scheduler import defaults

LOG_PREFIX = "upload_scheduler_"
LOG_SUFFIX = ".log"
MANAGER_LABEL = "manager"
READ_BLOCK = 64 * 1024
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_HEAD = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:[.,]\d+)?\s+"
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\b"
)


@dataclass(frozen=True)
class LogLine:
    label: str  # the account id (or platform, or "manager"): the [prefix]
    text: str
    level: str | None  # own, or inherited from the record's first line (tracebacks)
    time: str | None  # own, or inherited: the sort key across files


@dataclass(frozen=True)
class LogSelection:
    """Which files to follow: `--platform`, `--account`."""

    platform: str | None = None
    account: str | None = None

    def wants(self, platform: str, account: str | None) -> bool:
        if self.platform is not None and platform != self.platform:
            return False
        return self.account is None or account == self.account

    @property
    def wants_manager(self) -> bool:
        return self.platform is None and self.account is None


def parse_head(text: str) -> tuple[str | None, str | None]:
    """(time, level) of a line that starts a log record, else (None, None)."""
    match = _HEAD.match(text)
    if match is None:
        return None, None
    return match["time"].replace("T", " "), match["level"]


def parse_log_name(name: str, platforms: Collection[str]) -> tuple[str, str | None] | None:
    """`upload_scheduler_base_base_account_1.log` -> ("base", "base_account_1");
    `upload_scheduler_base.log` -> ("base", None). Known platform names are tried
    first, since account ids (and platform names) may contain underscores."""
    if not (name.startswith(LOG_PREFIX) and name.endswith(LOG_SUFFIX)):
        return None
    stem = name[len(LOG_PREFIX) : -len(LOG_SUFFIX)]
    if not stem:
        return None
    for platform in sorted(platforms, key=len, reverse=True):
        if stem == platform:
            return platform, None
        if stem.startswith(platform + "_") and len(stem) > len(platform) + 1:
            return platform, stem[len(platform) + 1 :]
    platform, _, account = stem.partition("_")
    return platform, account or None


def discover(log_dir: Path, selection: LogSelection, platforms: Collection[str]) -> dict[Path, str]:
    """The log files to follow now, with their labels, in a stable order."""
    found: dict[Path, str] = {}
    try:
        names = sorted(os.listdir(log_dir))
    except OSError:
        return found
    for name in names:
        parsed = parse_log_name(name, platforms)
        if parsed is None:
            continue
        platform, account = parsed
        if selection.wants(platform, account):
            found[log_dir / name] = account or platform
    if selection.wants_manager and defaults.MANAGER_LOG_FILE in names:
        found[log_dir / defaults.MANAGER_LOG_FILE] = MANAGER_LABEL
    return found


def _identity(stat: os.stat_result) -> int | None:
    return stat.st_ino or None


class TailedFile:
    """One followed file: where we are in it, and what it was (its inode), so a
    rename-and-recreate rotation or a truncation is noticed."""

    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label
        self.position = 0
        self.inode: int | None = None
        self.pending = b""  # an unfinished last line, completed by a later read
        self.level: str | None = None
        self.time: str | None = None

    def skip_to_end(self) -> None:
        try:
            stat = self.path.stat()
        except OSError:
            return
        self.position, self.inode = stat.st_size, _identity(stat)

    def last_lines(self, count: int) -> list[LogLine]:
        """The last `count` complete lines; reading goes on from the end of the file."""
        try:
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                size = start = stat.st_size
                data = b""
                while start > 0 and data.count(b"\n") <= count:
                    start = max(0, start - READ_BLOCK)
                    handle.seek(start)
                    data = handle.read(size - start)
        except OSError:
            return []
        self.inode = _identity(stat)
        end = data.rfind(b"\n") + 1  # an unfinished last line is left for read_new
        self.position, self.pending = start + end, b""
        lines = data[:end].split(b"\n")[:-1]
        if start > 0:
            lines = lines[1:]  # the first one is cut
        return self._parse(lines[-count:]) if count > 0 else []

    def read_new(self) -> list[LogLine]:
        """Lines added since the last read. A rotated file's rest (now `name.1`) is read
        before the new file, so no line written around a rotation is lost."""
        try:
            stat = self.path.stat()
        except OSError:
            return []  # rotated and not yet recreated: the rest is read once it is
        data = b""
        inode = _identity(stat)
        if self.inode is not None and inode is not None and inode != self.inode:
            data = self._rest_of_rotated()
            if not data:
                self.pending = b""  # the rest is lost (rotated twice): start clean
            self.position = 0
        elif stat.st_size < self.position:
            self.position = 0  # truncated in place
            self.pending = b""
        self.inode = inode
        if stat.st_size > self.position:
            data += self._read_from(self.path, self.position)
        return self._lines(data)

    def _rest_of_rotated(self) -> bytes:
        rotated = self.path.with_name(self.path.name + ".1")
        try:
            stat = rotated.stat()
        except OSError:
            return b""
        if _identity(stat) != self.inode or stat.st_size <= self.position:
            return b""
        return self._read_from(rotated, self.position)

    def _read_from(self, path: Path, position: int) -> bytes:
        try:
            with open(path, "rb") as handle:
                handle.seek(position)
                data = handle.read()
        except OSError:
            return b""
        if path == self.path:
            self.position = position + len(data)
        return data

    def _lines(self, data: bytes) -> list[LogLine]:
        if not data:
            return []
        data = self.pending + data
        complete, _, self.pending = data.rpartition(b"\n")
        if not complete and not data.startswith(b"\n"):
            return []
        return self._parse(complete.split(b"\n"))

    def _parse(self, raw_lines: Iterable[bytes]) -> list[LogLine]:
        lines = []
        for raw in raw_lines:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            time, level = parse_head(text)
            if level is not None:
                self.time, self.level = time, level
            lines.append(LogLine(self.label, text, self.level, self.time))
        return lines


def in_arrival_order(batches: Iterable[list[LogLine]]) -> list[LogLine]:
    """Merge the lines read from several files in one pass by their record times
    (stable: a file's own order, and the read order within a second, are kept)."""
    merged = [line for batch in batches for line in batch]
    return sorted(merged, key=lambda line: line.time or "")


class LogFollower:
    """Follows every selected log file of a folder, including files that appear later."""

    def __init__(self, log_dir: Path, selection: LogSelection, platforms: Collection[str]) -> None:
        self.log_dir = log_dir
        self.selection = selection
        self.platforms = tuple(platforms)
        self.files: dict[Path, TailedFile] = {}

    def start(self, tail: int) -> list[LogLine]:
        """The last `tail` lines of each file there now, merged by time."""
        batches = []
        for path, label in discover(self.log_dir, self.selection, self.platforms).items():
            tailed = TailedFile(path, label)
            self.files[path] = tailed
            if tail > 0:
                batches.append(tailed.last_lines(tail))
            else:
                tailed.skip_to_end()
        return in_arrival_order(batches)

    def poll(self) -> list[LogLine]:
        """Everything added since the last poll; a new file is read from its start."""
        for path, label in discover(self.log_dir, self.selection, self.platforms).items():
            if path not in self.files:
                self.files[path] = TailedFile(path, label)
        return in_arrival_order(tailed.read_new() for tailed in self.files.values())
