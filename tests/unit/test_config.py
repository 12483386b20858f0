from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from upload_scheduler.config import ConfigError, load_settings, settings_from_dict
from upload_scheduler.config.template import STARTER, write_starter
from upload_scheduler.platforms import registry

FULL = """
database = "sqlite:///data/upload_scheduler.db"
timezone = "Asia/Tokyo"
log_dir = "logs"

[accounts]
base = ["base_account_1", "base_account_2"]

[daemon]
interval_seconds = 60
batch_size = 10
business_hours_start = 6
business_hours_end = 23

[account_overrides.base_account_2]
business_hours_start = 9
business_hours_end = 18

[platforms.base]
api_base_url = "https://api.thebase.in"
min_interval_seconds = 2.0
hour_call_limit = 5000
day_call_limit = 100000
daily_limit = 1000
max_attempts = 3
retry_delay_seconds = 5
client_id = ""
client_secret = ""
redirect_uri = "http://127.0.0.1:8765/callback"

[notify]
chatwork_token = ""
chatwork_room_id = ""
webhook_url = ""

[cluster]
standby = false
lease_ttl_seconds = 30
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    """The problems the CLI reports: it hands the loader the installed adapters."""
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), platforms=registry)
    return info.value.problems


def test_issue_example_file_is_valid_and_resolves_overrides(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, FULL))
    first = settings.account("base", "base_account_1")
    second = settings.account("base", "base_account_2")
    assert (first.business_hours_start, first.business_hours_end) == (6, 23)
    assert (second.business_hours_start, second.business_hours_end) == (9, 18)
    assert second.overridden == ("business_hours_end", "business_hours_start")
    assert second.daily_limit == 1000 and second.min_interval_seconds == 2.0
    assert second.timezone == "Asia/Tokyo"


def test_relative_paths_are_relative_to_the_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = write(folder, FULL)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(path)
    assert settings.database_url == f"sqlite:///{folder / 'data' / 'upload_scheduler.db'}"
    assert settings.log_dir == folder / "logs"


def test_lookup_order_flag_then_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd_file = write(tmp_path, '[accounts]\nbase = ["from_cwd"]\n')
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    env_file = write(env_dir, '[accounts]\nbase = ["from_env"]\n')
    flag_dir = tmp_path / "flag"
    flag_dir.mkdir()
    flag_file = write(flag_dir, '[accounts]\nbase = ["from_flag"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPLOAD_SCHEDULER_CONFIG", raising=False)
    assert load_settings().account_ids("base") == ["from_cwd"]
    assert load_settings().source == cwd_file
    monkeypatch.setenv("UPLOAD_SCHEDULER_CONFIG", str(env_file))
    assert load_settings().account_ids("base") == ["from_env"]
    assert load_settings(flag_file).account_ids("base") == ["from_flag"]


def test_missing_file_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPLOAD_SCHEDULER_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="upload-scheduler init"):
        load_settings()


def test_unknown_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "[daemon]\nbatch_sise = 3\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message
    assert "[daemon] batch_sise: unknown key (did you mean 'batch_size'?)" in message


def test_unknown_platform_key_suggests(tmp_path: Path) -> None:
    found = problems(tmp_path, "[platforms.base]\nmin_interval_second = 1\n")
    assert found == [
        "[platforms.base] min_interval_second: unknown key (did you mean 'min_interval_seconds'?)"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        timezone = "Asia/Tokio"
        [accounts]
        base = ["a"]
        [account_overrides.b]
        business_hours_start = 9
        [account_overrides.a]
        business_hours_end = 25
        """,
    )
    joined = "\n".join(found)
    assert "unknown time zone 'Asia/Tokio'" in joined
    assert "[account_overrides.b]: account 'b' is not listed under [accounts]" in joined
    assert "[account_overrides.a] business_hours_end" in joined and "24" in joined
    assert len(found) == 3


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("[daemon]\nbusiness_hours_start = -1\n", "[daemon] business_hours_start"),
        ("[daemon]\nbusiness_hours_end = 25\n", "[daemon] business_hours_end"),
        ("[daemon]\nbusiness_hours_start = 8\nbusiness_hours_end = 8\n", "empty window"),
        ("[daemon]\nbatch_size = 0\n", "[daemon] batch_size"),
        ('[daemon]\ninterval_seconds = "60"\n', "[daemon] interval_seconds"),
        ("[platforms.base]\ndaily_limit = true\n", "[platforms.base] daily_limit"),
        ("[cluster]\nlease_ttl_seconds = 0\n", "[cluster] lease_ttl_seconds"),
        ('database = "not a url"\n', "database"),
    ],
)
def test_invalid_values_name_their_key(tmp_path: Path, section: str, expected: str) -> None:
    assert any(expected in p for p in problems(tmp_path, section))


