"""`python -m upload_scheduler.platforms.ebay.sandbox [options]`: the same server as
`upload-scheduler sandbox serve --platform ebay`, started without loading the whole
command line (tests and the demo start it in well under a second this way)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from upload_scheduler.platforms.ebay.sandbox.options import EbaySandboxOptions, seller_names
from upload_scheduler.platforms.ebay.sandbox.server import EbaySandboxServer, serve


def parse(argv: list[str] | None = None) -> tuple[EbaySandboxOptions, str, int]:
    defaults = EbaySandboxOptions()
    parser = argparse.ArgumentParser(
        prog="python -m upload_scheduler.platforms.ebay.sandbox",
        description="A local eBay-compatible server; prints its URL first.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on")
    add("--port", type=int, default=0, help="port; 0 picks a free one")
    add("--client-secret", default=defaults.client_secret, help="every client_id's secret")
    add("--token-lifetime", type=int, default=defaults.token_lifetime, help="access token s")
    add("--app-day-limit", type=int, default=defaults.app_day_limit, help="calls/app/day")
    add("--account-day-limit", type=int, default=defaults.account_day_limit)
    add("--timezone", default=defaults.timezone, help="where the application's day ends")
    add("--sellers-without-location", default="", metavar="NAMES", help="no JP_LOCATION")
    add("--sellers-not-opted-in", default="", metavar="NAMES", help="no business policies")
    add("--sellers-with-extra-policies", default="", metavar="NAMES", help="2 fulfillment")
    add("--opt-in-delay", type=float, default=defaults.opt_in_delay, help="seconds")
    add("--empty-offer-list", action="store_true", help="200 [] instead of 404/25713")
    add("--required-aspects", default="", metavar="NAMES", help="publish needs them (25029)")
    add("--selling-limit", type=int, default=defaults.selling_limit, help="0: none (25026)")
    add("--latency", type=float, default=0.0, help="seconds added to every API request")
    for name in ("server-error", "timeout", "reset", "lost-response", "concurrency"):
        add(f"--p-{name}", type=float, default=0.0, help="probability")
    add("--token-faults", action="store_true", help="random faults hit the token endpoint")
    add("--timeout-hang", type=float, default=defaults.timeout_hang, help="seconds")
    add("--seed", type=int, default=None, help="seed for the random faults")
    add("--record", type=Path, default=None, metavar="FILE", help="JSONL of every request")
    args = parser.parse_args(argv)
    try:
        options = EbaySandboxOptions(
            client_secret=args.client_secret,
            token_lifetime=args.token_lifetime,
            app_day_limit=args.app_day_limit,
            account_day_limit=args.account_day_limit,
            timezone=args.timezone,
            sellers_without_location=seller_names(args.sellers_without_location),
            sellers_not_opted_in=seller_names(args.sellers_not_opted_in),
            sellers_with_extra_policies=seller_names(args.sellers_with_extra_policies),
            opt_in_delay=args.opt_in_delay,
            empty_offer_list=args.empty_offer_list,
            required_aspects=seller_names(args.required_aspects),
            selling_limit=args.selling_limit,
            latency=args.latency,
            p_server_error=args.p_server_error,
            p_timeout=args.p_timeout,
            p_reset=args.p_reset,
            p_lost_response=args.p_lost_response,
            p_concurrency=args.p_concurrency,
            token_faults=args.token_faults,
            timeout_hang=args.timeout_hang,
            seed=args.seed,
            record_path=args.record,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return options, args.host, args.port


def main(argv: list[str] | None = None) -> int:
    options, host, port = parse(argv)
    try:
        server = EbaySandboxServer(options, host=host, port=port)
    except OSError as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 1
    serve(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
