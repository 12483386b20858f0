"""The daemon's flags are declared once (`worker/flags.py`): `upload-scheduler daemon`
(Typer) and the light entry point (argparse) take the same flags, with the same help and
bounds, and hand `run_daemon` the same values."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from upload_scheduler.cli.app import app
from upload_scheduler.worker import entry
from upload_scheduler.worker.flags import DAEMON_FLAGS, DAEMON_HELP

CONFIG = """\
database = "sqlite:///us.db"
[accounts]
fake = ["acc_1"]
[platforms.fake]
api_base_url = "fake:items.db"
"""


def typer_command() -> Any:
    return typer.main.get_command(app).commands["daemon"]  # type: ignore[attr-defined]


def argparse_actions() -> dict[str, argparse.Action]:
    root = entry.parser()
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    daemon = sub.choices["daemon"]
    assert daemon.description == DAEMON_HELP
    return {a.option_strings[0]: a for a in daemon._actions if a.option_strings[0] != "-h"}


def test_both_front_ends_take_the_table_s_flags() -> None:
    command = typer_command()
    assert command.help == DAEMON_HELP
    options = {p.opts[0]: p for p in command.params}
    actions = argparse_actions()
    names = [flag.name for flag in DAEMON_FLAGS]
    assert [n for n in options if n != "--help"] == names
    assert list(actions) == names
    for flag in DAEMON_FLAGS:
        option, action = options[flag.name], actions[flag.name]
        assert option.required == action.required == flag.required
        assert option.help is not None and action.help == flag.help
        assert option.help.replace("\\[", "[") == flag.help
        assert option.is_flag == flag.is_switch == (action.nargs == 0)
        assert (option.min, option.max) == (flag.minimum, flag.maximum)
        assert option.type_descriptor.annotation is flag.kind


ARGV = [
    ["--platform", "fake"],
    ["--platform", "fake", "--account", "acc_1", "--standby"],
    [
        "--platform", "fake", "--interval", "0.5", "--batch-size", "3",
        "--start-hour", "22", "--end-hour", "2",
    ],
]  # fmt: skip


@pytest.mark.parametrize("argv", ARGV)
def test_both_front_ends_pass_the_same_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    config = tmp_path / "upload-scheduler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(entry, "run_daemon", lambda settings, **values: calls.append(values))
    assert entry.main(["--config", str(config), "daemon", *argv]) == 0
    result = CliRunner().invoke(app, ["--config", str(config), "daemon", *argv])
    assert result.exit_code == 0, result.output
    light, cli = calls
    assert light == cli
    assert set(light) == {flag.dest for flag in DAEMON_FLAGS}
    assert light["platform"] == "fake"


@pytest.mark.parametrize(
    "argv",
    [
        ["--platform", "fake", "--interval", "0"],
        ["--platform", "fake", "--batch-size", "0"],
        ["--platform", "fake", "--start-hour", "25"],
        ["--platform", "fake", "--end-hour", "-1"],
        ["--platform", "fake", "--batch-size", "x"],
        ["--account", "acc_1"],
    ],
)
def test_both_front_ends_refuse_the_same_values_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setattr(entry, "run_daemon", lambda *_, **__: pytest.fail("ran"))
    with pytest.raises(SystemExit) as light:
        entry.main(["--config", str(tmp_path / "none.toml"), "daemon", *argv])
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "none.toml"), "daemon", *argv])
    assert light.value.code == result.exit_code == 2
