"""The live view while the daemons work: one progress bar per account (done/total,
failed, items per minute, next slot) and the run's events. On a terminal it redraws in
place; elsewhere (a log, a pipe, CI) it prints a plain line every few seconds."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from upload_scheduler.demo.snapshot import AccountProgress, Snapshot

PLAIN_EVERY_SECONDS = 10.0
SHOWN_EVENTS = 6


class LiveView:
    def __init__(
        self,
        console: Console,
        zone: ZoneInfo,
        heading: str,
        deadline: float,
        *,
        show_platform: bool = False,
    ) -> None:
        self.console = console
        self.show_platform = show_platform  # several platforms: "ebay/demo_seller_1"
        self.zone = zone
        self.heading = heading
        self.deadline = deadline  # monotonic
        self.started = time.monotonic()
        self.events: list[str] = []
        self._live: Live | None = None
        self._last_plain = 0.0

    def __enter__(self) -> LiveView:
        if self.console.is_terminal:
            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def event(self, message: str, at: datetime) -> None:
        line = f"{at.astimezone(self.zone):%H:%M:%S} {message}"
        self.events.append(line)
        if self._live is None:
            self.console.print(line, markup=False)

    def update(self, snapshot: Snapshot) -> None:
        if self._live is not None:
            self._live.update(self._render(snapshot), refresh=True)
            return
        now = time.monotonic()
        if now - self._last_plain >= PLAIN_EVERY_SECONDS or snapshot.unfinished == 0:
            self._last_plain = now
            self.console.print(self._plain(snapshot), markup=False, soft_wrap=True)

    # ------------------------------------------------------------------ rendering

    def _render(self, snapshot: Snapshot) -> RenderableType:
        table = Table(box=None, padding=(0, 1), show_edge=False)
        table.add_column("account", no_wrap=True)
        table.add_column("progress", no_wrap=True)
        table.add_column("done/total", justify="right", no_wrap=True)
        table.add_column("failed", justify="right", no_wrap=True)
        table.add_column("items/min", justify="right", no_wrap=True)
        table.add_column("next slot", no_wrap=True)
        for account in snapshot.accounts:
            table.add_row(
                escape(self._label(account)),
                ProgressBar(total=max(account.total, 1), completed=account.done, width=32),
                f"{account.done}/{account.total}",
                f"[red]{account.failed}[/]" if account.failed else "0",
                f"{account.per_minute:.1f}",
                escape(self._next(account, snapshot.at)),
            )
        parts: list[RenderableType] = [Text(self._clock_line(), style="bold"), table]
        if self.events:
            parts.append(Text("\n".join(self.events[-SHOWN_EVENTS:]), style="dim"))
        return Group(*parts)

    def _plain(self, snapshot: Snapshot) -> str:
        shops = "; ".join(
            f"{self._label(a)} {a.done}/{a.total} done, {a.failed} failed, "
            f"{a.per_minute:.1f}/min, next {self._next(a, snapshot.at)}"
            for a in snapshot.accounts
        )
        return f"[{self._elapsed()}] {shops}"

    def _label(self, account: AccountProgress) -> str:
        if self.show_platform:
            return f"{account.platform}/{account.account_id}"
        return account.account_id

    def _clock_line(self) -> str:
        left = max(0.0, self.deadline - time.monotonic())
        return f"{self.heading}   elapsed {self._elapsed()}, gives up in {_mmss(left)}"

    def _elapsed(self) -> str:
        return _mmss(time.monotonic() - self.started)

    def _next(self, account: AccountProgress, now: datetime) -> str:
        if account.paused_until is not None:
            local = account.paused_until.astimezone(self.zone)
            return f"paused until {local:%H:%M:%S} ({account.pause_reason or 'paused'})"
        if account.next_slot is None:
            return "-" if account.unfinished == 0 else "working"
        wait = (account.next_slot - now).total_seconds()
        local = account.next_slot.astimezone(self.zone)
        return f"{local:%H:%M:%S} (due)" if wait <= 0 else f"{local:%H:%M:%S} (in {wait:.0f}s)"


def _mmss(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
