"""The sandbox's record of every request, and the verdict drawn from it.

Each request becomes one dict: `time` (ISO UTC, at arrival), `method`, `path`, `shop`,
`token` (its last 4 characters only), `status` (None when no answer was sent), `outcome`
("ok", BASE's error code, or "fault:<kind>"), and for items endpoints `identifier` /
`item_id`. The verdict checks the scheduler's invariants against it: no duplicate
identifier per shop, no limit answers, spacing of item creations, business hours.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LIMIT_OUTCOMES = frozenset({"hour_api_limit", "day_api_limit"})
ADD_PATH = "/1/items/add"
DELETE_PATH = "/1/items/delete"
# The item exists after these items/add outcomes, answered or not.
CREATED_OUTCOMES = frozenset({"ok", "fault:lost_response"})


class Recorder:
    """Thread-safe, in memory and, if given a path, appended to a JSONL file as it goes
    (flushed per line so a demo can follow it live)."""

    def __init__(self, path: Path | None = None) -> None:
        self._calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(entry)
            if self._file is not None:
                self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                self._file.flush()

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._calls]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def load_calls(path: Path) -> list[dict[str, Any]]:
    """A JSONL record file, as written by `sandbox serve --record`."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...]
    items_created: int
    api_calls: int

    @property
    def ok(self) -> bool:
        return not self.problems


def check_calls(
    calls: Iterable[dict[str, Any]],
    *,
    min_interval_seconds: float | None = None,
    business_hours: tuple[int, int] | None = None,
    zone: str = "Asia/Tokyo",
    tolerance_seconds: float = 0.0,
    hour_call_limit: int | None = None,
    daily_limit: int | None = None,
) -> Verdict:
    """The invariants a run must keep, checked against what the platform saw. Spacing
    is start to start of items/add per shop; budgets are API calls per shop and clock
    hour, and creations per shop and local day (in `zone`)."""
    calls = list(calls)
    problems: list[str] = []
    problems += _duplicates(calls)
    problems += [
        f"{c['time']} {c.get('shop')}: {c['path']} answered {c['outcome']}"
        for c in calls
        if c.get("outcome") in LIMIT_OUTCOMES
    ]
    if min_interval_seconds is not None:
        problems += _spacing(calls, min_interval_seconds - tolerance_seconds)
    if business_hours is not None:
        problems += _outside_hours(calls, business_hours, ZoneInfo(zone))
    if hour_call_limit is not None:
        problems += _over_budget(
            calls,
            hour_call_limit,
            _counted,
            lambda at: at.strftime("%Y-%m-%d %H:00Z"),
            "API calls in hour",
        )
    if daily_limit is not None:
        tz = ZoneInfo(zone)
        problems += _over_budget(
            calls,
            daily_limit,
            _created,
            lambda at: at.astimezone(tz).date().isoformat(),
            "items created on",
        )
    created = sum(1 for c in calls if _created(c))
    api = sum(1 for c in calls if _api(c))
    return Verdict(tuple(problems), items_created=created, api_calls=api)


def _duplicates(calls: list[dict[str, Any]]) -> list[str]:
    live: dict[tuple[str, str], list[str]] = defaultdict(list)
    identifier_of: dict[str, tuple[str, str]] = {}
    for call in calls:
        if _created(call) and call.get("identifier"):
            key = (str(call.get("shop")), str(call["identifier"]))
            live[key].append(str(call.get("item_id")))
            identifier_of[str(call.get("item_id"))] = key
        elif call.get("path") == DELETE_PATH and call.get("outcome") == "ok":
            key = identifier_of.get(str(call.get("item_id")), ("", ""))
            if str(call.get("item_id")) in live.get(key, []):
                live[key].remove(str(call.get("item_id")))
    return [
        f"shop {shop}: identifier {identifier} listed {len(items)} times (items {', '.join(items)})"
        for (shop, identifier), items in live.items()
        if len(items) > 1
    ]


def _spacing(calls: list[dict[str, Any]], minimum: float) -> list[str]:
    last: dict[str, datetime] = {}
    problems = []
    for call in sorted(calls, key=lambda c: datetime.fromisoformat(c["time"])):
        # A refused token starts nothing: the adapter refreshes and sends the call again.
        if call.get("path") != ADD_PATH or call.get("outcome") == "invalid_request":
            continue
        shop = str(call.get("shop"))
        at = datetime.fromisoformat(call["time"])
        if shop in last and (at - last[shop]).total_seconds() < minimum:
            gap = (at - last[shop]).total_seconds()
            problems.append(f"{call['time']} shop {shop}: items/add {gap:.3f} s after the previous")
        last[shop] = at
    return problems


def _outside_hours(
    calls: list[dict[str, Any]], hours: tuple[int, int], zone: ZoneInfo
) -> list[str]:
    start, end = hours[0] % 24, hours[1] % 24
    problems = []
    for call in calls:
        if not _api(call):
            continue
        hour = datetime.fromisoformat(call["time"]).astimezone(zone).hour
        inside = start <= hour < end if start < end else hour >= start or hour < end
        if not inside:
            problems.append(f"{call['time']} shop {call.get('shop')}: {call['path']} outside hours")
    return problems


def _over_budget(
    calls: list[dict[str, Any]],
    limit: int,
    counted: Callable[[dict[str, Any]], bool],
    period: Callable[[datetime], str],
    what: str,
) -> list[str]:
    totals: Counter[tuple[str, str]] = Counter(
        (str(c.get("shop")), period(datetime.fromisoformat(c["time"]).astimezone(UTC)))
        for c in calls
        if counted(c)
    )
    return [
        f"shop {shop}: {count} {what} {key} (limit {limit})"
        for (shop, key), count in sorted(totals.items())
        if count > limit
    ]


def _created(call: dict[str, Any]) -> bool:
    return call.get("path") == ADD_PATH and call.get("outcome") in CREATED_OUTCOMES


def _api(call: dict[str, Any]) -> bool:
    return str(call.get("path", "")).startswith("/1/items")


def _counted(call: dict[str, Any]) -> bool:
    """A call BASE counts against the shop: a refused token is not one."""
    return _api(call) and call.get("outcome") != "invalid_request"
