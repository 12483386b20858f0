"""The demo's work folder: its layout, and the rule that a run never overwrites a
previous one unless asked (`--fresh`), nor anything that is not a demo folder."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from upload_scheduler import defaults

MARKER = ".upload-scheduler-demo"


class WorkdirRefused(Exception):
    """The folder holds something a run must not overwrite; the message says what to do."""


@dataclass(frozen=True)
class DemoPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / defaults.CONFIG_FILE_NAME

    @property
    def products_csv(self) -> Path:
        return self.root / "products.csv"

    @property
    def yahoo_products_csv(self) -> Path:
        """Yahoo!'s copy of the catalogue: its own ASINs, images it can download."""
        return self.root / "products_yahoo.csv"

    @property
    def database(self) -> Path:
        return self.root / "data" / "upload_scheduler.db"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def sandbox_output(self) -> Path:
        return self.log_dir / "sandbox.out"

    @property
    def sandbox_record(self) -> Path:
        return self.log_dir / "sandbox_calls.jsonl"

    @property
    def sandbox_pid(self) -> Path:
        return self.log_dir / "sandbox.pid"

    @property
    def ebay_sandbox_output(self) -> Path:
        return self.log_dir / "ebay_sandbox.out"

    @property
    def ebay_sandbox_record(self) -> Path:
        return self.log_dir / "ebay_sandbox_calls.jsonl"

    @property
    def ebay_sandbox_pid(self) -> Path:
        return self.log_dir / "ebay_sandbox.pid"

    @property
    def ebay_sandbox_state(self) -> Path:
        """What the eBay sandbox held when the run ended (its offers' prices): the record
        does not keep prices, and the sandbox is gone once the demo ends."""
        return self.log_dir / "ebay_sandbox_state.json"

    @property
    def yahoo_sandbox_output(self) -> Path:
        return self.log_dir / "yahoo_sandbox.out"

    @property
    def yahoo_sandbox_record(self) -> Path:
        return self.log_dir / "yahoo_sandbox_calls.jsonl"

    @property
    def yahoo_sandbox_pid(self) -> Path:
        return self.log_dir / "yahoo_sandbox.pid"

    @property
    def commands_log(self) -> Path:
        """The output of the commands the demo ran (token login, account setup, manager
        start/stop)."""
        return self.log_dir / "demo_commands.log"

    @property
    def summary_json(self) -> Path:
        return self.root / "demo-summary.json"

    @property
    def marker(self) -> Path:
        return self.root / MARKER


def claim_workdir(
    root: Path, *, fresh: bool, before_emptying: Callable[[DemoPaths], None]
) -> DemoPaths:
    """An empty folder ready for a run. A previous demo run is kept unless `fresh`, and
    a folder the demo did not make is never emptied. `before_emptying` stops what a
    killed earlier run may have left running there."""
    paths = DemoPaths(root.resolve())
    if paths.root.exists() and not paths.root.is_dir():
        raise WorkdirRefused(f"{paths.root} exists and is not a folder; pick another --workdir")
    if paths.root.is_dir() and any(paths.root.iterdir()):
        if not paths.marker.exists():
            raise WorkdirRefused(
                f"{paths.root} is not empty and was not made by `upload-scheduler demo`; "
                "pick another --workdir (the demo empties only its own folders)"
            )
        if not fresh:
            raise WorkdirRefused(
                f"{paths.root} already holds a demo run. Look at it with "
                f"`upload-scheduler --config {paths.config} check-queue`, or start over "
                "with `upload-scheduler demo --fresh` (this deletes that folder's contents)"
            )
        before_emptying(paths)
        _empty(paths.root)
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.log_dir.mkdir(exist_ok=True)
    paths.marker.write_text(
        json.dumps({"created": datetime.now(UTC).isoformat(timespec="seconds")}) + "\n",
        encoding="utf-8",
    )
    return paths


def write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only: the config holds the client secret."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _empty(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
