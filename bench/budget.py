"""The hourly call budget, kept by the scheduler so the platform never has to refuse.

One account, `hour_call_limit` 60 (the sandbox enforces the same 60), products with two
images (3 calls per item: items/add and two items/add_image), a real daemon process.
`budget_items` is the count of items created before the daemon pauses for the next
hour, `budget_limit_errors` the `hour_api_limit` / `day_api_limit` answers.
Targets: exactly 20 items, 0 limit answers.

Run: `python bench/budget.py`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

HOUR_LIMIT = 60
HOUR_ROOM_SECONDS = 30.0
LIMIT_OUTCOMES = ("hour_api_limit", "day_api_limit")


def _wait_for_room_in_the_hour(needed: float) -> float:
    """The budget is per clock hour: start far enough from its end."""
    now = datetime.now(UTC)
    left = 3600 - (now.minute * 60 + now.second + now.microsecond / 1e6)
    if left < needed:
        time.sleep(left + 1)
        return left + 1
    return 0.0


def run(folder: Path, settle: float = 4.0) -> dict[str, Any]:
    account = "shop_001"
    with harness.phase("sandbox start"):
        sandbox = harness.Sandbox(latency=0.03, hour_limit=HOUR_LIMIT)
    with sandbox:
        work = harness.make_workdir(
            folder, sandbox.url, [account], interval=0.1, hour_limit=HOUR_LIMIT
        )
        with harness.phase("seed"):
            harness.seed(work, 40, images=2)
        # The run takes about 10 s (up to 20 s on a busy machine): 30 s of room keeps
        # it inside one clock hour, and waits at most 30 s (at 60 s it waited up to a
        # minute in one run out of 60).
        with harness.phase("wait for room in the clock hour"):
            waited = _wait_for_room_in_the_hour(HOUR_ROOM_SECONDS)
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        process = harness.start_daemon(work, account)
        try:
            with harness.phase("daemon start-up and 20 items"):
                harness.wait_for(
                    lambda: len(harness.arrivals(sandbox.calls()).get(account, [])) >= 20, 60
                )
            with harness.phase("settle"):
                time.sleep(settle)  # the daemon must now be waiting for the next hour
        finally:
            with harness.phase("daemon stop"):
                code = harness.stop_process(process)
        calls = sandbox.calls()
    if datetime.now(UTC).replace(minute=0, second=0, microsecond=0) != hour:
        # A new hour's budget would let more items through: the figure would mean nothing.
        raise RuntimeError("the clock hour turned during the budget run; run it again")
    items = len(harness.arrivals(calls).get(account, []))
    api = [c for c in calls if str(c.get("path", "")).startswith("/1/items")]
    errors = sum(1 for c in api if c.get("outcome") in LIMIT_OUTCOMES)
    log = (folder / "logs" / f"upload_scheduler_base_{account}.log").read_text(encoding="utf-8")
    return {
        "items": items,
        "limit_errors": errors,
        "api_calls": len(api),
        "paused": "waiting" in log,
        "waited_for_hour_seconds": round(waited, 1),
        "exit_code": code,
    }


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="us-budget-"))
    try:
        figures = run(folder)
        print(f"budget: {figures}")
        print(
            json.dumps(
                {"budget_items": figures["items"], "budget_limit_errors": figures["limit_errors"]}
            )
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
