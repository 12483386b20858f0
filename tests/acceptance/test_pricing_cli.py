"""`config check` shows each account's effective pricing, through the real command line
(issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.acceptance.cli import run_cli

CONFIG = """\
database = "sqlite:///q.db"

[accounts]
base = ["shop_1", "shop_2"]

[platforms.base.pricing]
markup = 1.2

[account_overrides.shop_2]
pricing.currency = "USD"
pricing.exchange_rate = 149.5
"""


def _row(stdout: str, key: str) -> list[str]:
    """The cells of the table row `key`, without borders and markers."""
    line = next(line for line in stdout.splitlines() if re.search(rf"\b{re.escape(key)}\b", line))
    return [cell.strip() for cell in re.split(r"[│┃|]", line) if cell.strip()]


def test_config_check_shows_the_effective_pricing_of_each_account(tmp_path: Path) -> None:
    (tmp_path / "upload-scheduler.toml").write_text(CONFIG, encoding="utf-8")
    result = run_cli("config", "check", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert _row(result.stdout, "pricing.currency") == ["pricing.currency", "JPY", "USD (override)"]
    assert _row(result.stdout, "pricing.exchange_rate") == [
        "pricing.exchange_rate",
        "1.0",
        "149.5 (override)",
    ]
    assert _row(result.stdout, "pricing.markup") == ["pricing.markup", "1.2", "1.2"]


def test_config_check_refuses_an_unknown_currency(tmp_path: Path) -> None:
    (tmp_path / "upload-scheduler.toml").write_text(
        CONFIG.replace('"USD"', '"US$"'), encoding="utf-8"
    )
    result = run_cli("config", "check", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 1
    assert "[account_overrides.shop_2] pricing: unknown currency 'US$'" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_check_warns_of_dollars_at_one_yen_and_keeps_the_file_valid(
    tmp_path: Path,
) -> None:
    """An eBay seller without an exchange rate (as import-legacy writes it) would list a
    ¥1,800 product at $1,800: a warning naming the seller, exit 0 all the same."""
    config = CONFIG.replace('base = ["shop_1", "shop_2"]', 'base = ["shop_1"]\nebay = ["seller"]')
    config = config.replace("[account_overrides.shop_2]", "[account_overrides.shop_1]")
    (tmp_path / "upload-scheduler.toml").write_text(config, encoding="utf-8")
    result = run_cli("config", "check", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    warning = " ".join(result.stdout.split())
    assert "pricing: ebay/seller list in USD at exchange_rate 1.0" in warning
    assert "shop_1 list" not in warning
