"""The built-in adapters the registry knows without a metadata scan are the package's
own entry points, and load the same factories."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from upload_scheduler.platforms import registry

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_built_ins_are_the_declared_entry_points() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert registry.BUILT_IN == project["entry-points"][registry.ENTRY_POINT_GROUP]


def test_built_ins_load_what_their_entry_points_load() -> None:
    for ep in entry_points(group=registry.ENTRY_POINT_GROUP):
        if ep.name in registry.BUILT_IN:
            assert registry.platform_factory(ep.name) is ep.load()


def test_installed_and_unknown_platforms() -> None:
    assert {"base", "fake"} <= registry.installed_platforms()
    assert registry.is_installed("base") and not registry.is_installed("nope")
    with pytest.raises(LookupError, match="no adapter is installed for platform 'nope'"):
        registry.platform_factory("nope")
