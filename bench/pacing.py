"""Pacing: how close the daemons come to the platform's bound, and never past it.

- pacing_1: one account, `min_interval_seconds` 0.1, platform latency 30 ms (the BASE
  sandbox injects it), a real daemon process (started with the manager's own command).
- pacing_8: 8 accounts under `upload-scheduler manager start`, the same settings; the
  figure is the minimum over accounts.

Measured from the sandbox's record of items/add arrivals: items/s divided by the bound
(1 / interval), and the smallest start-to-start gap. Targets: ratio >= 0.99, and no gap
more than 25 ms below the interval.

Run: `python bench/pacing.py [--seconds 60] [--interval 0.1] [--latency 0.03] [--accounts 1]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

GAP_TOLERANCE = 0.025


def run_single(folder: Path, seconds: float, interval: float, latency: float) -> dict[str, Any]:
    """One daemon process, one account."""
    with harness.phase("sandbox start"):
        sandbox = harness.Sandbox(latency=latency)
    with sandbox:
        work = harness.make_workdir(folder, sandbox.url, ["shop_001"], interval=interval)
        with harness.phase("seed"):
            harness.seed(work, int(seconds / interval * 1.3) + 50)
        process = harness.start_daemon(work, "shop_001")
        try:
            with harness.phase("daemon start-up (to the first items/add)"):
                harness.wait_for(lambda: harness.arrivals(sandbox.calls()), 30)
            with harness.phase("measured"):
                time.sleep(seconds)
        finally:
            with harness.phase("daemon stop"):
                code = harness.stop_process(process)
        times = harness.arrivals(sandbox.calls()).get("shop_001", [])
    figures = harness.pacing_figures(times, interval)
    figures.update(interval=interval, seconds=seconds, exit_code=code)
    figures["gap_ok"] = figures["min_gap"] >= interval - GAP_TOLERANCE
    return figures


def run_manager(
    folder: Path, accounts: int, seconds: float, interval: float, latency: float
) -> dict[str, Any]:
    """`manager start --detach` with `accounts` daemons; per-account figures."""
    names = harness.account_names(accounts)
    with harness.phase("sandbox start"):
        sandbox = harness.Sandbox(latency=latency)
    with sandbox:
        work = harness.make_workdir(folder, sandbox.url, names, interval=interval)
        with harness.phase("seed"):
            harness.seed(work, int(seconds / interval * 1.3) + 100)
        with harness.phase("manager start --detach"):
            work.cli("manager", "start", "--detach")
        try:
            # Measure once every account is working: start-up is not pacing.
            with harness.phase("daemons' start-up (to every account's first items/add)"):
                harness.wait_for(lambda: len(harness.arrivals(sandbox.calls())) == accounts, 60)
            with harness.phase("measured"):
                started = time.time()
                time.sleep(seconds)
                ended = time.time()
        finally:
            with harness.phase("manager stop"):
                work.cli("manager", "stop", check=False)
        every = harness.arrivals(sandbox.calls())
    per_account = {}
    for name in names:
        times = [t for t in every.get(name, []) if started <= t <= ended]
        per_account[name] = harness.pacing_figures(times, interval)
    ratios = [f["ratio"] for f in per_account.values()]
    gaps = [f["min_gap"] for f in per_account.values()]
    return {
        "accounts": accounts,
        "ratio_min": min(ratios),
        "ratio_median": sorted(ratios)[len(ratios) // 2],
        "min_gap": min(gaps),
        "gap_ok": min(gaps) >= interval - GAP_TOLERANCE,
        "items": sum(f["items"] for f in per_account.values()),
        "interval": interval,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--accounts", type=int, default=1, help="1: one daemon; more: manager")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="us-pacing-"))
    try:
        if args.accounts == 1:
            figures = run_single(folder, args.seconds, args.interval, args.latency)
            print(
                f"pacing_1: ratio {figures['ratio']:.4f} (target >= 0.99), min gap "
                f"{figures['min_gap'] * 1000:.1f} ms (interval {args.interval * 1000:.0f} ms), "
                f"{figures['items']} items, daemon exit {figures['exit_code']}"
            )
            print(
                json.dumps({"pacing_1": figures["ratio"], "pacing_1_min_gap": figures["min_gap"]})
            )
        else:
            figures = run_manager(folder, args.accounts, args.seconds, args.interval, args.latency)
            key = f"pacing_{args.accounts}"
            print(
                f"{key}: min ratio {figures['ratio_min']:.4f} (target >= 0.99), min gap "
                f"{figures['min_gap'] * 1000:.1f} ms, {figures['items']} items"
            )
            print(json.dumps({key: figures["ratio_min"], f"{key}_min_gap": figures["min_gap"]}))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
