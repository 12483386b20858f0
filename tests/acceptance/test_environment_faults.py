"""Faults of the machine, run as a user meets them (issue 15): each command ends with one
line naming the file, server or setting, exit status 2, no traceback, and the database
still holds what it held. And commands that only read never create a database.

The tests run as root in CI, where file modes stop nobody: a read-only folder is a tmpfs
remounted read-only, a full disk a 1 MB tmpfs, and an unreadable config file is read by a
CLI run as `nobody` (setpriv). Unprivileged, the same faults come from chmod and from a
file-size limit (RLIMIT_FSIZE) in the CLI's process."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.acceptance.cli import TIMEOUT_SECONDS, run_cli

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name != "posix", reason="file modes, mounts and rlimits are POSIX"),
]

ROOT = os.name == "posix" and os.geteuid() == 0
PG_PASSWORD = "s3cret-pw"
CONFIG = """\
database = "{database}"
log_dir = "{log_dir}"
timezone = "Asia/Tokyo"

[accounts]
base = ["a1"]
"""
PRODUCTS = "asin,title,price\nB000000001,one,1000\nB000000002,two,2000\nB000000003,three,3000\n"


@dataclass
class Workdir:
    path: Path
    mounts: list[Path]

    @property
    def db(self) -> Path:
        return self.path / "db" / "us.db"

    def write_config(self, database: str = "sqlite:///db/us.db", log_dir: str = "logs") -> None:
        text = CONFIG.format(database=database, log_dir=log_dir)
        (self.path / "upload-scheduler.toml").write_text(text, encoding="utf-8")

    def mount_tmpfs(self, folder: Path, size: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True
        )
        self.mounts.append(folder)

    def make_read_only(self, folder: Path) -> None:
        if ROOT:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        else:
            folder.chmod(0o555)

    def make_writable(self, folder: Path) -> None:
        if ROOT:
            subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def _can_mount() -> bool:
    return ROOT and shutil.which("mount") is not None


@pytest.fixture
def workdir() -> Iterator[Workdir]:
    """A folder `nobody` may enter (pytest's tmp_path is root's alone), with the database
    folder on its own 1 MB tmpfs when root, so it can be filled or made read-only."""
    if ROOT and not _can_mount():
        pytest.skip("root without mount: neither file modes nor a tmpfs can make the faults")
    path = Path(tempfile.mkdtemp(prefix="env-faults-"))
    path.chmod(0o755)
    work = Workdir(path, [])
    if ROOT:
        work.mount_tmpfs(path / "db", "1m")
    try:
        yield work
    finally:
        for folder in reversed(work.mounts):
            subprocess.run(["umount", str(folder)], check=False)
        for folder in (path, path / "db", path / "ro"):
            if folder.exists():
                folder.chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def seeded(work: Workdir) -> None:
    """Three products, one queued, made through the CLI as a user would."""
    work.write_config()
    (work.path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    for args in (("products", "import", "products.csv"), ("add-to-queue", "--limit", "1")):
        result = run_cli(*args, cwd=work.path)
        assert result.returncode == 0, result.stderr


def contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """What the database holds, read without writing (immutable: no -wal, no -shm)."""
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("products", "listings", "upload_queue", "account_state")
        }
    finally:
        conn.close()


# ---------------------------------------------------------------------- the faults


@dataclass
class Fault:
    """`prepare` makes the fault and returns what must survive it; `check` says it did."""

    prepare: Callable[[Workdir], object]
    undo: Callable[[Workdir, object], object] = lambda work, before: before
    runner: str = "plain"  # "nobody": run the CLI as nobody; "fsize": with RLIMIT_FSIZE


def unreadable_config(work: Workdir) -> object:
    work.write_config()
    config = work.path / "upload-scheduler.toml"
    config.chmod(0o000)
    return config.read_bytes()  # root still reads it: the file itself must survive


def config_back(work: Workdir, before: object) -> object:
    config = work.path / "upload-scheduler.toml"
    config.chmod(0o600)
    return config.read_bytes()


def read_only_database_folder(work: Workdir) -> object:
    seeded(work)
    before = contents(work.db)
    work.make_read_only(work.db.parent)
    return before


def database_back(work: Workdir, before: object) -> object:
    work.make_writable(work.db.parent)
    return contents(work.db)


def full_disk(work: Workdir) -> object:
    seeded(work)
    before = contents(work.db)
    if ROOT:  # fill the database's 1 MB tmpfs to the last byte
        fd = os.open(work.db.parent / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:  # ENOSPC: full
            pass
        finally:
            os.close(fd)
    return before


def disk_back(work: Workdir, before: object) -> object:
    (work.db.parent / "filler").unlink(missing_ok=True)
    return contents(work.db)


def corrupt_database(work: Workdir) -> object:
    work.write_config()
    work.db.parent.mkdir(exist_ok=True)
    work.db.write_bytes(os.urandom(64 * 1024))
    return work.db.read_bytes()


def corrupt_back(work: Workdir, before: object) -> object:
    return work.db.read_bytes()


def unwritable_log_folder(work: Workdir) -> object:
    seeded(work)
    work.write_config(log_dir="ro/logs")
    if ROOT:
        work.mount_tmpfs(work.path / "ro", "64k")
    else:
        (work.path / "ro").mkdir()
    work.make_read_only(work.path / "ro")
    return contents(work.db)


def log_back(work: Workdir, before: object) -> object:
    return contents(work.db)


def postgres_unreachable(work: Workdir) -> object:
    # Port 1 on loopback: nothing listens there; the password must never be printed.
    work.write_config(database=f"postgresql://uploader:{PG_PASSWORD}@127.0.0.1:1/scheduler")
    return sorted(p.name for p in work.path.iterdir())


def postgres_back(work: Workdir, before: object) -> object:
    return sorted(p.name for p in work.path.iterdir())


FAULTS = {
    "unreadable config": Fault(unreadable_config, config_back, runner="nobody"),
    "read-only database folder": Fault(read_only_database_folder, database_back),
    "full disk": Fault(full_disk, disk_back, runner="plain" if ROOT else "fsize"),
    "corrupt database": Fault(corrupt_database, corrupt_back),
    "unwritable log_dir": Fault(unwritable_log_folder, log_back),
    "PostgreSQL unreachable": Fault(postgres_unreachable, postgres_back),
}

DAEMON = ("daemon", "--platform", "base", "--account", "a1")
CASES = [
    ("unreadable config", ("config", "check")),
    ("unreadable config", ("check-queue",)),
    ("read-only database folder", ("add-to-queue",)),
    ("read-only database folder", ("account", "pause", "--platform", "base", "--account", "a1")),
    ("full disk", ("add-to-queue",)),
    ("full disk", ("account", "pause", "--platform", "base", "--account", "a1")),
    ("full disk", ("queue", "cancel", "--all")),
    ("corrupt database", ("db", "status")),
    ("corrupt database", ("check-queue",)),
    ("unwritable log_dir", DAEMON),
    ("PostgreSQL unreachable", ("check-queue",)),
    ("PostgreSQL unreachable", ("db", "status")),
    ("PostgreSQL unreachable", ("token", "status")),
    ("PostgreSQL unreachable", ("account", "list")),
]


def run_with_fault(work: Workdir, runner: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, as the user the fault needs."""
    if runner == "plain":
        return run_cli(*args, cwd=work.path)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("UPLOAD_SCHEDULER_CONFIG", None)
    command = [sys.executable, "-m", "upload_scheduler", *args]
    preexec: Callable[[], None] | None = None
    if runner == "nobody" and ROOT:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: a mode-000 file stays readable")
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    elif runner == "fsize":
        import resource

        limit = os.path.getsize(work.db)

        def preexec() -> None:  # writes past the database's size now fail with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        command,
        cwd=work.path,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_SECONDS,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec,
    )


