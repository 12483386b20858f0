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
