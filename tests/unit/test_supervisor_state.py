"""The state file: written whole, read back the same, unknown keys tolerated."""

from __future__ import annotations

import json
from pathlib import Path

from upload_scheduler.supervisor.state import (
    ChildRecord,
    ManagerRecord,
    read_state,
    write_json_atomic,
    write_state,
)


def test_state_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "multi_account_manager.state.json"
    record = ManagerRecord(
        pid=42,
        host="shop-pc",
        started_at="2025-11-28T04:39:15+00:00",
        state="running",
        processes=[
            ChildRecord("base", "base_account_1", pid=4242, restarts=2, last_exit_code=-9),
            ChildRecord("base", "base_account_2", crash_looping=True, state="crash_looping"),
        ],
    )
    write_state(path, record)
    again = read_state(path)
    assert again is not None
    assert again.pid == 42
    assert [p.key for p in again.processes] == ["base_base_account_1", "base_base_account_2"]
    assert again.processes[0].last_exit_code == -9
    assert again.processes[1].crash_looping
    assert again.updated_at is not None
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed


def test_unknown_keys_are_ignored_and_garbage_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    data = {"pid": 1, "host": "h", "started_at": "", "later_key": 1}
    data["processes"] = [{"platform": "base", "account_id": "a", "also_new": True}]
    path.write_text(json.dumps(data), encoding="utf-8")
    record = read_state(path)
    assert record is not None and record.processes[0].account_id == "a"
    path.write_text("{not json", encoding="utf-8")
    assert read_state(path) is None
    assert read_state(tmp_path / "missing.json") is None


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": "x" * 10_000})
    write_json_atomic(path, {"a": 1})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1}
