"""The configuration's values as plain frozen dataclasses, and a strict check of a TOML
document against them that needs no pydantic.

`Settings.file` is always a `FileValues`: `load.settings_from_dict` validates with the
pydantic models of `model.py` (which explain every problem) and converts; the daemon
child's loader (`light.py`) checks with `parse_file` here and turns to pydantic only
when something is unusual, because pydantic costs a daemon process ~9 MB of its 45 MB
budget. Each field's metadata mirrors the pydantic model's type and bounds;
tests/unit/test_config_light.py holds the two schemas to each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from upload_scheduler import defaults

BAD = object()  # a value the pydantic schema might refuse


def _num(kind: type, *, gt: float | None = None, ge: float | None = None, le: float | None = None):  # type: ignore[no-untyped-def]
    return {"kind": kind, "gt": gt, "ge": ge, "le": le}


_SECONDS = _num(float, gt=0)
_NON_NEGATIVE_SECONDS = _num(float, ge=0)
_COUNT = _num(int, ge=1)
_HOUR = _num(int, ge=0, le=24)
_STR = {"kind": str}
_STRS = {"kind": list}
_BOOL = {"kind": bool}


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
    interval_seconds: float = field(default=defaults.INTERVAL_SECONDS, metadata=_SECONDS)
    batch_size: int = field(default=defaults.BATCH_SIZE, metadata=_COUNT)
    business_hours_start: int = field(default=defaults.BUSINESS_HOURS_START, metadata=_HOUR)
    business_hours_end: int = field(default=defaults.BUSINESS_HOURS_END, metadata=_HOUR)


@dataclass(frozen=True)
class RulesValues:
    """`[platforms.X.rules]`: content rules checked before anything is sent."""

    ng_words: list[str] = field(default_factory=list, metadata=_STRS)
    ng_words_file: str = field(default="", metadata=_STR)
    blocked_categories: list[str] = field(default_factory=list, metadata=_STRS)
    remove_phrases: list[str] = field(default_factory=list, metadata=_STRS)
    emoji: str = field(default="remove", metadata={"kind": "choice", "of": ("remove", "reject")})
    min_price: int = field(default=defaults.MIN_PRICE, metadata=_num(int, ge=0))


@dataclass(frozen=True)
class PlatformValues:
    api_base_url: str = field(default=defaults.BASE_API_URL, metadata=_STR)
    min_interval_seconds: float = field(
        default=defaults.MIN_INTERVAL_SECONDS, metadata=_NON_NEGATIVE_SECONDS
    )
    hour_call_limit: int = field(default=defaults.HOUR_CALL_LIMIT, metadata=_COUNT)
    day_call_limit: int = field(default=defaults.DAY_CALL_LIMIT, metadata=_COUNT)
    daily_limit: int = field(default=defaults.DAILY_LIMIT, metadata=_COUNT)
    max_attempts: int = field(default=defaults.MAX_ATTEMPTS, metadata=_COUNT)
    retry_delay_seconds: float = field(
        default=defaults.RETRY_DELAY_SECONDS, metadata=_NON_NEGATIVE_SECONDS
    )
    client_id: str = field(default="", metadata=_STR)
    client_secret: str = field(default="", repr=False, metadata=_STR)
    client_secret_env: str = field(default="", metadata=_STR)
    redirect_uri: str = field(default=defaults.REDIRECT_URI, metadata=_STR)
    rules: RulesValues = field(default_factory=RulesValues, metadata={"kind": RulesValues})


@dataclass(frozen=True)
class NotifyValues:
    chatwork_token: str = field(default="", repr=False, metadata=_STR)
    chatwork_token_env: str = field(default="", metadata=_STR)
    chatwork_room_id: str = field(default="", metadata=_STR)
    webhook_url: str = field(default="", repr=False, metadata=_STR)
    chatwork_api_url: str = field(default=defaults.NOTIFY_CHATWORK_API_URL, metadata=_STR)


@dataclass(frozen=True)
class ClusterValues:
    standby: bool = field(default=False, metadata=_BOOL)
    lease_ttl_seconds: float = field(default=defaults.LEASE_TTL_SECONDS, metadata=_SECONDS)


@dataclass(frozen=True)
class FileValues:
    database: str = field(default=defaults.DATABASE_URL, metadata=_STR)
    timezone: str = field(default=defaults.TIMEZONE, metadata=_STR)
    log_dir: str = field(default=defaults.LOG_DIR, metadata=_STR)
    accounts: dict[str, list[str]] = field(default_factory=dict, metadata={"kind": "accounts"})
    daemon: DaemonValues = field(default_factory=DaemonValues, metadata={"kind": DaemonValues})
    account_overrides: dict[str, dict[str, object]] = field(
        default_factory=dict, metadata={"kind": "overrides"}
    )
    platforms: dict[str, PlatformValues] = field(
        default_factory=dict, metadata={"kind": "platforms"}
    )
    notify: NotifyValues = field(default_factory=NotifyValues, metadata={"kind": NotifyValues})
    cluster: ClusterValues = field(default_factory=ClusterValues, metadata={"kind": ClusterValues})


DAEMON_FIELDS = {f.name: f.metadata for f in fields(DaemonValues)}
PLATFORM_FIELDS = {f.name: f.metadata for f in fields(PlatformValues) if f.name != "rules"}
OVERRIDE_FIELDS = {**DAEMON_FIELDS, **PLATFORM_FIELDS, "timezone": _STR}


def as_dict(values: Any) -> dict[str, Any]:
    """A section's fields, one level deep (what pydantic's model_dump gave the resolver)."""
    return {f.name: getattr(values, f.name) for f in fields(values)}


# ------------------------------------------------------------------------- strict check


def check_value(spec: Mapping[str, Any], value: object) -> object:
    """`value` as pydantic's strict mode would give it, or BAD when it might refuse it.
    Never more lenient than pydantic: a doubt (such as an infinite float) is BAD."""
    kind = spec["kind"]
    if kind is str:
        return value if type(value) is str else BAD
    if kind is bool:
        return value if type(value) is bool else BAD
    if kind is list:
        ok = type(value) is list and all(type(v) is str for v in value)
        return list(value) if ok else BAD  # type: ignore[arg-type]
    if kind == "choice":
        return value if type(value) is str and value in spec["of"] else BAD
    if kind is int:
        if type(value) is not int:
            return BAD
        number: float = value
    elif kind is float:
        if type(value) not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
            return BAD
        number = float(value)  # type: ignore[arg-type]
    else:
        return BAD
    if spec["gt"] is not None and not number > spec["gt"]:
        return BAD
    if spec["ge"] is not None and not number >= spec["ge"]:
        return BAD
    if spec["le"] is not None and not number <= spec["le"]:
        return BAD
    return number


def parse_file(raw: object) -> FileValues | None:
    """The file's values when pydantic would surely accept `raw` (a TOML document) the
    same, else None: the caller then lets pydantic say what is wrong."""
    try:
        return _section(FileValues, raw, check=True)  # type: ignore[no-any-return]
    except _Unusual:
        return None


def file_values(validated: Mapping[str, Any]) -> FileValues:
    """FileValues from `FileConfig.model_dump()` (already validated: no check)."""
    return _section(FileValues, validated, check=False)  # type: ignore[no-any-return]


class _Unusual(Exception):
    pass


def _section(cls: type, raw: object, *, check: bool) -> Any:
    if type(raw) is not dict:
        raise _Unusual
    specs = {f.name: f.metadata for f in fields(cls)}
    if check and not raw.keys() <= specs.keys():
        raise _Unusual
    out: dict[str, Any] = {}
    for name, value in raw.items():
        kind = specs[name]["kind"]
        if isinstance(kind, type) and kind not in (str, bool, list, int, float):
            out[name] = _section(kind, value, check=check)
        elif kind == "accounts":
            out[name] = _accounts(value) if check else {p: list(v) for p, v in value.items()}
        elif kind == "overrides":
            out[name] = _overrides(value) if check else {a: dict(v) for a, v in value.items()}
        elif kind == "platforms":
            if check and type(value) is not dict:
                raise _Unusual
            out[name] = {p: _section(PlatformValues, v, check=check) for p, v in value.items()}
        elif check:
            out[name] = check_value(specs[name], value)
            if out[name] is BAD:
                raise _Unusual
        else:
            out[name] = list(value) if kind is list else value
    made = cls(**out)
    if check and cls is DaemonValues:
        try:
            check_window(made.business_hours_start, made.business_hours_end)
        except ValueError:
            raise _Unusual from None
    return made


def _accounts(value: object) -> dict[str, list[str]]:
    if type(value) is not dict:
        raise _Unusual
    out = {}
    for platform, ids in value.items():
        checked = check_value(_STRS, ids)
        if checked is BAD:
            raise _Unusual
        out[platform] = checked
    return out  # type: ignore[return-value]


def _overrides(value: object) -> dict[str, dict[str, object]]:
    if type(value) is not dict or any(type(v) is not dict for v in value.values()):
        raise _Unusual
    return {account: dict(keys) for account, keys in value.items()}
