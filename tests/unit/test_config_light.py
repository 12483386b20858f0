"""The daemon child's loader without pydantic (`config.light`) gives the same Settings as
`load_settings` for every file, and the same ConfigError for every bad one: its strict
check never accepts what the pydantic schema refuses."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, get_type_hints

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from upload_scheduler.config import ConfigError, load_settings
from upload_scheduler.config import load as load_module
from upload_scheduler.config.light import load_settings_light
from upload_scheduler.config.model import (
    ClusterConfig,
    DaemonConfig,
    FileConfig,
    NotifyConfig,
    PlatformConfig,
    PricingConfig,
    RulesConfig,
    section_model,
)
from upload_scheduler.config.settings import AccountSettings
from upload_scheduler.config.values import (
    ClusterValues,
    DaemonValues,
    FileValues,
    NotifyValues,
    PlatformValues,
    PricingValues,
    RulesValues,
    bounds,
    build,
    override_ok,
    parse_file,
    parse_section,
)
from upload_scheduler.platforms import registry

PAIRS = [
    (FileConfig, FileValues),
    (DaemonConfig, DaemonValues),
    (RulesConfig, RulesValues),
    (PricingConfig, PricingValues),
    (PlatformConfig, PlatformValues),
    (NotifyConfig, NotifyValues),
    (ClusterConfig, ClusterValues),
]


@pytest.mark.parametrize(("model", "values"), PAIRS)
def test_the_models_are_built_from_the_dataclasses(model: Any, values: Any) -> None:
    assert list(model.model_fields) == [f.name for f in fields(values)]
    assert build(values, model().model_dump()) == values()
    private = {f.name for f in fields(values) if not f.repr}
    assert {n for n, f in model.model_fields.items() if not f.repr} == private


def test_account_settings_hold_every_key_an_account_resolves() -> None:
    """AccountSettings is the typed view of [daemon] + [platforms.X] + timezone after
    overrides (secrets and rules stay out): a key added to the schema must appear there,
    or `Settings.account` could not build it."""
    hints = get_type_hints(AccountSettings)
    resolved = {
        name: hint
        for cls in (DaemonValues, PlatformValues)
        for name, hint in get_type_hints(cls).items()
        if name not in ("client_secret", "client_secret_env", "rules")
    }
    resolved["timezone"] = get_type_hints(FileValues)["timezone"]
    own = {"platform", "account_id", "overridden"}
    assert {k: v for k, v in hints.items() if k not in own} == resolved


@dataclass(frozen=True)
class _Shipping:
    """A section a new marketplace might add, written once."""

    carrier: Literal["yamato", "sagawa"] = "yamato"
    days: int = field(default=2, metadata=bounds(ge=1, le=14))
    fee: float = field(default=0.0, metadata=bounds(ge=0))
    regions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.fee and not self.regions:
            raise ValueError("a fee needs regions")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"days": 15}, "less than or equal to 14"),
        ({"days": "3"}, "valid integer"),
        ({"fee": -1}, "greater than or equal to 0"),
        ({"carrier": "post"}, "'yamato' or 'sagawa'"),
        ({"regions": ["a", 1]}, "valid string"),
        ({"fee": 1.5}, "a fee needs regions"),
        ({"dayz": 3}, "Extra inputs are not permitted"),
    ],
)
def test_a_section_written_once_is_checked_by_both_readers(
    raw: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        section_model(_Shipping).model_validate(raw)
    assert parse_section(_Shipping, raw) is None


def test_a_good_section_gives_the_same_values_from_both_readers() -> None:
    raw = {"carrier": "sagawa", "days": 3, "fee": 2, "regions": ["kanto"]}
    full = build(_Shipping, section_model(_Shipping).model_validate(raw).model_dump())
    assert parse_section(_Shipping, raw) == full
    assert full.fee == 2.0 and isinstance(full.fee, float)


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("batch_size", 3, True),
        ("batch_size", 0, False),
        ("daily_limit", True, False),
        ("min_interval_seconds", 0, True),
        ("interval_seconds", math.inf, False),
        ("timezone", "UTC", True),
        ("timezone", 9, False),
        ("rules", {}, False),
        ("pricing", {}, True),
        ("pricing", {"currency": "USD", "exchange_rate": 150}, True),
        ("pricing", {"currency": "XYZ"}, False),
        ("pricing", {"markup": 0}, False),
        ("pricing", {"rate": 1.0}, False),
        ("pricing", 1.2, False),
        ("client_secret", "s", True),
        ("nope", 1, False),
    ],
)
def test_override_ok_follows_the_key_s_own_section(key: str, value: object, ok: bool) -> None:
    assert override_ok(key, value) is ok


def typed(value: Any) -> Any:
    """A value with the type of every leaf, so that 2 and 2.0 differ."""
    if is_dataclass(value):
        return (
            type(value).__name__,
            [(f.name, typed(getattr(value, f.name))) for f in fields(value)],
        )
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, repr(value))


def finite(raw: Any) -> bool:
    if isinstance(raw, float):
        return math.isfinite(raw)
    if isinstance(raw, dict):
        return all(finite(v) for v in raw.values())
    if isinstance(raw, list):
        return all(finite(v) for v in raw)
    return True


# Values near every bound and of every TOML type, for any key.
ANY_VALUE = st.sampled_from(
    [
        -1, 0, 1, 2, 5, 6, 9, 23, 24, 25, 10_000,
        -0.5, 0.0, 0.5, 1.0, 2.0, 24.0, math.inf, -math.inf, math.nan,
        True, False, "", "x", "60", "remove", "reject", "Asia/Tokyo", "USD", "XYZ", 150.0,
        [], ["a"], ["a", 1], [1], {}, {"a": 1},
    ]
)  # fmt: skip


def section(model: Any) -> st.SearchStrategy[dict[str, Any]]:
    keys = [*model.model_fields, "unknown_key"]
    return st.dictionaries(st.sampled_from(keys), ANY_VALUE, max_size=4)


PLATFORM = st.one_of(
    section(PlatformConfig),
    st.fixed_dictionaries({"rules": section(RulesConfig)}),
    st.fixed_dictionaries({"pricing": section(PricingConfig)}),
    ANY_VALUE,
)
DOCUMENT = st.fixed_dictionaries(
    {},
    optional={
        "database": st.sampled_from(["sqlite:///us.db", "nonsense://", "", 1]),
        "timezone": st.sampled_from(["Asia/Tokyo", "UTC", "Mars/Base", 9]),
        "log_dir": st.sampled_from(["logs", 1]),
        "accounts": st.one_of(
            st.dictionaries(
                st.sampled_from(["base", "fake", "nope"]),
                st.lists(st.sampled_from(["a1", "a2", " ", 3]), max_size=3),
                max_size=2,
            ),
            ANY_VALUE,
        ),
        "daemon": st.one_of(section(DaemonConfig), ANY_VALUE),
        "account_overrides": st.one_of(
            st.dictionaries(
                st.sampled_from(["a1", "a2", "zz"]),
                st.one_of(section(DaemonConfig), section(PlatformConfig), ANY_VALUE),
                max_size=2,
            ),
            ANY_VALUE,
        ),
        "platforms": st.one_of(
            st.dictionaries(st.sampled_from(["base", "fake", "nope"]), PLATFORM, max_size=2),
            ANY_VALUE,
        ),
        "notify": st.one_of(section(NotifyConfig), ANY_VALUE),
        "cluster": st.one_of(section(ClusterConfig), ANY_VALUE),
        "extra": ANY_VALUE,
    },
)


@given(DOCUMENT)
@settings(max_examples=600, deadline=None)
@example({"daemon": {"business_hours_start": 5, "business_hours_end": 5}})
@example({"daemon": {"interval_seconds": 2}, "cluster": {"lease_ttl_seconds": 1}})
@example({"platforms": {"base": {"rules": {"emoji": "reject", "ng_words": ["a"]}}}})
@example({"platforms": {"base": {"pricing": {"currency": "USD", "exchange_rate": 150}}}})
@example({"platforms": {"base": {"pricing": {"currency": "XYZ"}}}})
def test_light_check_accepts_only_what_pydantic_accepts(raw: dict[str, Any]) -> None:
    light = parse_file(raw)
    try:
        full = build(FileValues, FileConfig.model_validate(raw).model_dump())
    except ValidationError:
        assert light is None
        return
    if light is None:
        # Only a doubt the light check may not resolve: an infinite float.
        assert not finite(raw)
    else:
        assert typed(light) == typed(full)


def outcome(load: Any, path: Path) -> Any:
    try:
        return ("ok", load(path))
    except ConfigError as exc:
        return ("error", str(exc))


ACCOUNTS = st.lists(st.sampled_from(["a1", "a2", "", "  "]), max_size=3)
PRICING = st.fixed_dictionaries(
    {},
    optional={
        "currency": st.sampled_from(["USD", "JPY", "XYZ", ""]),
        "exchange_rate": st.sampled_from([150, 149.5, 0, -1.0]),
        "markup": st.sampled_from([1, 1.2, 0.0, 101]),
    },
)
OVERRIDE = st.dictionaries(
    st.sampled_from(
        [
            "timezone",
            "business_hours_start",
            "business_hours_end",
            "daily_limit",
            "rules",
            "pricing",
            "bad",
        ]
    ),
    st.one_of(st.sampled_from([0, 5, 9, 24, -1, "UTC", "Mars/Base", 2.5, True]), PRICING),
    max_size=3,
)
SEMANTIC = st.fixed_dictionaries(
    {
        "accounts": st.dictionaries(
            st.sampled_from(["base", "fake", "nope"]), ACCOUNTS, min_size=1, max_size=2
        ),
    },
    optional={
        "database": st.sampled_from(
            ["sqlite:///us.db", "sqlite://", "nonsense", "postgresql://u@h/db"]
        ),
        "timezone": st.sampled_from(["Asia/Tokyo", "UTC", "Mars/Base"]),
        "daemon": st.fixed_dictionaries(
            {},
            optional={
                "business_hours_start": st.sampled_from([0, 5, 9]),
                "business_hours_end": st.sampled_from([5, 9, 24]),
            },
        ),
        "account_overrides": st.dictionaries(st.sampled_from(["a1", "a2", "zz"]), OVERRIDE),
        "platforms": st.dictionaries(
            st.sampled_from(["base", "fake", "nope"]),
            st.fixed_dictionaries(
                {},
                optional={"api_base_url": st.just("http://127.0.0.1:1"), "pricing": PRICING},
            ),
            max_size=2,
        ),
    },
)


def toml_text(raw: dict[str, Any]) -> str:
    """A small TOML writer for the documents above (tables of scalars and lists)."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value + '"'
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        return repr(value)

    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in raw.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {scalar(value)}")
    while tables:
        name, table = tables.pop(0)
        lines.append(f'["{name}"]' if "." not in name else f"[{name}]")
        for key, value in table.items():
            if isinstance(value, dict):
                tables.append((f"{name}.{key}", value))
            else:
                lines.append(f'"{key}" = {scalar(value)}')
    return "\n".join(lines) + "\n"


