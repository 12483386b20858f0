"""Debian's Chromium, as the browser tests and the screenshots launch it: never a browser
that Playwright downloads (`playwright install` is not used anywhere)."""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM_VAR = "UPLOAD_SCHEDULER_CHROMIUM"
REQUIRE_VAR = "REQUIRE_BROWSER"
# Headless on a closed network: without the background-networking flags Chromium's own
# connections (updates, sync, field trials) are refused and slow every page down.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str | None:
    """$UPLOAD_SCHEDULER_CHROMIUM when set, else `chromium` on the PATH (Debian's
    package puts it at /usr/bin/chromium), else None."""
    chosen = os.environ.get(CHROMIUM_VAR, "").strip()
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_required() -> bool:
    return os.environ.get(REQUIRE_VAR, "") not in ("", "0")


def launch_args(executable: str, headless: bool = True) -> dict[str, Any]:
    """Keyword arguments for Playwright's `chromium.launch`."""
    return {"executable_path": executable, "headless": headless, "args": list(CHROMIUM_ARGS)}
