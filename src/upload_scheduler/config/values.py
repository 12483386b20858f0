"""The configuration file's schema, written once: every key, its type, default and bounds,
as plain frozen dataclasses (the seed's `accounts_config.py`, as TOML). The key names are
a contract with users' files: add keys, never rename them.

A key's type is its annotation (int, float, str, bool, list[str], a Literal of choices, a
section, or a dict of those), its bounds are its field metadata (`bounds(ge=1)`, named as
pydantic's `Field` names them), and a rule across a section's keys is the section's
`__post_init__`. Two readers derive from this alone:

- `model.py` builds pydantic models from these classes for the CLI, which explain every
  problem in a file;
- `parse_file` here checks a TOML document without pydantic, for the daemon child
  (`light.py`): pydantic costs a daemon process ~9 MB of its 45 MB budget.

`Settings.file` is always a `FileValues`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from upload_scheduler import defaults

_T = TypeVar("_T")

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "le": operator.le,
}


def bounds(
    *, gt: float | None = None, ge: float | None = None, le: float | None = None
) -> dict[str, float]:
    """A number key's limits, as field metadata; the names are pydantic's, so that
    `model.py` hands them to `Field` as they are."""
    return {k: v for k, v in (("gt", gt), ("ge", ge), ("le", le)) if v is not None}


# A wait longer than a day is a typo (or 1e300, which overflows the clock and crashes
# the daemon): no schedule here needs one.
DAY_SECONDS = 86_400
_SECONDS = bounds(gt=0, le=DAY_SECONDS)
_DELAY = bounds(ge=0, le=DAY_SECONDS)
_NON_NEGATIVE = bounds(ge=0)
_COUNT = bounds(ge=1)
_HOUR = bounds(ge=0, le=24)


def check_window(start: int, end: int) -> None:
    """A window whose end is before its start crosses midnight; 0-24 is the whole day;
    equal ends would be empty."""
    if start == end or (start, end) == (24, 0):
        raise ValueError(
            f"business_hours_start ({start}) and business_hours_end ({end}) give an empty "
            "window; use an end before the start for a window that crosses midnight"
        )


@dataclass(frozen=True)
class DaemonValues:
    """`[daemon]`: the seed's DAEMON_CONFIG."""

    interval_seconds: float = field(default=defaults.INTERVAL_SECONDS, metadata=_SECONDS)
    batch_size: int = field(default=defaults.BATCH_SIZE, metadata=_COUNT)
    business_hours_start: int = field(default=defaults.BUSINESS_HOURS_START, metadata=_HOUR)
    business_hours_end: int = field(default=defaults.BUSINESS_HOURS_END, metadata=_HOUR)

    def __post_init__(self) -> None:
        check_window(self.business_hours_start, self.business_hours_end)


@dataclass(frozen=True)
class RulesValues:
    """`[platforms.X.rules]`: content rules checked before anything is sent. BASE
    restricted one of the old system's shops for prohibited items."""

    ng_words: list[str] = field(default_factory=list)
    ng_words_file: str = ""  # one word per line, relative to the config file
    blocked_categories: list[str] = field(default_factory=list)
    remove_phrases: list[str] = field(default_factory=list)  # cut from titles, longest first
    emoji: Literal["remove", "reject"] = "remove"  # 4-byte characters, which BASE refuses
    min_price: int = field(default=defaults.MIN_PRICE, metadata=_NON_NEGATIVE)


@dataclass(frozen=True)
class PricingValues:
    """`[platforms.X.pricing]`: the product's yen price becomes `yen × markup ÷
    exchange_rate` in `currency`, rounded half up to its minor unit (`pricing.py`)."""

    currency: str = ""  # ISO 4217; empty: the platform's own (defaults.PLATFORM_CURRENCIES)
    exchange_rate: float = field(
        default=defaults.EXCHANGE_RATE, metadata=bounds(gt=0, le=defaults.MAX_EXCHANGE_RATE)
    )  # yen per unit of the currency
    markup: float = field(default=defaults.MARKUP, metadata=bounds(gt=0, le=defaults.MAX_MARKUP))

    def __post_init__(self) -> None:
        # A currency whose decimals we do not know cannot be rounded: refuse it here, in
        # the file, rather than at the first item's turn.
        if self.currency and self.currency not in defaults.CURRENCY_MINOR_UNITS:
            known = ", ".join(sorted(defaults.CURRENCY_MINOR_UNITS))
            raise ValueError(
                f"unknown currency {self.currency!r}: use an ISO 4217 code we know the "
                f"decimals of ({known})"
            )


