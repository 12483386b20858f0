"""A local eBay-compatible server: eBay's OAuth (consent page, accept page, token
endpoint), the Sell Account API's set-up calls and the Sell Inventory API, on one host,
with eBay's answers and error envelope, per-application day limits, configurable
sellers, faults, and a record of every request for judging a run.

Start it with `upload-scheduler sandbox serve --platform ebay` or, faster,
`python -m upload_scheduler.platforms.ebay.sandbox`; in-process with
`with EbaySandboxServer(options) as sandbox: ... sandbox.url ...`.

Sellers and applications: any client_id is an application whose secret is the
sandbox's (`--client-secret`); its day budget is shared by all its sellers. The seller
is named by the sandbox-only `seller` parameter of the consent request
(`GET /oauth2/authorize?...&seller=NAME` agrees at once and redirects to
`/oauth2/accepted?code=...`); without it the consent page asks. A token belongs to
(client_id, seller). `login.user_tokens()` does both steps.

Sandbox-only endpoints (never faulted, never recorded):
- `GET /_sandbox/calls`: the record, `{"calls": [...]}`;
- `GET /_sandbox/state[?seller=S]`: sellers' set-up, items and offers, and the
  applications' usage today;
- `GET /_sandbox/verdict[?min_interval=S&tolerance=S&expect_all_listed=1]`: the verdict;
- `POST /_sandbox/faults` (`kind`, optional `path` (exact, or a prefix ending in `*`),
  `method`, `count`, `after`) and `POST /_sandbox/odds` (kind=probability);
- `POST /_sandbox/expire_tokens` / `POST /_sandbox/revoke_refresh_tokens` (optional
  `seller`, `client_id`);
- `POST /_sandbox/spend_budget` (`client_id`): use up the application's day.

Order of an API request: token (401 / 1001) and scope (403 / 1100), then a fault that
does nothing (500 / 25001, 500 / 25025, reset, hang), then the application's day budget
(429 / 2001, not counted, nothing done), then the call itself. A lost-response fault
drops the answer of a call that was carried out; a call that fails answers its error.

Error ids chosen here where PLATFORMS.md is silent (all in `errors.py`): 2004 a body
that is not JSON, a wrong type or an unknown enum value (eBay's "Could not serialize
field"); 2002 no such path (405 for a wrong method); 1100 a token without the scope;
25702 an offer for a SKU without an inventory item; 25800 a bad location key, 25802 a
location without its address fields (the field named), 25804 no such location; 20401 a
missing Account API field, 20403 not opted in (or an unknown marketplace/program);
25002 also for a title over 80 / a description over 4,000 characters and for
withdrawing an offer that is not published; 25017 a listing without title or
description; 25021 a listing without condition. Content-Language is required on every
Inventory API write (POST, PUT, DELETE), 25709 otherwise.
"""

from __future__ import annotations

from upload_scheduler.platforms.ebay.sandbox.options import (
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SELLER,
    EbaySandboxOptions,
)
from upload_scheduler.platforms.ebay.sandbox.record import load_calls
from upload_scheduler.platforms.ebay.sandbox.server import EbaySandboxServer, serve
from upload_scheduler.platforms.ebay.sandbox.verdict import EbayVerdict, check_calls

__all__ = [
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_SELLER",
    "EbaySandboxOptions",
    "EbaySandboxServer",
    "EbayVerdict",
    "check_calls",
    "load_calls",
    "serve",
]
