"""The light daemon entry point the manager starts (`python -m upload_scheduler.worker`)
answers like `upload-scheduler daemon`, and loads neither Typer nor Rich."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli

CONFIG = """\
database = "sqlite:///us.db"
[accounts]
fake = ["acc_1"]
[platforms.fake]
api_base_url = "fake:items.db"
"""


def light(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "upload_scheduler.worker", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("daemon", "--platform", "nope"),
        ("daemon", "--platform", "fake", "--account", "nobody"),
        ("daemon", "--platform", "fake", "--start-hour", "5", "--end-hour", "5"),
    ],
)
def test_same_errors_and_exit_codes(tmp_path: Path, args: tuple[str, ...]) -> None:
    config = tmp_path / "upload-scheduler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    ours = light("--config", str(config), *args, cwd=tmp_path)
    cli = run_cli("--config", str(config), *args, cwd=tmp_path)
    assert ours.returncode == cli.returncode == 2, (ours.stderr, cli.stderr)
    assert ours.stderr.strip() == " ".join(cli.stderr.split()), (ours.stderr, cli.stderr)


def test_missing_config_exits_1(tmp_path: Path) -> None:
    result = light(
        "--config", str(tmp_path / "none.toml"), "daemon", "--platform", "x", cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no configuration file")


def test_imports_no_cli_libraries() -> None:
    code = (
        "import sys, upload_scheduler.worker.entry as e, upload_scheduler.worker.daemon;"
        "print(sorted(m for m in ('typer', 'rich', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Runs the light entry point in this interpreter and, once the daemon has logged its
# start (its engine, BASE adapter, HTTP client and notifier built), prints which of the
# libraries a daemon must not load are loaded, then ends the process.
WATCH_CHILD = """
import os, runpy, sys, threading, time
log, argv = sys.argv[1], sys.argv[2:]

def watch():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(log) and "daemon started" in open(log, encoding="utf-8").read():
            break
        time.sleep(0.05)
    heavy = ("pydantic", "typer", "rich", "click", "alembic", "filelock",
             "sqlalchemy.dialects.postgresql", "upload_scheduler.planning",
             "upload_scheduler.notify")
    print("loaded:", sorted(m for m in heavy if m in sys.modules), flush=True)
    os._exit(0)

threading.Thread(target=watch, daemon=True).start()
sys.argv = ["upload_scheduler.worker", *argv]
runpy.run_module("upload_scheduler.worker", run_name="__main__")
"""

BASE_CONFIG = """\
database = "sqlite:///us.db"
log_dir = "logs"
[accounts]
base = ["shop_1"]
[daemon]
business_hours_start = 0
business_hours_end = 24
[platforms.base]
api_base_url = "http://127.0.0.1:9"
client_id = "c"
client_secret = "s"
"""


def test_daemon_child_loads_no_pydantic_nor_cli_libraries(tmp_path: Path) -> None:
    """The issue's 45 MB per daemon process has no room for pydantic (~9 MB), Typer or
    Rich: the manager's child reads its config without them. A daemon on SQLite with no
    notifications configured needs neither the PostgreSQL dialect (2.7 MB), the planner,
    the notify package nor filelock (the database is migrated) either."""
    from upload_scheduler.naming import log_file_name
    from upload_scheduler.store.database import open_database

    config = tmp_path / "upload-scheduler.toml"
    config.write_text(BASE_CONFIG, encoding="utf-8")
    open_database(f"sqlite:///{tmp_path / 'us.db'}").dispose()  # migrated, as under a manager
    log = tmp_path / "logs" / log_file_name("base", "shop_1")
    args = ["--config", str(config), "daemon", "--platform", "base", "--account", "shop_1"]
    out = subprocess.run(
        [sys.executable, "-c", WATCH_CHILD, str(log), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )
    assert "daemon started" in log.read_text(encoding="utf-8"), out.stderr
    assert out.stdout.strip() == "loaded: []", (out.stdout, out.stderr)
