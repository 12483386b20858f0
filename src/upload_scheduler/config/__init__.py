"""Configuration: the TOML file, validated, with per-account resolution."""

from upload_scheduler.config.load import ConfigError, find_config, load_settings, settings_from_dict
from upload_scheduler.config.settings import AccountSettings, Settings

__all__ = [
    "AccountSettings",
    "ConfigError",
    "Settings",
    "find_config",
    "load_settings",
    "settings_from_dict",
]
