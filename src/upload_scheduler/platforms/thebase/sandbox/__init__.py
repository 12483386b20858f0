"""A local BASE-compatible server: the same paths, form fields, answers and errors as
BASE API v1, with configurable limits, token lifetimes and faults, and a record of
every request for checking a run's invariants.

Start it with `upload-scheduler sandbox serve` or, faster (no CLI start-up),
`python -m upload_scheduler.platforms.thebase.sandbox`; in-process with
`with SandboxServer(options) as sandbox: ... sandbox.url ...`.

A shop is named by the sandbox-only `shop` query parameter of the authorize request
(the shop a browser would be logged into; default "sandbox-shop"). `token login`
adds it, set to the account id, when `api_base_url` is a loopback address, and
`sandbox.login.sandbox_login()` logs an account in without a browser.

Sandbox-only endpoints (never faulted, never recorded):
- `GET /_sandbox/calls`: the record, `{"calls": [...]}`;
- `GET /_sandbox/items?shop=S`: a shop's items;
- `POST /_sandbox/faults` (`kind`, optional `path`, `count`, `after`): inject faults;
- `POST /_sandbox/expire_tokens` / `POST /_sandbox/revoke_refresh_tokens` (optional
  `shop`): end access tokens now / make the next refresh fail for good;
- `POST /_sandbox/spend_budget` (`shop`, `period` hour or day): use up the shop's call
  budget, so its next API call gets `hour_api_limit` (`day_api_limit`).
"""

from __future__ import annotations

from upload_scheduler.platforms.thebase.sandbox.options import (
    DEFAULT_SHOP,
    SandboxOptions,
)
from upload_scheduler.platforms.thebase.sandbox.record import (
    Verdict,
    check_calls,
    load_calls,
)
from upload_scheduler.platforms.thebase.sandbox.server import SandboxServer, serve

__all__ = [
    "DEFAULT_SHOP",
    "SandboxOptions",
    "SandboxServer",
    "Verdict",
    "check_calls",
    "load_calls",
    "serve",
]
