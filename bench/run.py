"""Every benchmark of the Benchmarks issue, on this machine, with real processes, the
real database file and the BASE sandbox on 127.0.0.1 (only the platform's latency is
injected). Writes bench/RESULTS.md and prints, as its last line, one JSON object with
every figure by name.

Run: `python bench/run.py [--quick] [--only NAME,...] [--record] [--workdir DIR]
[--postgres-url URL]`.
`--quick` (under 5 minutes on 2 cores) shortens what the issue gives a quick length for,
pacing (20 s instead of 60 s). scale_100 runs its 60 s, urgent_latency its 20 rounds and
vs_huey its 20,000 jobs either way (vs_huey_pg: 2,000 in --quick).
Each section's time, and each step's within it, goes to stderr (with the load average).
`--only` runs the named benchmarks and leaves RESULTS.md alone, unless `--record` asks
to write their sections into it (the other sections stay as they were).
vs_huey_pg and dashboard_1m_pg need a PostgreSQL server: --postgres-url, else
$UPLOAD_SCHEDULER_TEST_POSTGRES_URL; without one they are reported as skipped (null in
the JSON line, the reason beside it), never with a made-up figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import budget  # noqa: E402
import dashboard  # noqa: E402
import harness  # noqa: E402
import pacing  # noqa: E402
import queue_speed  # noqa: E402
import scale  # noqa: E402
import vs_huey  # noqa: E402

RESULTS = HERE / "RESULTS.md"
NOTES = HERE / "NOTES.md"  # hand-written: before/after of product changes, misses explained
POSTGRES_URL_VAR = "UPLOAD_SCHEDULER_TEST_POSTGRES_URL"
KEPT_NOTE = "(Skipped in this run:"


class Skipped(Exception):
    """The benchmark cannot run on this machine; the message says why."""


@dataclass(frozen=True)
class Row:
    figure: str  # the JSON key
    what: str
    value: float
    bound: float
    higher_is_better: bool
    unit: str = ""
    exact: bool = False

    @property
    def met(self) -> bool:
        if self.exact:
            return self.value == self.bound
        return self.value >= self.bound if self.higher_is_better else self.value <= self.bound

    @property
    def ratio(self) -> float:
        return self.value / self.bound if self.bound else float("inf")


@dataclass
class Section:
    name: str
    setup: str
    rows: list[Row]
    details: dict[str, Any]
    seconds: float
    recorded: str = ""  # set when written alone (--only --record): which run and when


def bench_pacing_1(folder: Path, quick: bool) -> Section:
    seconds = 20.0 if quick else 60.0
    f = pacing.run_single(folder, seconds, 0.1, 0.03)
    return Section(
        "pacing_1",
        f"1 account, min_interval_seconds 0.1, sandbox latency 30 ms, one daemon process, "
        f"{seconds:.0f} s; from the sandbox's items/add arrivals",
        [
            Row("pacing_1", "items/s ÷ (1 / interval)", f["ratio"], 0.99, True),
            Row("pacing_1_min_gap", "smallest arrival gap (s)", f["min_gap"], 0.075, True, "s"),
        ],
        f,
        0.0,
    )


def bench_pacing_8(folder: Path, quick: bool) -> Section:
    seconds = 20.0 if quick else 60.0
    f = pacing.run_manager(folder, 8, seconds, 0.1, 0.03)
    return Section(
        "pacing_8",
        f"8 accounts under `manager start`, min_interval_seconds 0.1, latency 30 ms, "
        f"{seconds:.0f} s measured after every account made its first call",
        [
            Row("pacing_8", "minimum over accounts of items/s ÷ bound", f["ratio_min"], 0.99, True),
            Row("pacing_8_min_gap", "smallest arrival gap (s)", f["min_gap"], 0.075, True, "s"),
        ],
        f,
        0.0,
    )


def bench_budget(folder: Path, quick: bool) -> Section:
    f = budget.run(folder)
    return Section(
        "budget",
        "1 account, hour_call_limit 60 (the sandbox enforces 60 too), 2 images per item "
        "(3 calls), 40 items queued, one daemon process",
        [
            Row("budget_items", "items created before the pause", f["items"], 20, True, exact=True),
            Row("budget_limit_errors", "hour_api_limit answers", f["limit_errors"], 0, False),
        ],
        f,
        0.0,
    )


def bench_urgent(folder: Path, quick: bool) -> Section:
    rounds = 20  # the count, quick or not
    f = scale.run_urgent(folder, rounds)
    return Section(
        "urgent_latency",
        "2 idle daemons under `manager start` (nothing due, check interval 60 s); "
        f"`add-to-queue --priority 20 --limit 1`, {rounds} times: from the command's return "
        "to the sandbox's first items/add (0 when the item arrived before the command had "
        "exited)",
        [
            Row("urgent_latency_p50", "p50 (s)", f["p50"], 0.3, False, "s"),
            Row("urgent_latency_p95", "p95 (s)", f["p95"], 1.0, False, "s"),
        ],
        f,
        0.0,
    )


def bench_scale(folder: Path, quick: bool) -> Section:
    seconds = 60.0  # the issue gives scale_100 no quick length
    f = scale.run_scale(folder, 100, seconds)
    return Section(
        "scale_100",
        f"100 accounts under `manager start`, min_interval_seconds 1.0, latency 30 ms, "
        f"{seconds:.0f} s measured after every account made its first call",
        [
            Row("scale_100", "minimum utilisation per account", f["utilisation_min"], 0.98, True),
            Row(
                "scale_100_rss_mb",
                "RSS per daemon process (mean; MB)",
                f["rss_per_daemon_mb"],
                45,
                False,
                "MB",
            ),
        ],
        f,
        0.0,
    )


def bench_enqueue(folder: Path, quick: bool) -> Section:
    folder.mkdir(parents=True, exist_ok=True)
    seconds, info = queue_speed.bench_enqueue(folder, 100_000)
    return Section(
        "enqueue_100k",
        "`add_batch_to_queue` of 100,000 items, distributed over 2 accounts with spill",
        [Row("enqueue_100k", "seconds", round(seconds, 3), 5.0, False, "s")],
        info,
        0.0,
    )


def bench_stats(folder: Path, quick: bool) -> Section:
    folder.mkdir(parents=True, exist_ok=True)
    seconds, info = queue_speed.bench_stats(folder, 1_000_000)
    return Section(
        "stats_1m",
        "`get_queue_statistics` on a 1,000,000-row queue (median of 5, warm cache)",
        [Row("stats_1m", "seconds", round(seconds, 4), 0.3, False, "s")],
        info,
        0.0,
    )


DASHBOARD_WHAT = {
    "overview": "GET / (median; s)",
    "queue_filtered": "GET /queue?platform=base&account=shop_001&status=pending (median; s)",
    "queue_failed": "GET /queue?status=failed (median; s)",
    "metrics": "GET /metrics (median; s)",
}


def dashboard_section(name: str, setup: str, f: dict[str, Any]) -> Section:
    """dashboard_1m or dashboard_1m_pg from `dashboard.measure`'s figures: a row per page
    with its bound, the max and the title searches (no bound) in the details."""
    pages = f["pages"]
    rows = [
        Row(f"{name}_{page}", what, pages[page]["median"], dashboard.BOUND_SECONDS, False, "s")
        for page, what in DASHBOARD_WHAT.items()
    ]
    details: dict[str, Any] = {}
    for page, figures in pages.items():
        details[f"{page}_median"] = figures["median"]
        details[f"{page}_max"] = figures["max"]
    details.update(f["counts"])
    details.update({k: v for k, v in f.items() if "before_vacuum" in k or k == "all_visible"})
    for page in dashboard.SEARCHES:  # reported, without a verdict
        print(
            f"  {name}_{page} = {pages[page]['median']:g} (max {pages[page]['max']:g}; no bound)",
            flush=True,
        )
    return Section(
        name,
        f"{setup}. `{dashboard.SEARCHES['queue_title_search']}` (title words, 6,994 rows "
        f"match) and `{dashboard.SEARCHES['queue_title_search_no_match']}` (no title "
        "matches) are timed too, without a bound: `queue_title_search*` in the details",
        rows,
        {**details, **({"server": f["server"]} if "server" in f else {})},
        0.0,
    )


DASHBOARD_SETUP = (
    "Starlette's TestClient through the whole app (routing, security middleware, queries, "
    "template), one warm-up then median and max of {repeats}, on a 1,000,000-row queue "
    "built by stats_1m's builder with its catalogue: 8 accounts on 3 platforms (4 BASE, "
    "2 eBay, 2 Yahoo!), 89 % success, 5 % failed, 2 % cancelled, 1 % pending due, 3 % "
    "pending later; one titled product per row"
)


def bench_dashboard(folder: Path, quick: bool) -> Section:
    f = dashboard.run(folder, 1_000_000)
    setup = DASHBOARD_SETUP.format(repeats=dashboard.REPEATS) + ", SQLite (no ANALYZE)"
    return dashboard_section("dashboard_1m", setup, f)


def bench_dashboard_pg(folder: Path, quick: bool) -> Section:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        raise Skipped(
            "no PostgreSQL server: set UPLOAD_SCHEDULER_TEST_POSTGRES_URL or pass --postgres-url"
        )
    f = dashboard.run_pg(folder, 1_000_000, url)
    server = f["server"]
    setup = DASHBOARD_SETUP.format(repeats=dashboard.REPEATS) + (
        f", PostgreSQL {server['server_version']} on {server['host']} in a database created "
        "for the run (VACUUM ANALYZE after the load, as autovacuum would)"
    )
    return dashboard_section("dashboard_1m_pg", setup, f)


def bench_vs_huey(folder: Path, quick: bool) -> Section:
    jobs = 20_000
    f = vs_huey.run(folder, jobs, with_default_batch=not quick)
    return Section(
        "vs_huey",
        f"{jobs:,} no-op jobs end to end, 1 worker, SQLite WAL + synchronous NORMAL for both: "
        "ours = bulk enqueue + the daemon loop (claim with lease, complete, listing, usage "
        f"counters; batch_size {vs_huey.BATCH_SIZE}, so a cycle claims and completes up to "
        f"{vs_huey.BATCH_SIZE} items per transaction); Huey = SqliteHuey, 1 thread worker",
        [Row("vs_huey", "our jobs/s ÷ Huey's", f["ratio"], 1.0, True)],
        {
            "ours_jobs_per_second": f["ours"]["jobs_per_second"],
            "huey_jobs_per_second": f["huey"]["jobs_per_second"],
            "ours": f["ours"],
            "huey": f["huey"],
            # A full run also times ours with [daemon] batch_size at its default.
            **(
                {
                    "ratio_with_default_batch_size": f["ratio_default_batch"],
                    "ours_default_batch_size": f["ours_default_batch"],
                }
                if "ratio_default_batch" in f
                else {}
            ),
        },
        0.0,
    )


def bench_vs_huey_pg(folder: Path, quick: bool) -> Section:
    url = os.environ.get(POSTGRES_URL_VAR)
    reason = vs_huey.postgres_unavailable(url)
    if reason or not url:
        raise Skipped(reason or "no PostgreSQL server")
    jobs = 2_000 if quick else 20_000
    f = vs_huey.run_pg(folder, jobs, url)
    server = f["server"]
    return Section(
        "vs_huey_pg",
        f"{jobs:,} no-op jobs end to end, 1 worker, one PostgreSQL {server['server_version']} "
        f"server on {server['host']} for both (fsync {server['fsync']}, synchronous_commit "
        f"{server['synchronous_commit']}), each in a database created for the run: ours = "
        "the vs_huey job (bulk enqueue + the daemon loop) through psycopg 3; Huey = "
        "`huey.PostgresHuey` (psycopg 3, SKIP LOCKED dequeue, LISTEN/NOTIFY), 1 thread worker",
        [Row("vs_huey_pg", "our jobs/s ÷ Huey's", f["ratio"], 1.0, True)],
        {
            "ours_jobs_per_second": f["ours"]["jobs_per_second"],
            "huey_jobs_per_second": f["huey"]["jobs_per_second"],
            "ours_enqueue_seconds": f["ours"]["enqueue_seconds"],
            "huey_enqueue_seconds": f["huey"]["enqueue_seconds"],
            "ours": f["ours"],
            "huey": f["huey"],
        },
        0.0,
    )


# In this order: the single-process timings first, on a quiet disk. The CPU is idle again
# within a second after any section, but what a section wrote is still being written
# back: enqueue_100k measured 4.1 s alone, 5.2 s right after vs_huey (about 80 MB of
# SQLite files) and 5.9 s after scale_100. So enqueue_100k first, scale_100 last.
BENCHMARKS: dict[str, Callable[[Path, bool], Section]] = {
    "enqueue_100k": bench_enqueue,
    "vs_huey": bench_vs_huey,
    "vs_huey_pg": bench_vs_huey_pg,
    "pacing_1": bench_pacing_1,
    "pacing_8": bench_pacing_8,
    "budget": bench_budget,
    "urgent_latency": bench_urgent,
    "stats_1m": bench_stats,
    "dashboard_1m": bench_dashboard,
    "dashboard_1m_pg": bench_dashboard_pg,
    "scale_100": bench_scale,
}


def section_lines(section: Section) -> list[str]:
    lines = [
        f"## {section.name}",
        "",
        f"{section.setup}. Took {section.seconds:.0f} s.",
        "",
    ]
    if section.recorded:
        lines += [section.recorded, ""]
    lines += [
        "| figure | what | value | bound | ratio | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in section.rows:
        sign = "=" if row.exact else "≥" if row.higher_is_better else "≤"
        ratio = "—" if row.bound == 0 else f"{row.ratio:.3f}"
        lines.append(
            f"| `{row.figure}` | {row.what} | {row.value:g} | {sign} {row.bound:g} | "
            f"{ratio} | {'yes' if row.met else '**no**'} |"
        )
    detail = ", ".join(f"{k} {v}" for k, v in section.details.items() if not isinstance(v, dict))
    return [*lines, "", f"Details: {detail}.", ""]


def skipped_lines(name: str, reason: str) -> list[str]:
    return [f"## {name}", "", f"Skipped: {reason}.", ""]


def earlier_sections() -> dict[str, str]:
    """RESULTS.md's benchmark sections as last written, by name (the notes left out)."""
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text(encoding="utf-8")
    notes = NOTES.read_text(encoding="utf-8").rstrip() if NOTES.exists() else ""
    heading = "\n" + notes.splitlines()[0] if notes else ""
    if heading and heading in text:
        text = text[: text.index(heading)]
    _head, *blocks = text.rstrip("\n").split("\n## ")
    return {block.split("\n", 1)[0].strip(): ("## " + block).rstrip("\n") for block in blocks}