def test_window_crossing_midnight_is_allowed(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            '[accounts]\nbase=["a"]\n[daemon]\nbusiness_hours_start = 22\nbusiness_hours_end = 2\n',
        )
    )
    account = settings.account("base", "a")
    assert (account.business_hours_start, account.business_hours_end) == (22, 2)


def test_decimal_durations_are_accepted(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            '[accounts]\nbase=["a"]\n[platforms.base]\nretry_delay_seconds = 0.5\n'
            "min_interval_seconds = 0.1\n[daemon]\ninterval_seconds = 0.25\n",
        )
    )
    account = settings.account("base", "a")
    assert account.retry_delay_seconds == 0.5
    assert account.min_interval_seconds == 0.1
    assert account.interval_seconds == 0.25


def test_timezone_can_be_overridden_per_account(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            '[accounts]\nbase=["a", "b"]\n[account_overrides.b]\ntimezone = "Europe/London"\n',
        )
    )
    assert settings.account("base", "a").timezone == "Asia/Tokyo"
    assert settings.account("base", "b").timezone == "Europe/London"


def test_override_keys_are_checked(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        '[accounts]\nbase=["a"]\n[account_overrides.a]\n'
        'batch_sise = 3\ndaily_limit = 0\ntimezone = "Mars/Base"\n',
    )
    joined = "\n".join(found)
    assert "[account_overrides.a] batch_sise: unknown key (did you mean 'batch_size'?)" in joined
    assert "[account_overrides.a] daily_limit" in joined
    assert "unknown time zone 'Mars/Base'" in joined


def test_override_can_make_an_empty_window(tmp_path: Path) -> None:
    found = problems(
        tmp_path, '[accounts]\nbase=["a"]\n[account_overrides.a]\nbusiness_hours_start = 23\n'
    )
    assert found == [
        "[account_overrides.a]: business_hours_start (23) and business_hours_end (23) give an "
        "empty window; use an end before the start for a window that crosses midnight"
    ]


def test_platform_without_adapter_is_named(tmp_path: Path) -> None:
    found = problems(
        tmp_path, '[accounts]\nmercari = ["m1"]\n[platforms.rakuten]\nclient_id = "x"\n'
    )
    installed = ", ".join(sorted(registry.installed_platforms()))
    assert found == [
        f"[accounts]: no adapter is installed for platform 'mercari' (installed: {installed})",
        f"[platforms.rakuten]: no adapter is installed for platform 'rakuten' "
        f"(installed: {installed})",
    ]


def test_platforms_are_checked_against_the_catalog_the_caller_passes(tmp_path: Path) -> None:
    """config sits above platforms in DESIGN.md's layer table: it is told what is
    installed (a caller that cannot know, such as the queue, passes nothing)."""

    class OnlyMercari:
        def is_installed(self, name: str) -> bool:
            return name == "mercari"

        def installed_platforms(self) -> frozenset[str]:
            return frozenset({"mercari"})

    path = write(tmp_path, '[accounts]\nmercari = ["m1"]\n')
    assert load_settings(path, platforms=OnlyMercari()).account_ids("mercari") == ["m1"]
    assert load_settings(path).account_ids("mercari") == ["m1"]
    with pytest.raises(ConfigError, match="no adapter is installed for platform 'mercari'"):
        load_settings(path, platforms=registry)


