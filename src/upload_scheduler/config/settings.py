"""Resolved settings: the file's values with defaults and per-account overrides applied."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from upload_scheduler import defaults
from upload_scheduler.config.files import resolve_database_url
from upload_scheduler.config.values import (
    CategoryValues,
    FileValues,
    LocationValues,
    PlatformValues,
    PricingValues,
    as_dict,
    build,
    parse_section,
    platform_values,
)

_SECRET_KEYS = frozenset({"client_secret", "client_secret_env"})


@dataclass(frozen=True)
class AccountSettings:
    """Everything a worker or the planner needs to know about one (platform, account)."""

    platform: str
    account_id: str
    timezone: str
    interval_seconds: float
    batch_size: int
    business_hours_start: int
    business_hours_end: int
    api_base_url: str
    min_interval_seconds: float
    hour_call_limit: int
    day_call_limit: int
    daily_limit: int
    max_attempts: int
    retry_delay_seconds: float
    client_id: str
    redirect_uri: str
    day_call_limit_scope: Literal["account", "application"]
    auth_base_url: str
    marketplace_id: str
    content_language: str
    merchant_location_key: str
    fulfillment_policy_id: str
    payment_policy_id: str
    return_policy_id: str
    category_id: str
    condition: str
    sku_prefix: str
    title_overflow: Literal["cut", "reject"]
    seller_id: str
    path: str
    product_category: str
    item_code_prefix: str
    url_interval_seconds: float
    image_max_bytes: int
    # Effective: the currency is never empty (the platform's own when the file names none).
    pricing: PricingValues
    categories: dict[str, str | CategoryValues] = field(default_factory=dict, hash=False)
    location: LocationValues = field(default_factory=LocationValues)
    overridden: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def application(self) -> str | None:
        """The budget key the account's day_call_limit belongs to when it is the
        application's (eBay, Yahoo!: every account on one client_id shares it); None when
        each account has its own."""
        if self.day_call_limit_scope != "application":
            return None
        return self.client_id or "(no client_id)"

    @property
    def exchange_rate_unset(self) -> bool:
        """Lists in a currency other than yen at the default rate of 1.0: almost surely a
        rate never set (see `Settings.pricing_warnings`)."""
        return (
            self.pricing.currency != defaults.DEFAULT_CURRENCY
            and self.pricing.exchange_rate == defaults.EXCHANGE_RATE
        )

    def public_dict(self) -> dict[str, object]:
        """The settings safe to show: no secret is a field of this class. A section
        (`pricing`) is shown key by key, as `pricing.currency`, which is also how
        `overridden` names its keys."""
        shown: dict[str, object] = {}
        for k, v in self.__dict__.items():
            if k in ("overridden", "platform", "account_id"):
                continue
            if is_dataclass(v):
                shown.update({f"{k}.{name}": value for name, value in as_dict(v).items()})
            elif isinstance(v, dict):
                # A table's entries as the file writes them (a category's table as one).
                shown[k] = {
                    key: _table(value) if is_dataclass(value) else value for key, value in v.items()
                }
            else:
                shown[k] = v
        return shown


@dataclass(frozen=True)
class Settings:
    """The loaded configuration. `file` holds the file's values, defaults filled in
    (plain dataclasses, so that a daemon process needs no pydantic)."""

    source: Path
    database_url: str
    timezone: str
    log_dir: Path
    file: FileValues = field(repr=False)

    @classmethod
    def from_file(cls, source: Path, file: FileValues) -> Settings:
        """The settings of checked file values: paths resolved against the file's folder."""
        base = source.parent
        return cls(
            source=source,
            database_url=resolve_database_url(file.database, base),
            timezone=file.timezone,
            log_dir=(base / file.log_dir).resolve(),
            file=file,
        )

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def accounts(self) -> dict[str, list[str]]:
        return self.file.accounts

    def platform_config(self, platform: str) -> PlatformValues:
        return self.file.platforms.get(platform) or platform_values(platform)

    def account_ids(self, platform: str) -> list[str]:
        return list(self.file.accounts.get(platform, []))

    def all_accounts(self) -> list[tuple[str, str]]:
        return [(p, a) for p, ids in self.file.accounts.items() for a in ids]

    def account(self, platform: str, account_id: str) -> AccountSettings:
        if account_id not in self.file.accounts.get(platform, []):
            known = ", ".join(self.file.accounts.get(platform, [])) or "none"
            raise KeyError(
                f"account {account_id!r} is not configured for platform {platform!r} "
                f"(configured: {known}); add it under [accounts] in {self.source}"
            )
        # Any: each value was validated against its key's type in values.py.
        values: dict[str, Any] = {"timezone": self.timezone}
        values.update(as_dict(self.file.daemon))
        pconf = as_dict(self.platform_config(platform))
        for private in ("client_secret", "client_secret_env", "rules"):
            pconf.pop(private)
        values.update(pconf)
        # A per-account secret (shops registered under different OAuth apps) is read by
        # client_secret(); it is no field of AccountSettings, which is shown to users.
        overrides = {
            k: v
            for k, v in self.file.account_overrides.get(account_id, {}).items()
            if k not in _SECRET_KEYS
        }
        raw_pricing = overrides.pop("pricing", None)
        own_pricing: dict[str, Any] = dict(raw_pricing) if isinstance(raw_pricing, dict) else {}
        values.update(overrides)
        values["pricing"] = _effective_pricing(platform, values["pricing"], own_pricing)
        overridden = [*overrides, *(f"pricing.{k}" for k in own_pricing)]
        return AccountSettings(
            platform=platform, account_id=account_id, overridden=tuple(sorted(overridden)), **values
        )

    def client_secret(self, platform: str, account_id: str | None = None) -> str:
        """The OAuth client secret, from the file or from the variable it names; an
        account's own (in [account_overrides]) wins over the platform's."""
        env_name, value = self.client_secret_source(platform, account_id)
        return os.environ.get(env_name, "") if env_name else value

    def client_secret_source(self, platform: str, account_id: str | None = None) -> tuple[str, str]:
        """(variable name, "") when the secret comes from the environment, else ("", the
        secret written in the file)."""
        overrides = self.file.account_overrides.get(account_id, {}) if account_id else {}
        if overrides.get("client_secret_env"):
            return str(overrides["client_secret_env"]), ""
        if overrides.get("client_secret"):
            return "", str(overrides["client_secret"])
        pconf = self.platform_config(platform)
        if pconf.client_secret_env:
            return pconf.client_secret_env, ""
        return "", pconf.client_secret

    def secret_warnings(self) -> list[str]:
        """One line per unset variable a `client_secret_env` names, with the accounts it
        leaves without a secret. A warning, not a problem of the file: commands that read
        the queue need no secret, but those accounts' daemons and `token login` stop with
        exit status 2 until the variable is set."""
        unset: dict[str, list[str]] = {}
        for platform, account_id in self.all_accounts():
            variable, _ = self.client_secret_source(platform, account_id)
            if variable and not os.environ.get(variable):
                unset.setdefault(variable, []).append(f"{platform}/{account_id}")
        return [
            f"client_secret_env: the environment variable {variable} is not set (or empty); "
            f"the daemons of {', '.join(accounts)} and `token login` will stop until it is"
            for variable, accounts in unset.items()
        ]

    def pricing_warnings(self) -> list[str]:
        """One line per account that lists in a currency other than yen at the default
        exchange rate of 1.0: almost surely a rate never set (import-legacy cannot read
        the old one), which would list a ¥1,800 product at 1,800 dollars."""
        unset: dict[str, list[str]] = {}
        for platform, account_id in self.all_accounts():
            account = self.account(platform, account_id)
            if account.exchange_rate_unset:
                unset.setdefault(account.pricing.currency, []).append(f"{platform}/{account_id}")
        return [
            f"pricing: {', '.join(accounts)} list in {currency} at exchange_rate "
            f"{defaults.EXCHANGE_RATE} (one yen per {currency}): a ¥1,800 product would "
            f"list at 1800 {currency}; set exchange_rate in [platforms.<name>.pricing] "
            f"(yen per {currency})"
            for currency, accounts in unset.items()
        ]

    def chatwork_token(self) -> str:
        notify = self.file.notify
        if notify.chatwork_token_env:
            return os.environ.get(notify.chatwork_token_env, "")
        return notify.chatwork_token


def _table(values: Any) -> dict[str, object]:
    """A table entry's keys that are set (`{path, product_category}` of a category)."""
    return {name: value for name, value in as_dict(values).items() if value}


def _effective_pricing(
    platform: str, section: PricingValues, overrides: dict[str, Any]
) -> PricingValues:
    """The platform's [platforms.X.pricing] with the account's own keys over it, and the
    platform's own currency when neither names one. The loaders checked both, so only the
    TOML integer for a float (`exchange_rate = 150`) is converted here."""
    merged = {**as_dict(section), **overrides}
    pricing = parse_section(PricingValues, merged) or build(PricingValues, merged)
    if pricing.currency:
        return pricing
    own = defaults.PLATFORM_CURRENCIES.get(platform, defaults.DEFAULT_CURRENCY)
    return PricingValues(currency=own, exchange_rate=pricing.exchange_rate, markup=pricing.markup)