def write_results(
    sections: list[Section],
    failures: dict[str, str],
    skipped: dict[str, str],
    quick: bool,
    run_line: str = "",
) -> None:
    m = harness.machine()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python bench/run.py{' --quick' if quick else ''}` on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Ratio = figure ÷ bound.",
        "",
        *([run_line, ""] if run_line else []),
        "## Machine",
        "",
        "| cores | memory | Python | OS | CPU |",
        "| --- | --- | --- | --- | --- |",
        f"| {m['cores']} | {m['memory_gb']} GB | {m['python']} | {m['os']} | {m['cpu']} |",
        "",
    ]
    for section in sections:
        lines += section_lines(section)
    earlier = earlier_sections()
    for name, reason in skipped.items():
        kept = "\n".join(
            line for line in earlier.get(name, "").splitlines() if not line.startswith(KEPT_NOTE)
        ).rstrip("\n")
        if "| figure |" in kept:  # a skip never replaces a figure measured before
            lines += [kept, "", f"{KEPT_NOTE} {reason}; the figure above is kept.)", ""]
        else:
            lines += skipped_lines(name, reason)
    for name, error in failures.items():
        lines += [f"## {name}", "", "Failed:", "", "```", error.strip(), "```", ""]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").rstrip(), ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


def record_results(sections: list[Section], skipped: dict[str, str], command: str) -> None:
    """Put these sections into RESULTS.md in place of their earlier versions (new ones go
    after the last benchmark section), leaving every other section as it was."""
    text = RESULTS.read_text(encoding="utf-8")
    notes = NOTES.read_text(encoding="utf-8").rstrip() if NOTES.exists() else ""
    heading = "\n" + notes.splitlines()[0] if notes else ""
    if heading and heading in text:  # the notes as last written, edited since or not
        text = text[: text.index(heading)]
    head, *blocks = text.rstrip("\n").split("\n## ")
    by_name = {block.split("\n", 1)[0].strip(): ("## " + block).rstrip("\n") for block in blocks}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for section in sections:
        section.recorded = f"Recorded alone by `{command}` on {when}, on the machine above."
        by_name[section.name] = "\n".join(section_lines(section)).rstrip("\n")
    for name, reason in skipped.items():
        if name not in by_name:  # a skip never replaces a figure measured before
            by_name[name] = "\n".join(skipped_lines(name, reason)).rstrip("\n")
    parts = [head.rstrip("\n"), *by_name.values()]
    if notes:
        parts.append(notes)
    RESULTS.write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def load_average() -> str:
    try:
        return ", ".join(f"{n:.2f}" for n in os.getloadavg())
    except OSError:
        return "unknown"


QUIET_CPU_PERCENT = 30.0  # the whole machine's CPU use below which a section may start
QUIET_WAIT_SECONDS = 15.0  # at most this long per section, so --quick stays bounded


def wait_for_quiet() -> tuple[float, float]:
    """Wait until the machine's CPU use (sampled over 0.5 s) is below QUIET_CPU_PERCENT,
    at most QUIET_WAIT_SECONDS: the 100 daemons of scale_100 leave seconds of exit and
    memory reclaim behind them, which the single-process timings after it would
    otherwise measure. Returns (seconds waited, the last sample)."""
    import psutil

    started = time.monotonic()
    while True:
        busy = psutil.cpu_percent(interval=0.5)
        waited = time.monotonic() - started
        if busy < QUIET_CPU_PERCENT or waited >= QUIET_WAIT_SECONDS:
            return waited, busy


def print_durations(durations: dict[str, float], total: float) -> None:
    """Where the run's time went, one line per section, on stderr."""
    print("section times:", file=sys.stderr)
    for name, seconds in durations.items():
        print(f"  {name:<16} {seconds:6.1f} s", file=sys.stderr)
    print(f"  {'total':<16} {total:6.1f} s (load average {load_average()})", file=sys.stderr)
    sys.stderr.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="under 5 minutes on 2 cores")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument(
        "--record", action="store_true", help="with --only: write their sections into RESULTS.md"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--postgres-url",
        default=None,
        help=f"server for vs_huey_pg and dashboard_1m_pg (default: ${POSTGRES_URL_VAR})",
    )
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.record and not args.only:
        parser.error("--record is for --only runs (a full run writes RESULTS.md anyway)")
    if args.postgres_url:
        os.environ[POSTGRES_URL_VAR] = args.postgres_url
    root = args.workdir or Path(tempfile.mkdtemp(prefix="us-bench-run-"))
    sections: list[Section] = []
    failures: dict[str, str] = {}
    skipped: dict[str, str] = {}
    figures: dict[str, Any] = {}
    began = time.monotonic()
    durations: dict[str, float] = {}  # every section's wall time, on stderr as it ends
    load_at_start = load_average()
    print(f"load average at the start: {load_at_start}", file=sys.stderr, flush=True)
    try:
        for name in names:
            waited, busy = wait_for_quiet()
            print(
                f"  waited {waited:.1f} s for a quiet machine (CPU {busy:.0f} %) before {name}",
                file=sys.stderr,
                flush=True,
            )
            started = time.monotonic()
            print(f"[{time.monotonic() - began:5.0f} s] {name} ...", flush=True)
            try:
                try:
                    section = BENCHMARKS[name](root / name, args.quick)
                finally:
                    durations[name] = time.monotonic() - started
                    print(
                        f"  {name} took {durations[name]:.1f} s (load average {load_average()})",
                        file=sys.stderr,
                        flush=True,
                    )
            except Skipped as exc:
                skipped[name] = str(exc)
                figures[name] = None
                print(f"  skipped: {exc}", flush=True)
                continue
            except Exception:
                failures[name] = traceback.format_exc()
                print(f"  FAILED: {failures[name].strip().splitlines()[-1]}", flush=True)
                continue
            section.seconds = durations[name]
            sections.append(section)
            for row in section.rows:
                figures[row.figure] = row.value
                print(
                    f"  {row.figure} = {row.value:g} (bound {row.bound:g}, "
                    f"{'met' if row.met else 'MISSED'})",
                    flush=True,
                )
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
        print_durations(durations, time.monotonic() - began)
    if "scale_100" in figures:
        scale_section = next(s for s in sections if s.name == "scale_100")
        figures["scale_100_median"] = scale_section.details["utilisation_median"]
        figures["scale_100_cpu_percent"] = scale_section.details["cpu_percent"]
        figures["scale_100_rss_total_mb"] = scale_section.details["rss_total_mb"]
    if "vs_huey" in figures:
        huey_section = next(s for s in sections if s.name == "vs_huey")
        figures["vs_huey_ours_jobs_per_second"] = huey_section.details["ours_jobs_per_second"]
        figures["vs_huey_huey_jobs_per_second"] = huey_section.details["huey_jobs_per_second"]
    if "vs_huey_pg" in figures and figures["vs_huey_pg"] is not None:
        pg_section = next(s for s in sections if s.name == "vs_huey_pg")
        figures["vs_huey_pg_ours_jobs_per_second"] = pg_section.details["ours_jobs_per_second"]
        figures["vs_huey_pg_huey_jobs_per_second"] = pg_section.details["huey_jobs_per_second"]
    for name in ("dashboard_1m", "dashboard_1m_pg"):  # the title search, without a bound
        found = next((s for s in sections if s.name == name), None)
        if found is not None:
            for page in dashboard.SEARCHES:
                figures[f"{name}_{page}"] = found.details[f"{page}_median"]
    if skipped:
        figures["skipped"] = skipped
    figures["seconds"] = round(time.monotonic() - began, 1)
    figures["quick"] = args.quick
    if not args.only:
        run_line = (
            f"The whole run took {figures['seconds']:.0f} s; load average (1, 5, 15 min) "
            f"{load_at_start} at its start, {load_average()} at its end (other work on the "
            "machine shows here)."
        )
        write_results(sections, failures, skipped, args.quick, run_line)
        print(f"wrote {RESULTS}")
    elif args.record:
        # Rebuilt rather than copied from argv: a --postgres-url may hold a password.
        command = f"python bench/run.py --only {','.join(names)}"
        command += " --quick" if args.quick else ""
        record_results(sections, skipped, command + " --record")
        print(f"recorded {', '.join(s.name for s in sections) or 'nothing'} in {RESULTS}")
    else:
        print("(--only: RESULTS.md not written; --record writes these sections)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