def test_config_imports_nothing_below_it() -> None:
    """No module of the config package imports another package of upload_scheduler (it
    heads DESIGN.md's layer table), not even inside a function; only `defaults`."""
    import ast

    from upload_scheduler import config

    found = set()
    for source in Path(config.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    ours = {m for m in found if m.startswith("upload_scheduler.")}
    assert {m for m in ours if not m.startswith("upload_scheduler.config.")} == {
        "upload_scheduler.defaults"
    }


def test_account_listed_twice_is_refused(tmp_path: Path) -> None:
    assert any("listed twice" in p for p in problems(tmp_path, '[accounts]\nbase=["a", "a"]\n'))


def test_bad_toml_reports_the_position(tmp_path: Path) -> None:
    found = problems(tmp_path, "[daemon\n")
    assert found[0].startswith("not valid TOML") and "line 1" in found[0]


def test_secret_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_dict(
        {"accounts": {"base": ["a"]}, "platforms": {"base": {"client_secret_env": "MY_SECRET"}}},
        tmp_path / "x.toml",
    )
    monkeypatch.setenv("MY_SECRET", "s3cr3t-value")
    assert settings.client_secret("base") == "s3cr3t-value"
    assert "s3cr3t" not in repr(settings.account("base", "a"))
    assert "client_secret" not in settings.account("base", "a").public_dict()


def test_starter_file_is_valid_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "upload-scheduler.toml"
    write_starter(path)
    assert path.read_text(encoding="utf-8") == STARTER
    settings = load_settings(path)
    assert settings.account_ids("base") == ["base_account_1", "base_account_2"]
    path.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_starter(path)
    assert path.read_text(encoding="utf-8") == "# mine\n"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg_3(tmp_path: Path, scheme: str) -> None:
    settings = settings_from_dict(
        {"database": f"{scheme}://us:secret@db.example:5432/shop"}, tmp_path / "c.toml"
    )
    assert settings.database_url == "postgresql+psycopg://us:secret@db.example:5432/shop"


def test_postgresql_without_its_driver_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from upload_scheduler.config import files

    monkeypatch.setattr(files, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"upload-scheduler\[postgres\]"):
        settings_from_dict({"database": "postgresql://us@db.example/shop"}, tmp_path / "c.toml")


# --- settings that cannot run (issue 15) ---------------------------------------------


@pytest.mark.parametrize(
    "account_id", ["../x", "a/b", "a\\\\b", "x..y", "a b", "a\\nb", "ショップ"]
)
def test_account_ids_that_would_name_a_path_are_refused(tmp_path: Path, account_id: str) -> None:
    found = problems(tmp_path, f'[accounts]\nbase = ["{account_id}"]\n')
    assert any("may only hold letters, digits" in p for p in found), found


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("daemon", "interval_seconds"),
        ("platforms.base", "min_interval_seconds"),
        ("platforms.base", "retry_delay_seconds"),
        ("cluster", "lease_ttl_seconds"),
    ],
)
def test_waits_longer_than_a_day_are_refused_by_both_loaders(
    tmp_path: Path, section: str, key: str
) -> None:
    from upload_scheduler.config.light import load_settings_light

    ok = f'[accounts]\nbase = ["a"]\n[{section}]\n{key} = 86400\n'
    load_settings_light(write(tmp_path, ok))
    bad = f'[accounts]\nbase = ["a"]\n[{section}]\n{key} = 1e12\n'
    found = problems(tmp_path, bad)
    assert any(key in p and "86400" in p for p in found), found
    with pytest.raises(ConfigError):
        load_settings_light(write(tmp_path, bad))


def test_an_override_longer_than_a_day_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path, '[accounts]\nbase = ["a"]\n[account_overrides.a]\ninterval_seconds = 1e300\n'
    )
    assert any("[account_overrides.a] interval_seconds" in p for p in found), found


@pytest.mark.parametrize("url", ["mysql://u:pw@h/db", "oracle://h/db", "mssql+pyodbc://h/db"])
def test_unsupported_databases_are_refused_without_their_password(tmp_path: Path, url: str) -> None:
    found = problems(tmp_path, f'database = "{url}"\n[accounts]\nbase = ["a"]\n')
    assert any("is not supported" in p for p in found), found
    assert not any("pw" in p for p in found)


def test_an_unset_secret_variable_is_a_warning_naming_its_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("US_UNSET_SECRET", raising=False)
    monkeypatch.setenv("US_SET_SECRET", "value")
    settings = settings_from_dict(
        {
            "accounts": {"base": ["a", "b", "c"]},
            "platforms": {"base": {"client_secret_env": "US_UNSET_SECRET"}},
            "account_overrides": {"c": {"client_secret_env": "US_SET_SECRET"}},
        },
        tmp_path / "x.toml",
    )
    [warning] = settings.secret_warnings()
    assert "US_UNSET_SECRET is not set" in warning and "base/a, base/b" in warning
    assert "base/c" not in warning
    monkeypatch.setenv("US_UNSET_SECRET", "now set")
    assert settings.secret_warnings() == []


# ------------------------------------------------------------------ pricing (issue 16)


