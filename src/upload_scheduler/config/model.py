"""The configuration file's schema as pydantic models, for the CLI: what explains every
problem in a file. The models are built from `values.py`'s dataclasses, the one place a
key, its type, default and bounds are written; nothing about a key is written here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from types import UnionType
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from upload_scheduler.config.values import (
    DAEMON_KEYS,
    OVERRIDE_KEYS,
    PLATFORM_KEYS,
    ClusterValues,
    DaemonValues,
    FileValues,
    NotifyValues,
    PlatformValues,
    PricingValues,
    RulesValues,
    build,
)

__all__ = [
    "DAEMON_KEYS",
    "OVERRIDE_KEYS",
    "PLATFORM_KEYS",
    "ClusterConfig",
    "DaemonConfig",
    "FileConfig",
    "NotifyConfig",
    "PlatformConfig",
    "PricingConfig",
    "RulesConfig",
    "section_model",
]


class _Section(BaseModel):
    # strict: a TOML string "60" or `true` is a mistake in the file, not a number.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    # The dataclass the model is built from, when it has rules across its keys.
    __rules__: ClassVar[type | None] = None

    @model_validator(mode="after")
    def _rules_across_keys(self) -> Self:
        """The dataclass's `__post_init__` rules; their ValueError is pydantic's
        "value_error", reported at the section."""
        if self.__rules__ is not None:
            build(self.__rules__, self.model_dump())
        return self


@cache
def section_model(cls: type) -> type[BaseModel]:
    """The pydantic model of a section dataclass (`DaemonValues` -> `DaemonConfig`): the
    same keys, types, defaults and bounds, and its `__post_init__` rule as a validator."""
    hints = get_type_hints(cls)
    definitions: dict[str, Any] = {
        f.name: (_annotation(hints[f.name]), _model_field(f)) for f in fields(cls)
    }
    model = create_model(
        cls.__name__.removesuffix("Values") + "Config",
        __base__=_Section,
        __doc__=cls.__doc__,
        __module__=__name__,
        **definitions,
    )
    if hasattr(cls, "__post_init__"):
        model.__rules__ = cls
    return model


def _annotation(hint: Any) -> Any:
    """The dataclass's annotation with each section dataclass replaced by its model."""
    if is_dataclass(hint):
        return section_model(hint)  # type: ignore[arg-type]
    origin = get_origin(hint)
    if origin in (dict, list):
        return origin[tuple(_annotation(arg) for arg in get_args(hint))]
    if origin in (Union, UnionType):
        return Union[tuple(_annotation(arg) for arg in get_args(hint))]  # noqa: UP007
    return hint


def _model_field(spec: dataclasses.Field[Any]) -> Any:
    """pydantic's Field for a dataclass field: its default (a section's default is the
    section's model), whether repr shows it, and its bounds."""
    factory = spec.default_factory
    if factory is not MISSING:
        made = section_model(factory) if is_dataclass(factory) else factory
        return Field(default_factory=made, repr=spec.repr, **spec.metadata)
    return Field(default=spec.default, repr=spec.repr, **spec.metadata)


FileConfig = section_model(FileValues)
DaemonConfig = section_model(DaemonValues)
RulesConfig = section_model(RulesValues)
PricingConfig = section_model(PricingValues)
PlatformConfig = section_model(PlatformValues)
NotifyConfig = section_model(NotifyValues)
ClusterConfig = section_model(ClusterValues)