@dataclass(frozen=True)
class LocationValues:
    """`[platforms.ebay.location]`: the merchant location `account setup` creates when
    the seller has none (eBay needs a country and a postal code, or a city and state)."""

    country: str = "JP"
    postal_code: str = ""
    city: str = ""
    state_or_province: str = ""


@dataclass(frozen=True)
class CategoryValues:
    """A `[platforms.X.categories]` entry written as a table: Yahoo!'s store path and
    category id for a product category (eBay's entries are plain category ids)."""

    path: str = ""
    product_category: str = ""
    category_id: str = ""


@dataclass(frozen=True)
class PlatformValues:
    """`[platforms.X]`: one marketplace's endpoint, limits and OAuth application. A
    platform's own defaults (eBay's hosts and budgets) are `defaults.PLATFORM_DEFAULTS`,
    put under the file's keys by `with_platform_defaults`."""

    api_base_url: str = defaults.BASE_API_URL
    min_interval_seconds: float = field(default=defaults.MIN_INTERVAL_SECONDS, metadata=_DELAY)
    hour_call_limit: int = field(default=defaults.HOUR_CALL_LIMIT, metadata=_COUNT)
    day_call_limit: int = field(default=defaults.DAY_CALL_LIMIT, metadata=_COUNT)
    daily_limit: int = field(default=defaults.DAILY_LIMIT, metadata=_COUNT)
    max_attempts: int = field(default=defaults.MAX_ATTEMPTS, metadata=_COUNT)
    retry_delay_seconds: float = field(default=defaults.RETRY_DELAY_SECONDS, metadata=_DELAY)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    client_secret_env: str = ""
    redirect_uri: str = defaults.REDIRECT_URI  # eBay: the application's RuName
    # "application": every account with this client_id spends one day_call_limit together
    # (eBay, Yahoo!); "account": each its own (BASE).
    day_call_limit_scope: Literal["account", "application"] = "account"
    # The consent page's host, when it is not the API's (eBay); empty: the API's.
    auth_base_url: str = ""
    # eBay's listing: marketplace, language, the seller's set-up and the item's defaults.
    marketplace_id: str = defaults.EBAY_MARKETPLACE_ID
    content_language: str = defaults.EBAY_CONTENT_LANGUAGE
    merchant_location_key: str = defaults.EBAY_MERCHANT_LOCATION_KEY
    fulfillment_policy_id: str = ""  # empty: the seller's only one for the marketplace
    payment_policy_id: str = ""
    return_policy_id: str = ""
    category_id: str = ""  # for a product whose category `categories` does not map
    condition: str = defaults.EBAY_CONDITION
    sku_prefix: str = ""  # the SKU is sku_prefix + ASIN
    title_overflow: Literal["cut", "reject"] = "cut"  # a title longer than eBay allows
    # Yahoo!: the store account (required per account), the store path and category for a
    # product whose category `categories` does not map, the item_code's prefix, the
    # spacing of requests to one API URL, and how much of an image is downloaded.
    seller_id: str = ""
    path: str = ""
    product_category: str = ""
    item_code_prefix: str = ""
    url_interval_seconds: float = field(default=0.0, metadata=_DELAY)
    image_max_bytes: int = field(default=defaults.IMAGE_DOWNLOAD_MAX_BYTES, metadata=_COUNT)
    rules: RulesValues = field(default_factory=RulesValues)
    # Overridden per account key by key: `pricing.markup = 1.1` in [account_overrides.ID].
    pricing: PricingValues = field(default_factory=PricingValues)
    # product category -> eBay's category id, or a table (Yahoo!'s path and product_category)
    categories: dict[str, str | CategoryValues] = field(default_factory=dict)
    location: LocationValues = field(default_factory=LocationValues)


