"""Our configuration file, from the old accounts (BASE's and eBay's account_config.json)
and scheduler settings (accounts_config.py).

Our file has one OAuth app per platform, the old system one set of credentials per
account: the first account's become `[platforms.<name>]` (for eBay the first production
account's), and an account whose values differ (or that the first lacks) gets them in
`[account_overrides.<id>]`, so that no account borrows another's value:
eBay sellers on one App ID share every key, sellers on different App IDs (a sandbox
seller among them) get their own. Every value is checked against our schema before it
is written; one we cannot use is left out and reported, so the file always passes
`upload-scheduler config check`. A platform without an installed adapter is left out
whole, since `config check` refuses it.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upload_scheduler import defaults
from upload_scheduler.config import ConfigError, settings_from_dict
from upload_scheduler.config.model import DAEMON_KEYS, OVERRIDE_KEYS
from upload_scheduler.legacy import ebay
from upload_scheduler.legacy.ebay import EBAY, SkuRow
from upload_scheduler.legacy.old_files import EBAY_ACCOUNT_FILE, OldAccounts
from upload_scheduler.legacy.settings_parse import SchedulerSettings
from upload_scheduler.legacy.values import dig as _dig
from upload_scheduler.legacy.values import integer

BASE = "base"
SECRET_ENV = "BASE_CLIENT_SECRET"
EBAY_SECRET_ENV = "EBAY_CLIENT_SECRET"
SECRET_ENVS = {BASE: SECRET_ENV, EBAY: EBAY_SECRET_ENV}
# Where each platform's account values come from, as the notes name it.
ACCOUNT_SOURCES = {BASE: "account_config.json", EBAY: "eBay account_config.json"}
# Platforms whose accounts the old system keeps nothing of that we could bring over (no
# store settings, no login): listed in UPLOAD_ACCOUNTS, they are left out with this reason
# instead of written without the keys their accounts need (a Yahoo! store's seller_id).
NOT_BROUGHT_OVER = {
    "yahoo": "the old system keeps no Yahoo! store settings or login to bring over: add the "
    'store by hand (README, "Yahoo!ショッピング": seller_id, then token login)',
}
# The old names of keys that mean the same as ours.
RENAMED_KEYS = {"daily_upload_limit": "daily_limit", "rate_limit_per_hour": "hour_call_limit"}
# account_config.json field -> our [platforms.base] key.
_ACCOUNT_FIELDS = (
    ("client_id", ("credentials", "client_id")),
    ("redirect_uri", ("credentials", "redirect_uri")),
    ("client_secret", ("credentials", "client_secret")),
    ("daily_limit", ("daily_upload_limit",)),
    ("hour_call_limit", ("rate_limit_per_hour",)),
)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class ConfigPlan:
    raw: dict[str, Any]
    text: str
    accounts: dict[str, list[str]]
    left_out: list[tuple[str, str, str]] = field(default_factory=list)
    secrets: str = "none"  # file, environment or none
    secret_variables: dict[str, str] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)
    # The eBay accounts' keys: "shared" (one App ID: [platforms.ebay]), "per account"
    # (App IDs differ: [account_overrides.<id>]), or "" when no eBay account is written.
    ebay_settings: str = ""


def plan_config(
    old_accounts: OldAccounts,
    scheduler: SchedulerSettings | None,
    *,
    installed: Iterable[str],
    secrets_to_env: bool,
    config_path: Path,
    old_root: Path,
    ebay_accounts: OldAccounts | None = None,
    ebay_skus: Sequence[SkuRow] = (),
) -> ConfigPlan:
    """The file to write, with what was left out and why. `ebay_skus` (the old eBay
    listings' SKUs) decide sku_prefix. Raises ConfigError only on a bug: every value has
    been checked on its own before."""
    builder = _Builder(frozenset(installed), config_path)
    old_ebay = ebay_accounts or OldAccounts(file=EBAY_ACCOUNT_FILE.as_posix())
    accounts, left_out = builder.accounts(old_accounts, scheduler, old_ebay)
    raw: dict[str, Any] = {
        "database": defaults.DATABASE_URL,
        "timezone": defaults.TIMEZONE,
        "log_dir": defaults.LOG_DIR,
        "accounts": accounts,
        "daemon": builder.daemon(scheduler.mapping("DAEMON_CONFIG") if scheduler else {}),
    }
    platforms: dict[str, Any] = {}
    overrides: dict[str, dict[str, Any]] = {}
    secrets, variables = "none", dict[str, str]()
    if BASE in accounts or EBAY not in accounts:  # an old system without BASE lists on eBay
        included = _first_of_each(old_accounts.accounts, accounts.get(BASE, []))
        platform, overrides, secrets, variables = builder.platform(BASE, included, secrets_to_env)
        platforms[BASE] = platform
    ebay_settings = ""
    if EBAY in accounts:
        chosen = _first_of_each(old_ebay.accounts, accounts[EBAY])
        section, own, ebay_secrets, ebay_variables = builder.platform(EBAY, chosen, secrets_to_env)
        prefix, account_prefixes = ebay.derive_prefixes(ebay_skus, accounts[EBAY])
        if prefix:
            section["sku_prefix"] = prefix
        for account_id, account_prefix in account_prefixes.items():
            own.setdefault(account_id, {})["sku_prefix"] = account_prefix
        platforms[EBAY] = section
        overrides = {**overrides, **own}
        secrets = _combined(secrets, ebay_secrets)
        variables.update(ebay_variables)
        ebay_settings = "per account" if any("client_id" in v for v in own.values()) else "shared"
        if ebay.has_dev_id(chosen):
            builder.notes.append(
                "eBay credentials.dev_id is not needed here (eBay's OAuth uses the App ID and "
                "Cert ID only); left out"
            )
    if platforms:
        raw["platforms"] = platforms
    specific = scheduler.mapping("ACCOUNT_SPECIFIC_CONFIG") if scheduler else {}
    raw["account_overrides"] = builder.overrides(overrides, specific, accounts, raw["daemon"])
    if not raw["account_overrides"]:
        del raw["account_overrides"]
    text = render_toml(raw, header=_header(old_root, with_ebay=EBAY in accounts))
    if tomllib.loads(text) != raw:  # pragma: no cover - a rendering bug
        raise ConfigError(config_path, ["the written configuration does not read back"])
    settings_from_dict(raw, config_path)  # the same check `config check` makes
    return ConfigPlan(
        raw=raw,
        text=text,
        accounts=accounts,
        left_out=left_out,
        secrets=secrets,
        secret_variables=variables,
        notes=builder.notes,
        ebay_settings=ebay_settings,
    )


def write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (it may hold a client secret); never
    overwrite a file. Windows ignores the mode; the file inherits the folder's ACL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def secret_lines(variables: Mapping[str, str], *, windows: bool | None = None) -> list[str]:
    """The shell lines that set the secret variables (cmd.exe's `set` on Windows)."""
    windows = os.name == "nt" if windows is None else windows
    if windows:
        return [f"set {name}={value}" for name, value in variables.items()]
    return [f"export {name}={_sh_quote(value)}" for name, value in variables.items()]


class _Builder:
    def __init__(self, installed: frozenset[str], config_path: Path) -> None:
        self.installed = installed
        self.config_path = config_path
        self.notes: list[str] = []

    # ------------------------------------------------------------------ [accounts]

    def accounts(
        self, old: OldAccounts, scheduler: SchedulerSettings | None, old_ebay: OldAccounts
    ) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
        """[accounts]: BASE's from UPLOAD_ACCOUNTS (else every BASE account), eBay's from
        the eBay module's own account file, which is what ran its sellers."""
        by_id: dict[str, dict[str, Any]] = {}
        for account in old.accounts:
            account_id = str(account["id"]).strip()
            if account_id in by_id:
                self.notes.append(f"account_config.json lists {account_id!r} twice; first kept")
            by_id.setdefault(account_id, account)
        upload = scheduler.mapping("UPLOAD_ACCOUNTS") if scheduler else {}
        if not upload:
            upload = {BASE: list(by_id)}
        accounts: dict[str, list[str]] = {}
        left_out: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        upload_ebay: list[str] = []
        for platform, ids in upload.items():
            platform = str(platform).strip().lower()
            if not isinstance(ids, list | tuple):
                self.notes.append(f"UPLOAD_ACCOUNTS[{platform!r}] is not a list; ignored")
                continue
            if platform == EBAY:
                upload_ebay = [str(i).strip() for i in ids]
                continue
            for account_id in (str(i).strip() for i in ids):
                reason = self._left_out_reason(platform, account_id, by_id, seen, old.found)
                if reason:
                    left_out.append((platform, account_id, reason))
                else:
                    accounts.setdefault(platform, []).append(account_id)
                seen.add(account_id)
        for account_id, account in by_id.items():
            if account_id in seen:
                continue
            reason = (
                "inactive in account_config.json"
                if account.get("active") is False
                else "not in UPLOAD_ACCOUNTS: the old scheduler did not upload for it"
            )
            left_out.append((BASE, account_id, reason))
        taken = {a for ids in accounts.values() for a in ids}
        ebay_ids, ebay_left_out = self.ebay_accounts(old_ebay, upload_ebay, taken)
        if ebay_ids:
            accounts[EBAY] = ebay_ids
        return accounts, left_out + ebay_left_out

    def ebay_accounts(
        self, old: OldAccounts, upload_ids: Sequence[str], taken: set[str]
    ) -> tuple[list[str], list[tuple[str, str, str]]]:
        """The eBay file's active accounts, and why the others are left out."""
        ids: list[str] = []
        left_out: list[tuple[str, str, str]] = []
        no_adapter = f"no adapter is installed for platform {EBAY!r}"
        seen: set[str] = set()
        for account in old.accounts:
            account_id = str(account["id"]).strip()
            if account_id in seen:
                self.notes.append(f"{old.file} lists {account_id!r} twice; first kept")
                continue
            seen.add(account_id)
            reason = ""
            if account.get("active") is False:
                reason = "inactive in account_config.json"
            elif EBAY not in self.installed:
                reason = no_adapter
            elif account_id in taken:
                reason = "a BASE account has the same id; ids are unique across platforms here"
            else:
                reason = self._problem({"accounts": {EBAY: [account_id]}})
            if reason:
                left_out.append((EBAY, account_id, reason))
            else:
                ids.append(account_id)
        for account_id in upload_ids:
            if account_id in seen:
                continue
            seen.add(account_id)
            reason = no_adapter if EBAY not in self.installed else ""
            reason = reason or f"not in {old.file}: no eBay credentials or settings for it"
            left_out.append((EBAY, account_id or "(empty)", reason))
        if left_out and EBAY not in self.installed and any(r == no_adapter for *_, r in left_out):
            self.notes.append(
                "no eBay adapter is installed: the eBay accounts and their settings are not "
                "written (`config check` would refuse them); their listings and tokens come "
                "along. Once it is installed, move the written configuration away and run "
                "import-legacy again (nothing is added twice), or add them by hand"
            )
        return ids, left_out

    def _left_out_reason(
        self,
        platform: str,
        account_id: str,
        by_id: Mapping[str, dict[str, Any]],
        seen: set[str],
        have_account_file: bool,
    ) -> str:
        if not account_id:
            return "empty account id"
        if account_id in seen:
            return "listed twice in UPLOAD_ACCOUNTS"
        if platform not in self.installed:
            return f"no adapter is installed for platform {platform!r}"
        if platform in NOT_BROUGHT_OVER:
            return NOT_BROUGHT_OVER[platform]
        if platform == BASE and by_id.get(account_id, {}).get("active") is False:
            return "inactive in account_config.json"
        if platform == BASE and account_id not in by_id and have_account_file:
            self.notes.append(
                f"{account_id} has no entry in account_config.json: it uses the platform's "
                "OAuth app"
            )
        return ""

    # ------------------------------------------------------------------ [daemon]

    def daemon(self, old: Mapping[str, Any]) -> dict[str, Any]:
        known: dict[str, Any] = {}
        for key, value in old.items():
            if key in DAEMON_KEYS:
                known[key] = value
            else:
                self.notes.append(f"DAEMON_CONFIG {key!r} has no equivalent here; ignored")
        if not self._problem({"daemon": known}):
            return known
        # Some value is unusable: keep the others, one at a time.
        daemon: dict[str, Any] = {}
        for key, value in known.items():
            problem = self._problem({"daemon": {**daemon, key: value}})
            if problem:
                self.notes.append(f"DAEMON_CONFIG {key!r}: {problem}; the default is used")
            else:
                daemon[key] = value
        return daemon

    # ------------------------------------------------------------------ [platforms.X]

    def platform(
        self, name: str, included: list[dict[str, Any]], secrets_to_env: bool
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str, dict[str, str]]:
        """[platforms.<name>] (the first account's values), the other accounts' own values
        where they differ or the first has none, where the secrets went, and the variables
        to set with --secrets-to-env."""
        source = ACCOUNT_SOURCES[name]
        env_name = SECRET_ENVS[name]
        if name == EBAY:  # production sellers first: theirs are the platform's keys
            included = sorted(included, key=lambda a: ebay.environment(a) != "production")
        platform: dict[str, Any] = {}
        overrides: dict[str, dict[str, Any]] = {}
        own_secret: set[str] = set()
        for index, account in enumerate(included):
            account_id = str(account["id"]).strip()
            for key, value in self._usable_values(name, account_id, account):
                if key == "client_secret":
                    own_secret.add(account_id)
                if index == 0:
                    platform[key] = value
                elif platform.get(key) != value:
                    overrides.setdefault(account_id, {})[key] = value
        if name == EBAY:
            for key in ebay.DEFAULT_HOST_KEYS:
                if platform.get(key) == ebay.HOSTS["production"][key]:
                    del platform[key]
        # An account on its own app without a secret of its own must not borrow another
        # app's: it gets a variable of its own to set.
        for account_id, values in overrides.items():
            if "client_id" in values and account_id not in own_secret:
                variable = f"{env_name}_{_env_suffix(account_id)}"
                values["client_secret_env"] = variable
                self.notes.append(
                    f"{source} {account_id} has its own client id but no client secret: set "
                    f"{variable} before `upload-scheduler token login`"
                )
        secret = platform.pop("client_secret", None)
        nested = {a: _nested(v) for a, v in overrides.items()}
        variables: dict[str, str] = {}
        if secret is None:
            platform["client_secret_env"] = env_name
            whose = f" for {included[0]['id']}" if own_secret else ""
            self.notes.append(
                f"no client secret in {source}{whose}: set {env_name} before "
                "`upload-scheduler token login`"
            )
        elif secrets_to_env:
            platform["client_secret_env"] = env_name
            variables[env_name] = secret
        else:
            platform["client_secret"] = secret
        if secrets_to_env:
            for account_id, values in nested.items():
                if "client_secret" in values:
                    variable = f"{env_name}_{_env_suffix(account_id)}"
                    variables[variable] = values.pop("client_secret")
                    values["client_secret_env"] = variable
        if not own_secret:
            where = "none"
        else:
            where = "environment" if secrets_to_env else "file"
        return _nested(platform), nested, where, variables

    def _usable_values(
        self, name: str, account_id: str, account: Mapping[str, Any]
    ) -> list[tuple[str, Any]]:
        """An old account's values our schema accepts; each refused one is named in a
        note (a secret's problem without its value)."""
        found, notes = _account_values(name, account)
        self.notes += notes
        usable = []
        for key, value, label in found:
            problem = self._problem({"platforms": {name: _nested({key: value})}})
            if problem:
                shown = "" if "secret" in key else f" {problem}"
                self.notes.append(
                    f"{ACCOUNT_SOURCES[name]} {account_id} {label}: not usable{shown}; ignored"
                )
                continue
            usable.append((key, value))
        return usable

    # ------------------------------------------------------------------ [account_overrides]

    def overrides(
        self,
        from_accounts: dict[str, dict[str, Any]],
        specific: Mapping[str, Any],
        accounts: Mapping[str, list[str]],
        daemon: Mapping[str, Any],
    ) -> dict[str, dict[str, Any]]:
        configured = {a for ids in accounts.values() for a in ids}
        result = {a: dict(v) for a, v in from_accounts.items() if a in configured}
        for account_id, values in specific.items():
            account_id = str(account_id).strip()
            if account_id not in configured:
                self.notes.append(
                    f"ACCOUNT_SPECIFIC_CONFIG for {account_id!r} is left out: the account is "
                    "not under [accounts]"
                )
                continue
            if not isinstance(values, dict):
                self.notes.append(f"ACCOUNT_SPECIFIC_CONFIG[{account_id!r}] is not a dict")
                continue
            known = result.setdefault(account_id, {})
            for old_key, value in values.items():
                key = RENAMED_KEYS.get(old_key, old_key)
                if key in OVERRIDE_KEYS:
                    known[key] = value  # the scheduler's own setting wins over the account file's
                else:
                    self.notes.append(
                        f"ACCOUNT_SPECIFIC_CONFIG {account_id} {old_key!r} has no equivalent "
                        "here; ignored"
                    )
        for account_id, values in result.items():
            result[account_id] = self._usable_overrides(accounts, daemon, account_id, values)
        return {a: v for a, v in result.items() if v}

    def _usable_overrides(
        self,
        accounts: Mapping[str, list[str]],
        daemon: Mapping[str, Any],
        account_id: str,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        if not self._problem(self._override_fragment(accounts, daemon, account_id, values)):
            return values
        usable: dict[str, Any] = {}
        for key, value in values.items():
            fragment = self._override_fragment(accounts, daemon, account_id, {**usable, key: value})
            problem = self._problem(fragment)
            if problem:
                shown = "not usable" if "secret" in key else problem
                self.notes.append(f"[account_overrides.{account_id}] {key}: {shown}; left out")
            else:
                usable[key] = value
        return usable

    def _override_fragment(
        self,
        accounts: Mapping[str, list[str]],
        daemon: Mapping[str, Any],
        account_id: str,
        values: Mapping[str, Any],
    ) -> dict[str, Any]:
        platform = next(p for p, ids in accounts.items() if account_id in ids)
        return {
            "accounts": {platform: [account_id]},
            "daemon": dict(daemon),
            "account_overrides": {account_id: dict(values)},
        }

    def _problem(self, fragment: dict[str, Any]) -> str:
        """Why our schema refuses this piece of a configuration, or "" when it accepts it."""
        try:
            settings_from_dict(fragment, self.config_path)
        except ConfigError as exc:
            return "; ".join(exc.problems)
        return ""


# ---------------------------------------------------------------------- TOML


def render_toml(raw: Mapping[str, Any], *, header: str = "") -> str:
    """Our configuration's shape as TOML: top-level values, then one table per section
    (two levels deep for [platforms.X] and [account_overrides.X])."""
    lines = [header] if header else []
    scalars = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for section, body in raw.items():
        if not isinstance(body, dict):
            continue
        nested = all(isinstance(v, dict) for v in body.values()) and body
        if section in ("platforms", "account_overrides") and nested:
            for name, values in body.items():
                lines += _table(f"{_key(section)}.{_key(name)}", values)
        else:
            lines += _table(_key(section), body)
    return "\n".join(lines) + "\n"


def _table(name: str, body: Mapping[str, Any]) -> list[str]:
    """One table, its plain keys first and then its sub-tables ([platforms.ebay.pricing])."""
    lines = ["", f"[{name}]"]
    lines += [f"{_key(k)} = {_value(v)}" for k, v in body.items() if not isinstance(v, dict)]
    for key, value in body.items():
        if isinstance(value, dict):
            lines += _table(f"{name}.{_key(key)}", value)
    return lines


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _string(value: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _header(old_root: Path, *, with_ebay: bool = False) -> str:
    files = "account_config.json files" if with_ebay else "account_config.json"
    return (
        f"# Written by `upload-scheduler import-legacy` from {old_root}\n"
        f"# (its accounts_config.py and {files}). Keep this file private if it\n"
        "# holds a client secret. `upload-scheduler config check` shows every account's\n"
        "# effective settings; the README's configuration reference lists every key.\n"
    )


def _account_values(
    name: str, account: Mapping[str, Any]
) -> tuple[list[tuple[str, Any, str]], list[str]]:
    """(our key, value, the old field) of one old account, and notes about it."""
    if name == EBAY:
        return ebay.account_values(account)
    values = []
    for key, path in _ACCOUNT_FIELDS:
        value = _dig(account, path)
        if key in ("daily_limit", "hour_call_limit") and value is not None:
            value = integer(value) if integer(value) is not None else value
        if value is not None and value != "":
            values.append((key, value, ".".join(path)))
    return values, []


def _nested(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys ("pricing.currency") as the sub-tables the file holds them in."""
    result: dict[str, Any] = {}
    for key, value in values.items():
        table, dot, sub = key.partition(".")
        if dot:
            result.setdefault(table, {})[sub] = value
        else:
            result[key] = value
    return result


def _first_of_each(accounts: Iterable[dict[str, Any]], ids: Sequence[str]) -> list[dict[str, Any]]:
    """The accounts named in `ids`, each once (a file may list an id twice: the first wins)."""
    chosen: dict[str, dict[str, Any]] = {}
    for account in accounts:
        account_id = str(account["id"]).strip()
        if account_id in ids:
            chosen.setdefault(account_id, account)
    return list(chosen.values())


def _combined(first: str, second: str) -> str:
    """Where the secrets went, over two platforms: in the file if any went there."""
    for where in ("file", "environment"):
        if where in (first, second):
            return where
    return "none"


def _env_suffix(account_id: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", account_id.upper()).strip("_") or "ACCOUNT"


def _sh_quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@%+=,-]+", value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"
