"""What the old system's eBay module kept, in our terms: an account's settings as our
[platforms.ebay] keys, and its SKUs against our rule (SKU = sku_prefix + ASIN). Pure.

The mapping (LEGACY.md, eBay section), which the README repeats:
- credentials.app_id -> client_id; credentials.cert_id -> the client secret (written as
  BASE's are: in the file, or an environment variable with --secrets-to-env);
  credentials.redirect_uri -> redirect_uri (the RuName); credentials.dev_id is not needed
  (eBay's OAuth uses the App ID and Cert ID only).
- settings.merchant_location_key -> merchant_location_key; settings.rate_limit_per_day
  -> day_call_limit (the application's, shared by the accounts on one App ID);
  settings.default_currency -> pricing.currency, when it is a currency we can round.
- environment "sandbox" -> eBay's sandbox hosts (api_base_url, auth_base_url);
  "production" -> the defaults.

SKUs: our adapter sends sku_prefix + ASIN. The old module chose its own SKUs, so the
prefix is derived from them: the one that reproduces the most old SKUs becomes the
platform's, an account whose own SKUs agree on another gets it as an override, and
every SKU still not reproduced is reported (never changed: the rows come along as they
are, so a listed item is still never listed again).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from upload_scheduler import defaults
from upload_scheduler.legacy.values import dig, integer, optional_text, text

EBAY = "ebay"
SANDBOX_API_URL = "https://api.sandbox.ebay.com"
SANDBOX_AUTH_URL = "https://auth.sandbox.ebay.com"
HOSTS = {
    "production": {"api_base_url": defaults.EBAY_API_URL, "auth_base_url": defaults.EBAY_AUTH_URL},
    "sandbox": {"api_base_url": SANDBOX_API_URL, "auth_base_url": SANDBOX_AUTH_URL},
}
# Keys whose production value is the platform's default: never written at [platforms.ebay].
DEFAULT_HOST_KEYS = frozenset(HOSTS["production"])
# account_config.json field -> our [platforms.ebay] key ("pricing.x": [platforms.ebay.pricing]).
FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("client_id", ("credentials", "app_id")),
    ("redirect_uri", ("credentials", "redirect_uri")),
    ("client_secret", ("credentials", "cert_id")),
    ("merchant_location_key", ("settings", "merchant_location_key")),
    ("day_call_limit", ("settings", "rate_limit_per_day")),
    ("pricing.currency", ("settings", "default_currency")),
)
KNOWN_SETTINGS = frozenset({"merchant_location_key", "rate_limit_per_day", "default_currency"})
_EXAMPLES = 5


def environment(account: Mapping[str, Any]) -> str:
    """'production' or 'sandbox'; anything else reads as production (see `account_values`)."""
    value = text(account.get("environment")).lower()
    return value if value in HOSTS else "production"


def account_values(account: Mapping[str, Any]) -> tuple[list[tuple[str, Any, str]], list[str]]:
    """(our key, value, the old field's name) for one eBay account, and what to tell the
    operator about the rest of it. Values are not checked here: the writer checks each
    against our schema."""
    account_id = text(account.get("id"))
    values: list[tuple[str, Any, str]] = []
    for key, path in FIELDS:
        value = dig(account, path)
        if key == "day_call_limit" and value is not None and integer(value) is not None:
            value = integer(value)
        elif key == "pricing.currency" and isinstance(value, str):
            value = value.upper()
        if value is None or value == "":
            continue
        values.append((key, value, ".".join(path)))
    notes = []
    raw_environment = text(account.get("environment"))
    if raw_environment and raw_environment.lower() not in HOSTS:
        notes.append(
            f"eBay account {account_id}: environment {raw_environment!r} is neither "
            "'production' nor 'sandbox'; production is assumed"
        )
    for key, value in HOSTS[environment(account)].items():
        values.append((key, value, "environment"))
    settings = account.get("settings")
    if isinstance(settings, Mapping):
        for name in sorted(set(settings) - KNOWN_SETTINGS):
            notes.append(f"eBay account {account_id}: settings.{name} has no equivalent here")
    return values, notes


def has_dev_id(accounts: Iterable[Mapping[str, Any]]) -> bool:
    return any(dig(a, ("credentials", "dev_id")) for a in accounts)


# ---------------------------------------------------------------------- SKUs


@dataclass(frozen=True)
class SkuRow:
    """An old eBay listing's SKU, with what our rule would need to give it."""

    asin: str
    account_id: str | None
    sku: str
    status: str

    @property
    def prefix(self) -> str | None:
        """The sku_prefix that gives this SKU, or None when no prefix does."""
        if not self.asin or not self.sku.endswith(self.asin):
            return None
        return self.sku[: -len(self.asin)]

    def example(self) -> str:
        return f"{self.asin} {EBAY}/{self.account_id or '(no account)'}: {self.sku}"


def sku_rows(listings: Iterable[Mapping[str, Any]]) -> list[SkuRow]:
    """The old eBay listings that have an SKU."""
    rows = []
    for row in listings:
        sku = text(row.get("sku"))
        if text(row.get("platform")).lower() != EBAY or not sku:
            continue
        rows.append(
            SkuRow(
                asin=text(row.get("asin")),
                account_id=optional_text(row.get("account_id")),
                sku=sku,
                status=text(row.get("status")).lower(),
            )
        )
    return rows


def derive_prefixes(rows: Iterable[SkuRow], accounts: Iterable[str]) -> tuple[str, dict[str, str]]:
    """The platform's sku_prefix (the one reproducing the most old SKUs, "" on a tie),
    and the accounts whose own SKUs are best reproduced by another prefix."""
    rows = list(rows)
    platform = _best(Counter(p for r in rows if (p := r.prefix) is not None), "")
    own: dict[str, str] = {}
    for account_id in accounts:
        mine = Counter(
            p for r in rows if r.account_id == account_id and (p := r.prefix) is not None
        )
        best = _best(mine, platform)
        if best != platform:
            own[account_id] = best
    return platform, own


def mismatches(rows: Iterable[SkuRow], prefix_of: Callable[[str | None], str]) -> list[SkuRow]:
    """The rows whose SKU our rule does not give, with `prefix_of(account)` the
    effective sku_prefix of each account (the platform's for an unassigned one)."""
    return [r for r in rows if r.sku != prefix_of(r.account_id) + r.asin]


def sku_examples(rows: Iterable[SkuRow]) -> list[str]:
    return [r.example() for r in list(rows)[:_EXAMPLES]]


def _best(prefixes: Counter[str], prefer: str) -> str:
    if not prefixes:
        return prefer
    return max(prefixes, key=lambda p: (prefixes[p], p == prefer))
