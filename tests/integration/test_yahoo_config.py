"""The Yahoo! keys of the configuration file: through the real `config check` in a
subprocess (a store without seller_id is refused, naming the key and the account; with
one it loads) and through the loaders: the platform's defaults, seller_id per account or
for the platform, and `[platforms.yahoo.categories]` tables, read the same by the pydantic
loader, the pydantic-free reader (`values.parse_file`) and the daemon's light loader."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.acceptance.cli import run_cli
from upload_scheduler.config import ConfigError
from upload_scheduler.config.light import load_settings_light
from upload_scheduler.config.load import load_settings
from upload_scheduler.config.values import CategoryValues, parse_file
from upload_scheduler.platforms import registry

ACCOUNT = "yahoo_account_1"

HEAD = f"""\
database = "sqlite:///q.db"
timezone = "Asia/Tokyo"

[accounts]
yahoo = ["{ACCOUNT}"]

[platforms.yahoo]
client_id = "cid"
client_secret = "s"
"""

OVERRIDE = f"""
[account_overrides.{ACCOUNT}]
seller_id = "mystore"
"""

CATEGORIES = """
[platforms.yahoo.categories]
"フィギュア" = { path = "ホビー:フィギュア", product_category = "2511" }
"""

FIGURE = CategoryValues(path="ホビー:フィギュア", product_category="2511")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, platforms=registry)
    return str(caught.value)


# --------------------------------------------------------------------- the command line


def test_config_check_refuses_a_store_without_seller_id_naming_key_and_account(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, HEAD + CATEGORIES)
    result = run_cli("--config", str(path), "config", "check", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    said = " ".join(result.stderr.split())
    assert f"[account_overrides.{ACCOUNT}] seller_id: required for a yahoo account" in said
    assert "Traceback" not in result.stderr
    assert "no adapter" not in said  # the yahoo adapter is registered


def test_config_check_accepts_the_store_with_its_seller_id(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + CATEGORIES + OVERRIDE)
    result = run_cli("--config", str(path), "config", "check", cwd=tmp_path, env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "mystore (override)" in result.stdout
    assert "https://circus.shopping.yahooapis.jp" in result.stdout


# ---------------------------------------------------------------------------- seller_id


def test_seller_id_may_be_the_accounts_or_the_platforms(tmp_path: Path) -> None:
    own = load_settings(write(tmp_path, HEAD + OVERRIDE), platforms=registry)
    assert own.account("yahoo", ACCOUNT).seller_id == "mystore"

    shared = HEAD.replace('client_id = "cid"', 'client_id = "cid"\nseller_id = "shop-wide"')
    platform = load_settings(write(tmp_path, shared), platforms=registry)
    assert platform.account("yahoo", ACCOUNT).seller_id == "shop-wide"

    both = load_settings(write(tmp_path, shared + OVERRIDE), platforms=registry)
    assert both.account("yahoo", ACCOUNT).seller_id == "mystore"


def test_every_store_without_a_seller_id_is_named(tmp_path: Path) -> None:
    text = HEAD.replace(f'yahoo = ["{ACCOUNT}"]', 'yahoo = ["store_a", "store_b", "store_c"]')
    text += '\n[account_overrides.store_b]\nseller_id = "b-store"\n'
    text += '\n[account_overrides.store_c]\nseller_id = "   "\n'  # blank is not a store
    said = problems(write(tmp_path, text))
    assert "[account_overrides.store_a] seller_id: required" in said
    assert "[account_overrides.store_c] seller_id: required" in said
    assert "store_b" not in said


def test_the_daemons_light_loader_refuses_a_store_without_seller_id_too(
    tmp_path: Path,
) -> None:
    """The daemon reads the file with `load_settings_light`, which promises the pydantic
    loader's verdict: a file `config check` refuses must not start a daemon."""
    path = write(tmp_path, HEAD)
    with pytest.raises(ConfigError) as caught:
        load_settings_light(path, platforms=registry)
    assert "seller_id" in str(caught.value) and ACCOUNT in str(caught.value)


# ----------------------------------------------------------------------------- defaults


def test_the_platforms_defaults(tmp_path: Path) -> None:
    account = load_settings(write(tmp_path, HEAD + OVERRIDE), platforms=registry).account(
        "yahoo", ACCOUNT
    )
    assert account.api_base_url == "https://circus.shopping.yahooapis.jp"
    assert account.auth_base_url == "https://auth.login.yahoo.co.jp"
    assert account.url_interval_seconds == 1.0
    assert account.day_call_limit == 50_000
    assert account.day_call_limit_scope == "application"
    assert account.application == "cid"
    assert account.pricing.currency == "JPY"


