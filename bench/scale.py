"""Many accounts on one small machine, and how fast an urgent item starts.

- scale_100: 100 accounts under `manager start`, `min_interval_seconds` 1.0, 60 s:
  utilisation per account (items/s over the bound; min and median), RSS per daemon
  process and in total, CPU % of the daemons, the manager and the sandbox.
  Targets: min utilisation >= 0.98, RSS per daemon process <= 45 MB.
- urgent_latency: daemons idle (nothing due, check interval 60 s);
  `add-to-queue --priority 20 --limit 1`, 20 times: from the command's return to the
  platform's first items/add. Targets: p50 <= 0.3 s, p95 <= 1 s.

Run: `python bench/scale.py [--accounts 100] [--seconds 60] [--urgent 20]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


def run_scale(
    folder: Path, accounts: int, seconds: float, interval: float = 1.0, latency: float = 0.03
) -> dict[str, Any]:
    names = harness.account_names(accounts)
    with harness.phase("sandbox start"):
        sandbox = harness.Sandbox(latency=latency)
    with sandbox:
        work = harness.make_workdir(folder, sandbox.url, names, interval=interval)
        with harness.phase("seed"):
            harness.seed(work, int(seconds / interval * 1.5) + 120)
        begun = time.monotonic()
        with harness.phase("manager start --detach"):
            work.cli("manager", "start", "--detach")
        try:
            with harness.phase("daemons' start-up (to every account's first items/add)"):
                everyone = harness.wait_for(
                    lambda: len(harness.arrivals(sandbox.calls())) == accounts, 300, poll=1.0
                )
            startup = time.monotonic() - begun
            if not everyone:
                raise RuntimeError("not every account started working within 300 s")
            daemons = harness.daemon_processes(work)
            manager = _manager_processes(daemons)
            sandbox_proc = psutil.Process(sandbox.process.pid)
            watched = [*daemons, *manager, sandbox_proc]
            with harness.phase("measured"):
                cpu_before = harness.cpu_seconds(watched)
                started = time.time()
                time.sleep(seconds / 2)
                sizes = harness.rss_mb(daemons)
                manager_rss = sum(harness.rss_mb(manager))
                sandbox_rss = sum(harness.rss_mb([sandbox_proc]))
                time.sleep(seconds / 2)
                ended = time.time()
                cpu = harness.cpu_seconds(watched) - cpu_before
                daemon_cpu = harness.cpu_seconds(daemons)
        finally:
            with harness.phase("manager stop"):
                work.cli("manager", "stop", check=False)
        every = harness.arrivals(sandbox.calls())
    ratios = []
    for name in names:
        times = [t for t in every.get(name, []) if started <= t <= ended]
        ratios.append(harness.pacing_figures(times, interval)["ratio"])
    ratios.sort()
    return {
        "accounts": accounts,
        "daemon_processes": len(sizes),
        "utilisation_min": ratios[0],
        "utilisation_median": ratios[len(ratios) // 2],
        "rss_per_daemon_mb": round(statistics.mean(sizes), 1),
        "rss_per_daemon_max_mb": round(max(sizes), 1),
        "rss_total_mb": round(sum(sizes) + manager_rss + sandbox_rss, 0),
        "cpu_percent": round(100 * cpu / (ended - started), 1),
        "cpu_percent_of_machine": round(
            100 * cpu / (ended - started) / (psutil.cpu_count() or 1), 1
        ),
        "daemon_cpu_seconds_total": round(daemon_cpu, 1),
        "startup_seconds": round(startup, 1),
        "seconds": seconds,
    }


def _manager_processes(daemons: list[psutil.Process]) -> list[psutil.Process]:
    parents = {}
    for daemon in daemons:
        try:
            parent = daemon.parent()
        except psutil.Error:
            continue
        if parent is not None:
            parents[parent.pid] = parent
    return list(parents.values())


URGENT_INTERVAL = 0.5  # min_interval_seconds of the urgent benchmark's accounts
URGENT_MARGIN = 0.2


def run_urgent(folder: Path, rounds: int, accounts: int = 2) -> dict[str, Any]:
    """Idle daemons (nothing due, check interval 60 s), then one urgent item at a time."""
    names = harness.account_names(accounts)
    with harness.phase("sandbox start"):
        sandbox = harness.Sandbox(latency=0.03)
    with sandbox:
        work = harness.make_workdir(
            folder, sandbox.url, names, interval=URGENT_INTERVAL, check_interval=60
        )
        with harness.phase("seed"):
            harness.seed(work, 0, queue=False, extra_pending=rounds + 5)
        with harness.phase("manager start --detach"):
            work.cli("manager", "start", "--detach")
        latencies = []
        from_start = []
        try:
            logs = [folder / "logs" / f"upload_scheduler_base_{n}.log" for n in names]
            with harness.phase("daemons' start-up (to 'daemon started')"):
                harness.wait_for(
                    lambda: all(p.exists() and "daemon started" in p.read_text() for p in logs),
                    60,
                )
            time.sleep(2.0)  # idle: past the start-up interval, waiting on the check interval
            with harness.phase(f"{rounds} rounds"):
                for _ in range(rounds):
                    seen = len(sandbox.calls())
                    called = time.time()
                    work.cli(
                        "add-to-queue", "--platform", "base", "--priority", "20", "--limit", "1"
                    )
                    returned = time.time()
                    arrival = harness.wait_for(
                        lambda seen=seen: _first_add(sandbox.calls()[seen:]), 70, 0.02
                    )
                    if arrival is None:
                        latencies.append(70.0)
                        from_start.append(70.0)
                    else:
                        # The command commits, then takes a while to exit: an item can reach
                        # the platform before the command has returned (0 here).
                        latencies.append(max(0.0, arrival - returned))
                        from_start.append(arrival - called)
                    # Past the account's interval before the next command, so the next
                    # item is not paced: from the arrival, not a fixed 1.2 s a round.
                    last = arrival if arrival is not None else time.time()
                    time.sleep(max(0.0, last + URGENT_INTERVAL + URGENT_MARGIN - time.time()))
        finally:
            with harness.phase("manager stop"):
                work.cli("manager", "stop", check=False)
    latencies.sort()
    from_start.sort()
    return {
        "rounds": rounds,
        "from_command_start_p50": round(_quantile(from_start, 0.5), 3),
        "from_command_start_p95": round(_quantile(from_start, 0.95), 3),
        "p50": round(_quantile(latencies, 0.5), 3),
        "p95": round(_quantile(latencies, 0.95), 3),
        "max": round(latencies[-1], 3),
    }


def _first_add(calls: list[dict[str, Any]]) -> float | None:
    times = [t for ts in harness.arrivals(calls, ok_only=False).values() for t in ts]
    return min(times) if times else None


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--urgent", type=int, default=20, help="urgent rounds (0: skip)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="us-scale-"))
    out: dict[str, Any] = {}
    try:
        if args.accounts:
            figures = run_scale(folder / "scale", args.accounts, args.seconds)
            print(f"scale_{args.accounts}: {figures}")
            out[f"scale_{args.accounts}"] = figures["utilisation_min"]
            out[f"scale_{args.accounts}_rss_mb"] = figures["rss_per_daemon_mb"]
        if args.urgent:
            figures = run_urgent(folder / "urgent", args.urgent)
            print(f"urgent_latency: {figures}")
            out["urgent_latency_p50"] = figures["p50"]
            out["urgent_latency_p95"] = figures["p95"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
