"""The daemon's flags, declared once for its two front ends: `upload-scheduler daemon`
(Typer, `cli/daemon_cmd.py`) and the light entry point the manager starts its children
with (`python -m upload_scheduler.worker daemon`, argparse, `worker/entry.py`). Both build
their parser from `DAEMON_FLAGS`, so a flag, its help, type and bounds cannot drift apart.

Pure data: the light entry point imports this, and a daemon process has no room for
Typer, Rich or pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    """One flag. Its value goes to `worker.entry.run_daemon` under the keyword `dest`;
    a flag left out gives None (False for a switch), which means "as configured"."""

    name: str  # "--batch-size"
    kind: type  # str, int, float, or bool for a switch
    help: str
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False

    @property
    def dest(self) -> str:
        """The keyword the value is passed as: "--batch-size" -> "batch_size"."""
        return self.name.removeprefix("--").replace("-", "_")

    @property
    def is_switch(self) -> bool:
        return self.kind is bool


DAEMON_HELP = (
    "Upload due items, paced within the platform's limits, until stopped (Ctrl+C or "
    "SIGTERM finishes the current item first). The flags override the config for this "
    "run only."
)

DAEMON_FLAGS = (
    Flag("--platform", str, "Platform name (required).", required=True),
    Flag(
        "--account",
        str,
        "Work this account only (recommended). Without it, one process works all of the "
        "platform's accounts in one due order, like the seed's upload_daemon.py: backward "
        "compatible, not recommended.",
    ),
    Flag("--interval", float, "Check interval in seconds.", minimum=0.01),
    Flag("--batch-size", int, "Items per cycle.", minimum=1),
    Flag("--start-hour", int, "Business hours start.", minimum=0, maximum=24),
    Flag("--end-hour", int, "Business hours end.", minimum=0, maximum=24),
    Flag(
        "--standby",
        bool,
        "If another host's daemon holds the account, wait and take over when its lease "
        "expires ([cluster] lease_ttl_seconds) instead of exiting.",
    ),
)