def test_a_key_of_the_file_wins_over_the_platforms_default(tmp_path: Path) -> None:
    text = HEAD.replace(
        'client_id = "cid"',
        'client_id = "cid"\napi_base_url = "http://127.0.0.1:9"\nurl_interval_seconds = 2.0',
    )
    account = load_settings(write(tmp_path, text + OVERRIDE), platforms=registry).account(
        "yahoo", ACCOUNT
    )
    assert account.api_base_url == "http://127.0.0.1:9"
    assert account.url_interval_seconds == 2.0
    assert account.auth_base_url == "https://auth.login.yahoo.co.jp"  # still the default


def test_the_light_loader_gives_the_same_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + OVERRIDE + CATEGORIES)
    full = load_settings(path, platforms=registry)
    light = load_settings_light(path, platforms=registry)
    assert light.file == full.file
    assert light.account("yahoo", ACCOUNT) == full.account("yahoo", ACCOUNT)


# --------------------------------------------------------------------------- categories


def test_a_category_table_loads_as_category_values_in_both_readers(tmp_path: Path) -> None:
    text = HEAD + OVERRIDE + CATEGORIES
    settings = load_settings(write(tmp_path, text), platforms=registry)
    categories = settings.account("yahoo", ACCOUNT).categories
    assert categories == {"フィギュア": FIGURE}
    assert isinstance(categories["フィギュア"], CategoryValues)

    plain = parse_file(tomllib.loads(text))
    assert plain is not None
    assert plain.platforms["yahoo"].categories == {"フィギュア": FIGURE}
    assert plain == settings.file


def test_an_ebay_category_given_as_a_string_stays_a_string(tmp_path: Path) -> None:
    text = (
        HEAD.replace(f'yahoo = ["{ACCOUNT}"]', f'yahoo = ["{ACCOUNT}"]\nebay = ["seller_1"]')
        + OVERRIDE
        + CATEGORIES
        + '\n[platforms.ebay.categories]\nToys = "220"\nFigures = "158666"\n'
    )
    settings = load_settings(write(tmp_path, text), platforms=registry)
    ebay = settings.account("ebay", "seller_1").categories
    assert ebay == {"Toys": "220", "Figures": "158666"}
    assert all(type(value) is str for value in ebay.values())
    assert settings.account("yahoo", ACCOUNT).categories == {"フィギュア": FIGURE}

    plain = parse_file(tomllib.loads(text))
    assert plain is not None and plain == settings.file
    assert type(plain.platforms["ebay"].categories["Toys"]) is str


def test_an_unknown_key_in_a_category_table_is_refused(tmp_path: Path) -> None:
    text = HEAD + OVERRIDE + CATEGORIES.replace('"2511" }', '"2511", colour = "red" }')
    said = problems(write(tmp_path, text))
    assert "colour: unknown key" in said
    assert "[platforms.yahoo] categories.フィギュア" in said
    # The pydantic-free reader is never more lenient: it leaves the file to pydantic.
    assert parse_file(tomllib.loads(text)) is None


def test_a_category_that_is_neither_a_string_nor_a_table_is_refused(tmp_path: Path) -> None:
    text = HEAD + OVERRIDE + '\n[platforms.yahoo.categories]\n"フィギュア" = 2511\n'
    said = problems(write(tmp_path, text))
    assert "categories.フィギュア" in said
    assert parse_file(tomllib.loads(text)) is None


def test_categories_cannot_be_overridden_per_account(tmp_path: Path) -> None:
    text = HEAD + OVERRIDE + 'categories = { "フィギュア" = "1" }\n'
    said = problems(write(tmp_path, text))
    assert f"[account_overrides.{ACCOUNT}] categories: unknown key" in said


def test_a_category_tables_problem_is_told_once_as_the_file_spells_it(tmp_path: Path) -> None:
    """Like every other key: one message, naming the key the way the file writes it, not
    the names of the validator's internal alternatives (a string, or a table)."""
    text = HEAD + OVERRIDE + CATEGORIES.replace('"2511" }', '"2511", colour = "red" }')
    said = problems(write(tmp_path, text))
    assert "[platforms.yahoo] categories.フィギュア.colour: unknown key" in said
    assert "function-after" not in said and "CategoryConfig" not in said
    assert "input should be a valid string" not in said  # it is a table, as meant
