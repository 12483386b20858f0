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
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=0)
    add("--client-secret", default=defaults.client_secret)
    add("--token-lifetime", type=int, default=defaults.token_lifetime)
    add("--app-day-limit", type=int, default=defaults.app_day_limit)
    add("--account-day-limit", type=int, default=defaults.account_day_limit)
    add("--timezone", default=defaults.timezone)
    add("--sellers-without-location", default="")
    add("--sellers-not-opted-in", default="")
    add("--sellers-with-extra-policies", default="")
    add("--opt-in-delay", type=float, default=defaults.opt_in_delay)
    add("--empty-offer-list", action="store_true")
    add("--required-aspects", default="")
    add("--selling-limit", type=int, default=defaults.selling_limit)
    add("--latency", type=float, default=0.0)
    for name in ("server-error", "timeout", "reset", "lost-response", "concurrency"):
        add(f"--p-{name}", type=float, default=0.0)
    add("--token-faults", action="store_true")
    add("--timeout-hang", type=float, default=defaults.timeout_hang)
    add("--seed", type=int, default=None)
    add("--record", type=Path, default=None)
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
