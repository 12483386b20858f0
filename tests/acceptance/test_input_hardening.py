"""Issue 15, "Input": hostile or absurd input through the real command line ends in one
message and a documented exit status, never a traceback, and never reaches a terminal or
a path outside log_dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli

CONFIG = """\
database = "sqlite:///data/q.db"
log_dir = "logs"

[accounts]
base = ["shop_1"]
"""


def workspace(tmp_path: Path, text: str = CONFIG) -> Path:
    (tmp_path / "upload-scheduler.toml").write_text(text, encoding="utf-8")
    return tmp_path


def no_traceback(result: object) -> None:
    assert "Traceback" not in getattr(result, "stderr", "") + getattr(result, "stdout", "")


def imported_asins(cwd: Path) -> dict[str, int]:
    status = run_cli("db", "status", "--json", cwd=cwd)
    assert status.returncode == 0, status.stderr
    return json.loads(status.stdout)["products"]


# --- products import -----------------------------------------------------------------


def test_a_lone_surrogate_and_an_escape_code_asin_are_bad_rows_by_line(tmp_path: Path) -> None:
    cwd = workspace(tmp_path)
    lines = [
        '{"asin": "A1", "title": "good", "price": 100}',
        '{"asin": "A2", "title": "bad \\ud83d", "price": 100}',
        json.dumps({"asin": "A3\x1b[2J\x1b[31mX", "title": "t", "price": 100}),
        json.dumps({"asin": "A4 5", "title": "t", "price": 100}),
        '{"asin": "A5", "title": "also good", "price": 200}',
    ]
    (cwd / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = run_cli("products", "import", "p.jsonl", cwd=cwd)

    no_traceback(result)
    assert result.returncode == 1
    assert "line 2: title: not valid Unicode" in result.stderr
    assert "line 3: asin: not printable ASCII" in result.stderr
    assert "line 4: asin: not printable ASCII" in result.stderr
    assert "\x1b" not in result.stderr + result.stdout
    assert "Imported: 2 (2 new, 0 updated)" in result.stdout
    assert imported_asins(cwd) == {"rows": 2}


@pytest.mark.parametrize("name", ["p.csv", "p.jsonl"])
def test_a_field_over_one_megabyte_is_a_bad_row_in_both_formats(tmp_path: Path, name: str) -> None:
    cwd = workspace(tmp_path)
    big = "x" * (10 * 1024 * 1024)
    rows = [("A1", "small"), ("A2", big), ("A3", "small too")]
    if name.endswith(".csv"):
        text = "asin,title,price\n" + "".join(f"{a},{t},100\n" for a, t in rows)
        bad_line = 3
    else:
        text = "".join(json.dumps({"asin": a, "title": t, "price": 100}) + "\n" for a, t in rows)
        bad_line = 2
    (cwd / name).write_text(text, encoding="utf-8")

    result = run_cli("products", "import", name, cwd=cwd)

    no_traceback(result)
    assert result.returncode == 1
    assert f"line {bad_line}: title: " in result.stderr and "larger than 1 MB" in result.stderr
    assert "Imported: 2 (2 new, 0 updated)" in result.stdout


@pytest.mark.parametrize(("name", "text"), [("p.csv", ""), ("p.jsonl", ""), ("p.jsonl", "\n\n")])
def test_an_empty_file_has_no_rows_and_exits_1(tmp_path: Path, name: str, text: str) -> None:
    cwd = workspace(tmp_path)
    (cwd / name).write_text(text, encoding="utf-8")
    result = run_cli("products", "import", name, cwd=cwd)
    no_traceback(result)
    assert result.returncode == 1
    assert "the file has no rows" in result.stderr


# --- configuration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ('[accounts]\nbase = ["../escape"]\n', "account id '../escape' may only hold"),
        ('[accounts]\nbase = ["a/b"]\n', "account id 'a/b' may only hold"),
        ('[accounts]\nbase = ["a\\\\b"]\n', "may only hold"),
        ('[accounts]\nbase = ["x..y"]\n', "may only hold"),
        ('[accounts]\nbase = ["shop_1"]\n[daemon]\ninterval_seconds = 1e12\n', "interval_seconds"),
        ('[accounts]\nbase = ["shop_1"]\n[daemon]\ninterval_seconds = 1e300\n', "interval_seconds"),
        (
            '[accounts]\nbase = ["shop_1"]\n[platforms.base]\nmin_interval_seconds = 86401\n',
            "min_interval_seconds",
        ),
        (
            '[accounts]\nbase = ["shop_1"]\n[platforms.base]\nretry_delay_seconds = 1e9\n',
            "retry_delay_seconds",
        ),
        ('[accounts]\nbase = ["shop_1"]\n[cluster]\nlease_ttl_seconds = 1e12\n', "lease_ttl"),
        (
            'database = "mysql://root:hunter2@db/x"\n[accounts]\nbase = ["shop_1"]\n',
            "mysql:// is not supported",
        ),
    ],
)
def test_config_check_reports_settings_that_cannot_run(
    tmp_path: Path, bad: str, expected: str
) -> None:
    text = bad if bad.startswith("database") else 'database = "sqlite:///q.db"\n' + bad
    cwd = workspace(tmp_path, text)

    check = run_cli("config", "check", cwd=cwd)
    no_traceback(check)
    assert check.returncode == 1, check.stdout
    assert expected in check.stderr
    assert "hunter2" not in check.stderr

    # Every command refuses the file, not only config check.
    other = run_cli("check-queue", cwd=cwd)
    no_traceback(other)
    assert other.returncode == 1 and expected in other.stderr


def test_a_day_is_the_longest_interval_accepted(tmp_path: Path) -> None:
    cwd = workspace(
        tmp_path,
        'database = "sqlite:///q.db"\n[accounts]\nbase = ["shop.1-a_B"]\n'
        "[daemon]\ninterval_seconds = 86400\n[cluster]\nlease_ttl_seconds = 86400\n",
    )
    result = run_cli("config", "check", cwd=cwd)
    assert result.returncode == 0, result.stderr


# --- account pause --until -------------------------------------------------------------


@pytest.mark.parametrize(
    "until", ["99999999d", "9" * 400 + "d", "9999-12-31 23:59", "9999-12-31T23:59:59-12:00", "400d"]
)
def test_an_absurd_pause_end_is_refused_with_exit_2(tmp_path: Path, until: str) -> None:
    cwd = workspace(tmp_path)
    result = run_cli("account", "pause", "--account", "shop_1", "--until", until, cwd=cwd)
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "more than 366 days ahead" in result.stderr


def test_a_pause_within_a_year_is_accepted(tmp_path: Path) -> None:
    cwd = workspace(tmp_path)
    result = run_cli("account", "pause", "--account", "shop_1", "--until", "300d", cwd=cwd)
    assert result.returncode == 0, result.stderr
