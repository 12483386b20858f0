"""Configuration: the TOML file, validated, with per-account resolution.

The names load on first use (PEP 562): importing any submodule runs this file, and the
daemon child (`config.light`) must not load pydantic through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from upload_scheduler.config.files import ConfigError, find_config
    from upload_scheduler.config.load import load_settings, settings_from_dict
    from upload_scheduler.config.settings import AccountSettings, Settings

__all__ = [
    "AccountSettings",
    "ConfigError",
    "Settings",
    "find_config",
    "load_settings",
    "settings_from_dict",
]

_LAZY = {
    "AccountSettings": "upload_scheduler.config.settings",
    "Settings": "upload_scheduler.config.settings",
    "ConfigError": "upload_scheduler.config.files",
    "find_config": "upload_scheduler.config.files",
    "load_settings": "upload_scheduler.config.load",
    "settings_from_dict": "upload_scheduler.config.load",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
