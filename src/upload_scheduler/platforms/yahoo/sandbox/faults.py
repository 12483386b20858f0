"""The Yahoo! sandbox's faults: the eBay sandbox's plan (seeded random odds plus faults
a test injects) with Yahoo!'s kinds. Random faults hit the store API only; an injected
fault reaches OAuth or the image origin only when its `path` names them.

The kinds also answer to the short names of the command line (`error500`, `error503`,
`lost`, `hang`) in /_sandbox/odds and /_sandbox/faults.
"""

from __future__ import annotations

from upload_scheduler.platforms.ebay.sandbox.faults import FaultPlan

SERVER_ERROR = "server_error"  # HTTP 500 "System error", nothing done
UNAVAILABLE = "unavailable"  # HTTP 503, nothing done
TIMEOUT = "timeout"  # no answer for a long time, nothing done
RESET = "reset"  # connection reset, nothing done
LOST_RESPONSE = "lost_response"  # carried out, then the connection closed unanswered
FAULT_KINDS = (SERVER_ERROR, UNAVAILABLE, TIMEOUT, RESET, LOST_RESPONSE)
NOTHING_DONE = frozenset({SERVER_ERROR, UNAVAILABLE, TIMEOUT, RESET})
ALIASES = {
    "error500": SERVER_ERROR,
    "error503": UNAVAILABLE,
    "lost": LOST_RESPONSE,
    "hang": TIMEOUT,
}

__all__ = ["FAULT_KINDS", "NOTHING_DONE", "FaultPlan", "kind_of", "new_plan"]


def kind_of(name: str) -> str:
    """A fault kind from its own or its short name."""
    return ALIASES.get(name, name)


def new_plan(odds: dict[str, float], seed: int | None) -> FaultPlan:
    return FaultPlan({kind_of(k): p for k, p in odds.items()}, seed=seed, kinds=FAULT_KINDS)
