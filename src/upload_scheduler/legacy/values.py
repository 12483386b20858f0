"""Reading the old system's loosely typed values: SQLite columns without enforced types,
JSON written by hand, and naive local times."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


class BadTime(ValueError):
    """A time the old files hold that cannot be read."""


def text(value: Any) -> str:
    """A stripped string; None and empty become ""."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip()


def optional_text(value: Any) -> str | None:
    return text(value) or None


def integer(value: Any) -> int | None:
    """An integer from an INTEGER, REAL or TEXT column; None when it is not one."""
    number = decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        raw = repr(value)
    else:
        raw = text(value).replace(",", "").removeprefix("¥").removeprefix("￥")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def yen(value: Any) -> int | None:
    """A selling price as whole yen (half up), or None when empty, not a number, or not
    positive: our prices are integers above zero."""
    number = decimal(value)
    if number is None:
        return None
    rounded = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return rounded if rounded > 0 else None


def flag(value: Any) -> bool | None:
    """An SQLite BOOLEAN: 1/0, or text such as 'true'."""
    if value is None:
        return None
    if isinstance(value, bool | int):
        return bool(value)
    word = text(value).lower()
    if word in ("1", "true", "t", "yes", "y"):
        return True
    if word in ("0", "false", "f", "no", "n"):
        return False
    return None


def local_time(value: Any, zone: tzinfo) -> datetime | None:
    """An old timestamp as an aware UTC datetime. The old system wrote naive local
    times (its machine's zone, JST on the operators' machines), read here in `zone`; a
    value with an offset keeps it. Empty is None; anything unreadable raises BadTime."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise BadTime(f"{value!r} is not a time") from None
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadTime(f"{raw!r} is not a time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def dig(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at `path` in nested JSON objects (a string stripped), or None."""
    current: Any = data
    for part in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current.strip() if isinstance(current, str) else current