@dataclass(frozen=True)
class NotifyValues:
    """`[notify]`: where failures and pauses are reported."""

    chatwork_token: str = field(default="", repr=False)
    chatwork_token_env: str = ""
    chatwork_room_id: str = ""
    webhook_url: str = field(default="", repr=False)
    # Chatwork's API root; a local Chatwork-compatible server in tests and rehearsals.
    chatwork_api_url: str = defaults.NOTIFY_CHATWORK_API_URL


@dataclass(frozen=True)
class ClusterValues:
    """`[cluster]`: several hosts on one PostgreSQL database."""

    standby: bool = False
    lease_ttl_seconds: float = field(default=defaults.LEASE_TTL_SECONDS, metadata=_SECONDS)


@dataclass(frozen=True)
class DashboardValues:
    """`[dashboard]`: who may use `upload-scheduler dashboard` off the loopback address,
    and its language. Passwords come from the environment only, never from the file."""

    username: str = ""  # the operator: every page and action
    password_env: str = ""
    viewer_username: str = ""  # optional: every page, no action
    viewer_password_env: str = ""
    language: Literal["", "ja", "en"] = ""  # "": the browser's Accept-Language

    def __post_init__(self) -> None:
        if bool(self.username) != bool(self.password_env):
            raise ValueError("username and password_env are set together")
        if bool(self.viewer_username) != bool(self.viewer_password_env):
            raise ValueError("viewer_username and viewer_password_env are set together")
        if self.viewer_username and not self.username:
            raise ValueError("a viewer login needs the operator's username and password_env")
        if self.viewer_username and self.viewer_username == self.username:
            raise ValueError("viewer_username must differ from username")


@dataclass(frozen=True)
class FileValues:
    """The whole file."""

    database: str = defaults.DATABASE_URL
    timezone: str = defaults.TIMEZONE
    log_dir: str = defaults.LOG_DIR
    accounts: dict[str, list[str]] = field(default_factory=dict)
    daemon: DaemonValues = field(default_factory=DaemonValues)
    # Checked key by key against OVERRIDE_KEYS by the loaders, which name the account.
    account_overrides: dict[str, dict[str, object]] = field(default_factory=dict)
    platforms: dict[str, PlatformValues] = field(default_factory=dict)
    notify: NotifyValues = field(default_factory=NotifyValues)
    cluster: ClusterValues = field(default_factory=ClusterValues)
    dashboard: DashboardValues = field(default_factory=DashboardValues)


DAEMON_KEYS = frozenset(f.name for f in fields(DaemonValues))
# Tables of the platform's, never overridden per account (pricing is, key by key).
PLATFORM_TABLES = frozenset({"rules", "categories", "location"})
PLATFORM_KEYS = frozenset(f.name for f in fields(PlatformValues)) - PLATFORM_TABLES
# What [account_overrides.ID] may set, and the section whose field it overrides: any
# [daemon] or [platforms.X] key but the rules, or the time zone. `pricing` is a table of
# [platforms.X.pricing] keys (`pricing.markup = 1.1`), each replacing the platform's.
OVERRIDE_SECTIONS: dict[str, type] = {
    **dict.fromkeys(DAEMON_KEYS, DaemonValues),
    **dict.fromkeys(PLATFORM_KEYS, PlatformValues),
    "timezone": FileValues,
}
OVERRIDE_KEYS = frozenset(OVERRIDE_SECTIONS)


def as_dict(values: Any) -> dict[str, Any]:
    """A section's fields, one level deep."""
    return {f.name: getattr(values, f.name) for f in fields(values)}


def with_platform_defaults(raw: object) -> object:
    """The TOML document with each platform's own defaults (`defaults.PLATFORM_DEFAULTS`)
    under the keys its [platforms.X] section leaves out, and such a section added for a
    platform that [accounts] names without one: eBay's hosts and budgets are not BASE's.
    Anything unusual is left for the validators to explain."""
    if type(raw) is not dict:
        return raw
    sections = raw.get("platforms", {})
    accounts = raw.get("accounts", {})
    if type(sections) is not dict or type(accounts) is not dict:
        return raw
    merged = dict(sections)
    for name in {*sections, *accounts}:
        own = defaults.PLATFORM_DEFAULTS.get(name)
        section = sections.get(name, {})
        if own and type(section) is dict:
            merged[name] = {**own, **section}
    return {**raw, "platforms": merged} if merged != sections else raw


