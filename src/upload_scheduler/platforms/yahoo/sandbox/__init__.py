"""A local Yahoo!ショッピング-compatible server: YConnect v2 (authorization and token
endpoints), the store API (editItem, uploadItemImage, setStock, submitItem,
reservePublish, getItem, deleteItem) with Yahoo!'s XML answers, Yahoo!'s limits,
faults, an image origin to download product images from, and a record of every
request for judging a run. The wire contract (/tmp/yahoo_wire.md) is authoritative.

Start it with `upload-scheduler sandbox serve --platform yahoo` or, faster,
`python -m upload_scheduler.platforms.yahoo.sandbox`; in-process with
`with YahooSandboxServer(options) as sandbox: ... sandbox.url ...` (both
`api_base_url` and `auth_base_url` are that URL).

Logins and stores: any client_id is an application whose secret is the sandbox's
(`--client-secret`), its day budget shared by all its stores. The user is named by the
sandbox-only `user` parameter of the authorization request (`GET
/yconnect/v2/authorization?...&user=NAME` agrees at once and redirects 302 to
`redirect_uri?code=...&state=...`; `deny=1` redirects with error=access_denied);
without it a consent page asks. `login.login_code()` / `login.user_tokens()` do it for
tests. A token may act for every seller_id but the `--foreign-stores` (403 px-04003).
The refresh token ends `--refresh-lifetime` after the LOGIN; refreshing answers an
access token only and never moves that end.

Sandbox-only endpoints (never faulted, never recorded):
- `GET /_sandbox/calls`: the record, `{"calls": [...]}` (fields: `record.py`);
- `GET /_sandbox/state[?seller_id=S]`: per store its items (fields, reset_fields,
  images with name/size/format, stock, deleted, pending, publish_due, ever_published,
  the published snapshot), its image files, and the applications' usage today, logins;
- `GET /_sandbox/verdict[?expect_all_published=1][&require_whole_items=0]`: the verdict
  (`verdict.check_calls`);
- `POST /_sandbox/faults` (`kind`; `path` (exact, or a prefix ending in `*`) or `api`;
  `method`, `count`, `after`): without path or api it hits the next store API request;
- `POST /_sandbox/odds` (kind=probability, …);
- `POST /_sandbox/expire_tokens` (optional `user`, `client_id`): access tokens end now;
- `POST /_sandbox/end_logins` (optional `user`, `client_id`): refresh tokens end now;
- `POST /_sandbox/spend_budget` (`client_id`): use up the application's JST day.
Fault kinds: server_error (500), unavailable (503), timeout (no answer for
`--timeout-hang`), reset, lost_response (carried out, then the connection closed
unanswered); also by their short names error500, error503, hang, lost. Random faults
hit the store API only; OAuth and the image origin only by an injected fault whose
path names them.

Order of a store API request: the API's name and method (404 / 405), the Bearer token
(401 with `WWW-Authenticate: Bearer realm="yahooapis.jp", error="invalid_token",
error_description="expired token"` (or "invalid token", "no token")), seller_id
(missing: 400 px-04001), a foreign store (403 px-04003), the URL interval per (api,
seller_id) measured between arrivals from the last request let through, 5 ms
tolerance (429 with Retry-After), the application's JST day (403 "Your Request was
Forbidden", no Code), then the request counts; then a fault that does nothing (500,
503, hang, reset); then the call itself; a lost_response fault closes the connection
after it. Refused requests (token, store, 429, 403) do nothing, are not counted and
are recorded with `refused` set. uploadItemImage's hour budget per store
(`--image-hour-limit`) answers 503 (refused image_hour_limit) after the call counted.

Choices where the contract and PLATFORMS.md are silent:
- editItem answers every problem at once (one `<Error>` each); a name holding
  characters outside CP932 (emoji …) is it-01050 "invalid character"; headline and
  explanation count characters (30, 500), the name counts width (half-width 0.5, 75);
  a path level counts characters (20); a field of the contract left out is reset to
  its default (display to "0", texts to "") and recorded as `reset_fields`;
- images belong to the store, linked by file name, so they may come before the item;
  only `.jpg` names are accepted; "2 MB" is 2,000,000 bytes (`--image-max-bytes`);
- a change is pending until a snapshot taken after it is published: editItem, an image
  of the item, deleteItem; setStock takes effect at once and is no pending change;
- deleteItem of an item never published removes it at once; otherwise it leaves the
  store at the next publish (reservePublish); getItem, setStock, submitItem of a
  deleted item: 400 it-00999;
- reservePublish takes mode=1 with an empty reserve_time only (else 400 pb-00001);
  setStock's quantity must be a whole number >= 0 (else 400 st-00001);
- publishing is lazy: a snapshot is published when a request or the state arrives
  after its due time, which is the same to every observer.
"""

from __future__ import annotations

from upload_scheduler.platforms.yahoo.sandbox.options import (
    DEFAULT_CLIENT_SECRET,
    DEFAULT_USER,
    YahooSandboxOptions,
)
from upload_scheduler.platforms.yahoo.sandbox.record import load_calls
from upload_scheduler.platforms.yahoo.sandbox.server import YahooSandboxServer, serve
from upload_scheduler.platforms.yahoo.sandbox.verdict import YahooVerdict, check_calls

__all__ = [
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_USER",
    "YahooSandboxOptions",
    "YahooSandboxServer",
    "YahooVerdict",
    "check_calls",
    "load_calls",
    "serve",
]
