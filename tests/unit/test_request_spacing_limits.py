"""The per-URL spacing's pure half: `limits.request_ready_at` (when an endpoint may next
receive a request, the interval plus `REQUEST_SPACING_MARGIN` after the last one) and the
`url_interval_seconds` that `LimitSettings.of` carries from a real configuration file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from upload_scheduler.config import ConfigError
from upload_scheduler.config.load import load_settings
from upload_scheduler.limits import REQUEST_SPACING_MARGIN, LimitSettings, request_ready_at

SENT = datetime(2026, 1, 5, 3, 0, 0, tzinfo=UTC)


# ------------------------------------------------------------------------ request_ready_at


def test_the_next_request_waits_the_interval_and_the_margin() -> None:
    assert request_ready_at(SENT, 1.0) == SENT + timedelta(seconds=1) + REQUEST_SPACING_MARGIN
    assert request_ready_at(SENT, 2.5) == SENT + timedelta(seconds=2.5) + REQUEST_SPACING_MARGIN


def test_the_margin_is_a_few_milliseconds_and_always_added() -> None:
    # The platform counts arrivals: a request read off our clock exactly one interval
    # later could arrive a hair early. The margin is small beside Yahoo!'s second.
    assert timedelta(0) < REQUEST_SPACING_MARGIN < timedelta(milliseconds=100)
    ready = request_ready_at(SENT, 1.0)
    assert ready is not None and ready > SENT + timedelta(seconds=1)


def test_an_endpoint_never_used_may_be_called_at_once() -> None:
    assert request_ready_at(None, 1.0) is None


@pytest.mark.parametrize("interval", [0.0, -1.0])
def test_no_interval_means_no_spacing(interval: float) -> None:
    assert request_ready_at(SENT, interval) is None
    assert request_ready_at(None, interval) is None


def test_the_answer_keeps_the_zone_of_the_last_request() -> None:
    ready = request_ready_at(SENT, 1.0)
    assert ready is not None and ready.tzinfo is not None
    assert ready.utcoffset() == timedelta(0)


# -------------------------------------------------------------- LimitSettings.of, from a file

CONFIG = """\
database = "sqlite:///q.db"
timezone = "Asia/Tokyo"

[accounts]
yahoo = ["store_a", "store_b"]
base = ["shop"]

[platforms.yahoo]
client_id = "yahoo-app"
seller_id = "store-a"

[account_overrides.store_b]
seller_id = "store-b"
url_interval_seconds = 2.5
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_yahoo_account_carries_the_platforms_one_second_per_url(config_path: Path) -> None:
    settings = load_settings(config_path)
    limits = LimitSettings.of(settings.account("yahoo", "store_a"))
    assert limits.url_interval_seconds == 1.0
    # Yahoo!'s day budget is the application's, and its day ends in Japan.
    assert limits.application == "yahoo-app"
    assert limits.application_timezone == "Asia/Tokyo"
    assert limits.day_call_limit == 50_000


def test_an_accounts_override_of_url_interval_seconds_reaches_its_limits(
    config_path: Path,
) -> None:
    settings = load_settings(config_path)
    assert LimitSettings.of(settings.account("yahoo", "store_b")).url_interval_seconds == 2.5
    # The other store keeps the platform's.
    assert LimitSettings.of(settings.account("yahoo", "store_a")).url_interval_seconds == 1.0


def test_a_platform_without_a_per_url_limit_has_none(config_path: Path) -> None:
    settings = load_settings(config_path)
    limits = LimitSettings.of(settings.account("base", "shop"))
    assert limits.url_interval_seconds == 0.0
    assert request_ready_at(SENT, limits.url_interval_seconds) is None


def test_url_interval_seconds_zero_turns_the_spacing_off(tmp_path: Path) -> None:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(
        CONFIG.replace(
            'client_id = "yahoo-app"', 'client_id = "yahoo-app"\nurl_interval_seconds = 0'
        ),
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert LimitSettings.of(settings.account("yahoo", "store_a")).url_interval_seconds == 0.0
    assert LimitSettings.of(settings.account("yahoo", "store_b")).url_interval_seconds == 2.5


def test_a_negative_url_interval_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(
        CONFIG.replace("url_interval_seconds = 2.5", "url_interval_seconds = -1"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "url_interval_seconds" in str(caught.value)
    assert "store_b" in str(caught.value)