def platform_values(name: str) -> PlatformValues:
    """The values of a platform the file has no section for."""
    return build(PlatformValues, dict(defaults.PLATFORM_DEFAULTS.get(name, {})))


# ------------------------------------------------------------------ reading without pydantic


class _Unusual(Exception):
    """Something pydantic might refuse: the light reader gives up, the full one explains."""


def parse_file(raw: object) -> FileValues | None:
    """The file's values when the pydantic models would surely accept `raw` (a TOML
    document) and give the same, else None: the caller then lets pydantic say what is
    wrong."""
    return parse_section(FileValues, with_platform_defaults(raw))


def parse_section(cls: type[_T], raw: object) -> _T | None:
    """A section's dataclass when its pydantic model would surely accept `raw` and give
    the same, else None. Never more lenient than pydantic: a doubt (an infinite float) is
    None."""
    try:
        return _section(cls, raw, check=True)
    except _Unusual:
        return None


def build(cls: type[_T], data: Mapping[str, Any]) -> _T:
    """A section's dataclass from data pydantic has already validated (a `model_dump()`):
    converted, not checked again."""
    return _section(cls, data, check=False)


def override_ok(key: str, value: object) -> bool:
    """Whether pydantic would surely accept `value` for `key` in [account_overrides.ID]
    (an unknown key is not ok). Rules across keys (the window) are the caller's."""
    owner = OVERRIDE_SECTIONS.get(key)
    if owner is None:
        return False
    spec = next(f for f in fields(owner) if f.name == key)
    try:
        _value(get_type_hints(owner)[key], spec.metadata, value, check=True)
    except _Unusual:
        return False
    return True


def _section(cls: type[_T], raw: Any, *, check: bool) -> _T:
    specs = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    if check and (type(raw) is not dict or not raw.keys() <= specs.keys()):
        raise _Unusual
    hints = get_type_hints(cls)
    out = {
        name: _value(hints[name], specs[name].metadata, value, check=check)
        for name, value in raw.items()
    }
    try:
        return cls(**out)
    except ValueError:  # a rule across the section's keys (__post_init__)
        if check:
            raise _Unusual from None
        raise


def _value(hint: Any, limits: Mapping[str, float], value: Any, *, check: bool) -> Any:
    """`value` as pydantic's strict mode gives it for the type `hint`; with `check`,
    _Unusual where pydantic might refuse it."""
    if is_dataclass(hint):
        return _section(hint, value, check=check)  # type: ignore[arg-type]
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        return _union(args, value, check=check)
    if origin is dict:
        if check and (type(value) is not dict or any(type(k) is not str for k in value)):
            raise _Unusual
        return {k: _value(args[1], {}, v, check=check) for k, v in value.items()}
    if origin is list:
        if check and type(value) is not list:
            raise _Unusual
        return [_value(args[0], {}, v, check=check) for v in value]
    if not check or hint is object:
        return value
    if origin is Literal:
        ok = any(type(value) is type(choice) and value == choice for choice in args)
    elif hint is float:
        # strict mode takes an int for a float, and gives a float
        ok = type(value) in (int, float) and math.isfinite(value)
        value = float(value) if ok else value
    else:
        ok = hint in (int, str, bool) and type(value) is hint
    if not ok or not all(_COMPARE[name](value, limit) for name, limit in limits.items()):
        raise _Unusual
    return value


def _union(choices: tuple[Any, ...], value: Any, *, check: bool) -> Any:
    """A value of `str | Section`: a table is the section, anything else the first plain
    type that takes it (pydantic's strict "smart" union does the same)."""
    for choice in choices:
        if is_dataclass(choice) != (type(value) is dict):
            continue
        try:
            return _value(choice, {}, value, check=check)
        except _Unusual:
            continue
    if check:
        raise _Unusual
    return value
