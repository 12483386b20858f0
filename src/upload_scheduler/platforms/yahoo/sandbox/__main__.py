"""`python -m upload_scheduler.platforms.yahoo.sandbox [options]`: the same server as
`upload-scheduler sandbox serve --platform yahoo`, started without loading the whole
command line (tests and the demo start it in well under a second this way)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from upload_scheduler.platforms.sandbox_http import run_main
from upload_scheduler.platforms.yahoo.sandbox.options import YahooSandboxOptions, store_names
from upload_scheduler.platforms.yahoo.sandbox.server import YahooSandboxServer, serve

# option -> (its other name, what it is the probability of)
FAULT_OPTIONS = {
    "--p-server-error": ("--p-error500", "an HTTP 500, nothing done"),
    "--p-unavailable": ("--p-error503", "an HTTP 503, nothing done"),
    "--p-timeout": ("--p-hang", "no answer for --timeout-hang seconds, nothing done"),
    "--p-reset": (None, "a connection reset, nothing done"),
    "--p-lost-response": ("--p-lost", "carried out, then the connection closed unanswered"),
}


def parse(argv: list[str] | None = None) -> tuple[YahooSandboxOptions, str, int]:
    d = YahooSandboxOptions()
    parser = argparse.ArgumentParser(
        prog="python -m upload_scheduler.platforms.yahoo.sandbox",
        description="A local Yahoo!ショッピング-compatible server; prints its URL first.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on")
    add("--port", type=int, default=0, help="port; 0 picks a free one")
    add("--client-secret", default=d.client_secret, help="every client_id's secret")
    add("--token-lifetime", type=int, default=d.token_lifetime, help="access token seconds")
    add("--refresh-lifetime", type=int, default=d.refresh_lifetime, help="seconds from login")
    add("--url-interval", type=float, default=d.url_interval, help="s per (api, seller_id)")
    add("--app-day-limit", type=int, default=d.app_day_limit, help="requests/client_id/day")
    add("--timezone", default=d.timezone, help="where the application's day ends")
    add("--image-hour-limit", type=int, default=d.image_hour_limit, help="per store, then 503")
    add("--image-max-bytes", type=int, default=d.image_max_bytes, help="larger: ed-00006")
    add("--publish-delay", type=float, default=d.publish_delay, help="seconds to publish")
    add(
        "--foreign-stores",
        type=store_names,
        default=frozenset(),
        metavar="NAMES",
        help="seller_ids refused (px-04003)",
    )
    add("--latency", type=float, default=0.0, help="seconds added to every API request")
    for name, (alias, text) in FAULT_OPTIONS.items():
        names = [name] if alias is None else [name, alias]
        add(*names, type=float, default=0.0, help=f"probability of {text}")
    add("--timeout-hang", type=float, default=d.timeout_hang, help="seconds")
    add("--seed", "--fault-seed", type=int, default=None, help="seed for the random faults")
    add(
        "--record",
        dest="record_path",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSONL of every request",
    )
    values = vars(parser.parse_args(argv))  # every dest but host and port is a field
    host, port = values.pop("host"), values.pop("port")
    try:
        options = YahooSandboxOptions(**values)
    except ValueError as exc:
        parser.error(str(exc))
    return options, host, port


def main(argv: list[str] | None = None) -> int:
    options, host, port = parse(argv)
    return run_main(lambda: YahooSandboxServer(options, host=host, port=port), serve)


if __name__ == "__main__":
    sys.exit(main())