@given(SEMANTIC)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example({"accounts": {"base": ["a1"]}, "account_overrides": {"a1": {"timezone": "UTC"}}})
@example({"accounts": {"base": ["a1", "a1"]}})
@example(
    {
        "accounts": {"base": ["a1", "a2"]},
        "platforms": {"base": {"pricing": {"markup": 1.2}}},
        "account_overrides": {"a2": {"pricing": {"currency": "USD", "exchange_rate": 150}}},
    }
)
def test_light_loader_gives_the_same_settings_and_errors(
    tmp_path: Path, raw: dict[str, Any]
) -> None:
    path = tmp_path / "upload-scheduler.toml"
    text = toml_text(raw)
    assert tomllib.loads(text) == raw
    path.write_text(text, encoding="utf-8")
    light = partial(load_settings_light, platforms=registry)
    assert outcome(light, path) == outcome(partial(load_settings, platforms=registry), path)


def test_light_loader_reads_a_good_file_without_pydantic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ordinary file never reaches the pydantic loader."""
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(
        toml_text(
            {
                "accounts": {"base": ["a1", "a2"]},
                "daemon": {"interval_seconds": 5},
                "account_overrides": {"a2": {"business_hours_start": 9, "timezone": "UTC"}},
                "platforms": {"base": {"client_id": "c", "client_secret": "s"}},
            }
        ),
        encoding="utf-8",
    )
    full = load_settings(path)

    def refuse(*_: object) -> None:
        raise AssertionError("the light loader asked pydantic")

    monkeypatch.setattr(load_module, "settings_from_dict", refuse)
    light = load_settings_light(path)
    assert light == full
    assert light.account("base", "a2").timezone == "UTC"
    assert light.client_secret("base", "a2") == "s"
    assert "'s'" not in repr(light)


def test_light_loader_reads_pricing_and_its_overrides_without_pydantic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "upload-scheduler.toml"
    path.write_text(
        toml_text(
            {
                "accounts": {"base": ["a1", "a2"]},
                "platforms": {"base": {"pricing": {"markup": 1.2}}},
                "account_overrides": {"a2": {"pricing": {"currency": "USD", "exchange_rate": 150}}},
            }
        ),
        encoding="utf-8",
    )
    full = load_settings(path)
    monkeypatch.setattr(load_module, "settings_from_dict", lambda *_: pytest.fail("pydantic"))
    light = load_settings_light(path)
    assert light == full
    assert light.account("base", "a2").pricing == PricingValues("USD", 150.0, 1.2)
    assert light.account("base", "a1").pricing == PricingValues("JPY", 1.0, 1.2)
