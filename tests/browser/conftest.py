"""The browser tests run pytest-playwright in Debian's Chromium (tests/browser/chromium.py).

Without Chromium (or without Playwright) they are left out, and the summary says so in
one line; with REQUIRE_BROWSER=1 (`.ci/run` sets it) a missing browser fails them
instead. One browser serves the whole session (pytest-playwright's `browser` fixture is
session-scoped); each test gets its own context, so its own cookies.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from tests.browser.chromium import (
    CHROMIUM_VAR,
    REQUIRE_VAR,
    browser_required,
    chromium_path,
    launch_args,
)

_LEFT_OUT = pytest.StashKey[tuple[int, str]]()


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("pytest_playwright") is None:
        return "pytest-playwright is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return f"no Chromium (apt-get install chromium, or set {CHROMIUM_VAR})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last, so Playwright's session (its event loop, Chromium) is
    started only after every other test has run. Without a browser (and not required),
    leave them out rather than report one skip per test."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)  # stable
    why = _missing()
    if why is None or browser_required():
        return
    left_out = [item for item in items if item.get_closest_marker("browser")]
    if left_out:
        items[:] = [item for item in items if not item.get_closest_marker("browser")]
        config.hook.pytest_deselected(items=left_out)
        config.stash[_LEFT_OUT] = (len(left_out), why)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    count, why = terminalreporter.config.stash.get(_LEFT_OUT, (0, ""))
    if count:
        line = f"{count} browser tests skipped: {why}; CI sets {REQUIRE_VAR}=1 to fail instead"
        terminalreporter.write_line(line, yellow=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options (--headed, --slowmo) with Debian's Chromium."""
    why = _missing()
    if why is not None:
        pytest.fail(f"{REQUIRE_VAR}=1 but the browser tests cannot run: {why}")
    executable = chromium_path()
    assert executable is not None
    headless = bool(browser_type_launch_args.get("headless", True))
    return {**browser_type_launch_args, **launch_args(executable, headless)}


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """pytest-playwright's own `base_url` is a session fixture written as an instance
    method, which pytest 9 warns about (an error under this suite's filterwarnings). The
    tests use the address each dashboard prints; `--base-url` still works."""
    value = pytestconfig.getoption("--base-url", default=None)
    return str(value) if value else None
