"""A product's yen price -> the price a platform lists it at (issue 16).

Pure: no I/O, no clock. The price sent is `yen × markup ÷ exchange_rate`, rounded half up
to the currency's minor unit (cents for USD, whole yen for JPY). The arithmetic is exact
(rationals, then one rounding): a float or a 28-digit Decimal division could round twice
and land a cent off at a .005 boundary, and a buyer sees every cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from upload_scheduler.defaults import CURRENCY_MINOR_UNITS

__all__ = ["Price", "PricingSettings", "list_price", "minor_unit"]


def minor_unit(currency: str) -> int:
    """The number of decimals `currency` is priced in (ISO 4217). Raises ValueError for a
    currency we do not know: the configuration should have refused it."""
    try:
        return CURRENCY_MINOR_UNITS[currency]
    except KeyError:
        known = ", ".join(sorted(CURRENCY_MINOR_UNITS))
        raise ValueError(f"unknown currency {currency!r} (known: {known})") from None


def _decimal(value: Decimal | float | int) -> Decimal:
    """A float as the number it was written as (150.1, not 150.099999999999994315...)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


@dataclass(frozen=True)
class PricingSettings:
    """How one platform account prices: the currency it lists in, yen per unit of that
    currency, and a factor over the yen price. Floats (from the config file) are taken as
    written; the fields hold Decimals."""

    currency: str
    exchange_rate: Decimal
    markup: Decimal

    def __init__(
        self, currency: str, exchange_rate: Decimal | float, markup: Decimal | float = 1
    ) -> None:
        rate, factor = _decimal(exchange_rate), _decimal(markup)
        minor_unit(currency)
        for name, value in (("exchange_rate", rate), ("markup", factor)):
            if not value.is_finite() or value <= 0:
                raise ValueError(f"{name} must be a finite number greater than 0 (got {value})")
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "exchange_rate", rate)
        object.__setattr__(self, "markup", factor)


@dataclass(frozen=True)
class Price:
    """An amount with exactly its currency's decimals (Decimal('12.30'), not 12.3), so
    that `str(amount)` is what a marketplace's API wants ("12.30")."""

    amount: Decimal
    currency: str


def list_price(yen: int, settings: PricingSettings) -> Price:
    """The price a platform lists a product of `yen` at: yen × markup ÷ exchange_rate,
    rounded half up to the currency's minor unit. Raises ValueError for a negative price."""
    if yen < 0:
        raise ValueError(f"a price cannot be negative (got {yen} yen)")
    decimals = minor_unit(settings.currency)
    scaled = (
        Fraction(yen) * Fraction(settings.markup) * 10**decimals / Fraction(settings.exchange_rate)
    )
    # Half up on a non-negative rational: floor(x + 1/2), exactly.
    units = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    return Price(amount=Decimal(f"{units}E-{decimals}"), currency=settings.currency)