@pytest.mark.parametrize(
    ("fault", "args"), CASES, ids=[f"{fault}: {' '.join(args)}" for fault, args in CASES]
)
def test_an_environment_fault_ends_in_one_line_and_exit_status_2(
    workdir: Workdir, fault: str, args: tuple[str, ...]
) -> None:
    case = FAULTS[fault]
    before = case.prepare(workdir)

    result = run_with_fault(workdir, case.runner, *args)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert PG_PASSWORD not in result.stderr + result.stdout
    assert case.undo(workdir, before) == before  # nothing lost, nothing half-written


def test_debug_shows_the_traceback_and_keeps_the_exit_status(workdir: Workdir) -> None:
    corrupt_database(workdir)

    by_flag = run_cli("--debug", "db", "status", cwd=workdir.path)
    by_env = run_cli("db", "status", cwd=workdir.path, env={"UPLOAD_SCHEDULER_DEBUG": "1"})

    for result in (by_flag, by_env):
        assert result.returncode == 2
        assert "Traceback" in result.stderr
        assert result.stderr.splitlines()[-1].startswith("error: ")


def test_the_line_names_the_file_or_server_and_the_setting(workdir: Workdir) -> None:
    corrupt_database(workdir)
    corrupt = run_cli("check-queue", cwd=workdir.path)
    postgres_unreachable(workdir)
    postgres = run_cli("account", "list", cwd=workdir.path)

    assert str(workdir.db) in corrupt.stderr and "database_url" in corrupt.stderr
    assert "uploader:***@127.0.0.1:1/scheduler" in postgres.stderr
    assert "database_url" in postgres.stderr


# ---------------------------------------------------------------------- read-only commands

READ_ONLY = [
    ("check-queue",),
    ("db", "status"),
    ("token", "status"),
    ("account", "list"),
    ("manager", "status"),
    ("config", "check"),
    ("logs", "--no-follow"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=[" ".join(a) for a in READ_ONLY])
def test_a_command_that_only_reads_never_creates_the_database(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    config = CONFIG.format(database="sqlite:///data/us.db", log_dir="logs")
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")

    result = run_cli(*args, cwd=tmp_path)

    assert not (tmp_path / "data" / "us.db").exists()
    assert "Traceback" not in result.stderr
    if args[0] in ("check-queue", "db", "token", "account"):
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "does not exist yet" in result.stderr
    if args == ("config", "check"):
        assert result.returncode == 0, result.stderr
        assert "does not exist yet" in result.stdout


def test_a_command_that_writes_still_creates_it(tmp_path: Path) -> None:
    config = CONFIG.format(database="sqlite:///data/us.db", log_dir="logs")
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")

    result = run_cli("products", "import", "products.csv", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "us.db").exists()
    assert run_cli("check-queue", cwd=tmp_path).returncode == 0
