"""`pricing.list_price`: yen × markup ÷ exchange_rate, rounded half up to the currency's
minor unit, exactly (issue 16)."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upload_scheduler.defaults import CURRENCY_MINOR_UNITS
from upload_scheduler.pricing import Price, PricingSettings, list_price, minor_unit


def usd(rate: float | str, markup: float | str = 1.0) -> PricingSettings:
    return PricingSettings("USD", Decimal(rate) if isinstance(rate, str) else rate, markup)


@pytest.mark.parametrize(
    ("yen", "settings", "expected"),
    [
        # The exact example: a float rate gives no float error.
        (150, usd(150.0), Decimal("1.00")),
        (1000, usd(150.0), Decimal("6.67")),  # 6.666… rounds up
        (1000, usd(150.0, 1.2), Decimal("8.00")),  # 1200 / 150, exactly
        (1980, usd(149.5), Decimal("13.24")),  # 13.2441…
        (1980, usd(149.5, 1.2), Decimal("15.89")),  # 15.8929…
        # Half up at .005: 1 yen at 200 yen per dollar is 0.005 → 0.01, and 0.0049… → 0.00.
        (1, usd(200), Decimal("0.01")),
        (3, usd(200), Decimal("0.02")),  # 0.015
        (1, usd(201), Decimal("0.00")),
        (201, usd("40.2"), Decimal("5.00")),
        (0, usd(150.0), Decimal("0.00")),
        # JPY has no decimals: half up to whole yen.
        (1000, PricingSettings("JPY", 1, 1.2), Decimal("1200")),
        (1005, PricingSettings("JPY", 2, 1), Decimal("503")),  # 502.5
        (1003, PricingSettings("JPY", 2, 1), Decimal("502")),  # 501.5 → 502
    ],
)
def test_list_price_examples(yen: int, settings: PricingSettings, expected: Decimal) -> None:
    price = list_price(yen, settings)
    assert price == Price(expected, settings.currency)
    assert str(price.amount) == str(expected)  # the decimals too: "1.00", not "1"


def test_base_lists_the_yen_price_unchanged() -> None:
    assert list_price(1980, PricingSettings("JPY", 1.0, 1.0)) == Price(Decimal(1980), "JPY")
    assert str(list_price(1980, PricingSettings("JPY", 1.0, 1.0)).amount) == "1980"


def test_floats_are_taken_as_written() -> None:
    """0.1 is the 0.1 of the config file, not the binary 0.1000000000000000055…"""
    settings = PricingSettings("USD", 0.1, 0.3)
    assert settings.exchange_rate == Decimal("0.1") and settings.markup == Decimal("0.3")
    assert list_price(1, settings).amount == Decimal("3.00")


@pytest.mark.parametrize(
    ("currency", "rate", "markup", "message"),
    [
        ("XYZ", 1, 1, "unknown currency 'XYZ'"),
        ("usd", 1, 1, "unknown currency 'usd'"),
        ("USD", 0, 1, "exchange_rate must be"),
        ("USD", -150, 1, "exchange_rate must be"),
        ("USD", 150, 0, "markup must be"),
        ("USD", 150, float("inf"), "markup must be"),
        ("USD", float("nan"), 1, "exchange_rate must be"),
    ],
)
def test_bad_settings_are_refused(currency: str, rate: float, markup: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PricingSettings(currency, rate, markup)


def test_a_negative_price_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        list_price(-1, usd(150))


def test_minor_units_of_the_currencies_we_meet() -> None:
    assert minor_unit("JPY") == 0
    assert {c: minor_unit(c) for c in ("USD", "EUR", "GBP", "AUD", "CAD")} == dict.fromkeys(
        ("USD", "EUR", "GBP", "AUD", "CAD"), 2
    )


YEN = st.integers(min_value=0, max_value=10_000_000)
SETTINGS = st.builds(
    PricingSettings,
    st.sampled_from(sorted(CURRENCY_MINOR_UNITS)),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100_000), places=4),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=3),
)


@given(YEN, YEN, SETTINGS)
def test_a_dearer_product_never_lists_cheaper(a: int, b: int, settings: PricingSettings) -> None:
    low, high = sorted((a, b))
    assert list_price(low, settings).amount <= list_price(high, settings).amount


@given(YEN, SETTINGS)
def test_the_amount_has_the_currency_s_decimals(yen: int, settings: PricingSettings) -> None:
    amount = list_price(yen, settings).amount
    assert amount.as_tuple().exponent == -CURRENCY_MINOR_UNITS[settings.currency]


@given(YEN, SETTINGS)
def test_the_amount_is_the_nearest_minor_unit_half_up(yen: int, settings: PricingSettings) -> None:
    """Checked against the formula in Decimal at a precision that cannot round twice here."""
    with localcontext(prec=80):
        exact = Decimal(yen) * settings.markup / settings.exchange_rate
    unit = Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[settings.currency])
    amount = list_price(yen, settings).amount
    assert amount - unit / 2 <= exact < amount + unit / 2


@given(YEN)
def test_jpy_at_rate_one_and_no_markup_is_the_identity(yen: int) -> None:
    assert list_price(yen, PricingSettings("JPY", 1.0, 1.0)) == Price(Decimal(yen), "JPY")