def test_pricing_defaults_to_the_platform_s_own_currency_unchanged(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[accounts]\nbase = ["a"]\nfake = ["f"]\n'))
    for platform, account_id in (("base", "a"), ("fake", "f")):
        pricing = settings.account(platform, account_id).pricing
        assert (pricing.currency, pricing.exchange_rate, pricing.markup) == ("JPY", 1.0, 1.0)


def test_pricing_is_overridden_per_account_key_by_key(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
            [accounts]
            base = ["a", "b", "c"]
            [platforms.base.pricing]
            markup = 1.2
            [account_overrides.b]
            pricing.currency = "USD"
            pricing.exchange_rate = 150
            [account_overrides.c.pricing]
            markup = 1.5
            """,
        ),
        platforms=registry,
    )
    a, b, c = (settings.account("base", x) for x in ("a", "b", "c"))
    assert (a.pricing.currency, a.pricing.exchange_rate, a.pricing.markup) == ("JPY", 1.0, 1.2)
    assert (b.pricing.currency, b.pricing.exchange_rate, b.pricing.markup) == ("USD", 150.0, 1.2)
    assert isinstance(b.pricing.exchange_rate, float)  # the TOML integer, as a float
    assert c.pricing.markup == 1.5 and c.pricing.currency == "JPY"
    assert b.overridden == ("pricing.currency", "pricing.exchange_rate")
    assert c.overridden == ("pricing.markup",)
    assert b.public_dict()["pricing.currency"] == "USD"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[platforms.base.pricing]\nexchange_rate = 0\n",
            "[platforms.base.pricing] exchange_rate: input should be greater than 0 (got 0)",
        ),
        (
            "[platforms.base.pricing]\nmarkup = -1.0\n",
            "[platforms.base.pricing] markup: input should be greater than 0 (got -1.0)",
        ),
        (
            "[platforms.base.pricing]\nmarkup = 120\n",
            "[platforms.base.pricing] markup: input should be less than or equal to 100",
        ),
        (
            '[platforms.base.pricing]\ncurrency = "XYZ"\n',
            "[platforms.base.pricing]: unknown currency 'XYZ': use an ISO 4217 code we know "
            "the decimals of (AUD, CAD, EUR, GBP, JPY, USD)",
        ),
        (
            '[platforms.base.pricing]\nexchange_rate = "150"\n',
            "[platforms.base.pricing] exchange_rate: input should be a valid number",
        ),
        (
            "[platforms.base.pricing]\nmarkupp = 1.1\n",
            "[platforms.base.pricing] markupp: unknown key (did you mean 'markup'?)",
        ),
        (
            "[account_overrides.a]\npricing.exchange_rate = 0\n",
            "[account_overrides.a] pricing.exchange_rate: input should be greater than 0",
        ),
        (
            '[account_overrides.a]\npricing = { currency = "usd" }\n',
            "[account_overrides.a] pricing: unknown currency 'usd'",
        ),
    ],
)
def test_bad_pricing_is_a_config_problem_naming_its_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    found = problems(tmp_path, '[accounts]\nbase = ["a"]\n' + text)
    assert any(expected in p for p in found), found


def test_a_platform_has_its_own_defaults_under_the_files_keys(tmp_path: Path) -> None:
    """eBay's hosts and budgets are not BASE's: an [accounts] ebay without a section gets
    eBay's, a section's own keys win, and BASE keeps its own."""
    from upload_scheduler.config.load import settings_from_dict

    raw = {
        "accounts": {"base": ["shop"], "ebay": ["seller_1", "seller_2"]},
        "platforms": {"ebay": {"client_id": "app-1", "min_interval_seconds": 3.0}},
    }
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
    seller = settings.account("ebay", "seller_1")
    assert seller.api_base_url == "https://api.ebay.com"
    assert seller.auth_base_url == "https://auth.ebay.com"
    assert seller.day_call_limit == 2_000_000
    assert seller.min_interval_seconds == 3.0
    assert seller.application == "app-1"
    assert seller.pricing.currency == "USD"
    shop = settings.account("base", "shop")
    assert shop.api_base_url == "https://api.thebase.in"
    assert shop.application is None
    bare = settings_from_dict({"accounts": {"ebay": ["s"]}}, tmp_path / "upload-scheduler.toml")
    assert bare.platform_config("ebay").marketplace_id == "EBAY_US"
    assert bare.account("ebay", "s").day_call_limit_scope == "application"


def test_a_foreign_currency_at_the_default_rate_is_warned_of(tmp_path: Path) -> None:
    """A dollar price at one yen per dollar is a rate never set (import-legacy cannot
    read the old one): `config check` warns, naming the accounts; yen and a set rate do
    not."""
    from upload_scheduler.config.load import settings_from_dict

    raw = {
        "accounts": {"base": ["shop"], "ebay": ["seller_1", "seller_2"]},
        "account_overrides": {"seller_2": {"pricing": {"exchange_rate": 150.0}}},
    }
    settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
    warnings = settings.pricing_warnings()
    assert len(warnings) == 1
    assert "ebay/seller_1" in warnings[0] and "USD" in warnings[0]
    assert "seller_2" not in warnings[0] and "shop" not in warnings[0]
