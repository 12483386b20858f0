"""`python -m upload_scheduler.platforms.thebase.sandbox [options]`: the same server as
`upload-scheduler sandbox serve`, started without loading the whole command line (the
demo and the tests start it in well under a second this way)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from upload_scheduler.platforms.thebase.sandbox.options import SandboxOptions
from upload_scheduler.platforms.thebase.sandbox.server import SandboxServer, serve


def parse(argv: list[str] | None = None) -> tuple[SandboxOptions, str, int]:
    defaults = SandboxOptions()
    parser = argparse.ArgumentParser(
        prog="python -m upload_scheduler.platforms.thebase.sandbox",
        description="A local BASE-compatible server; prints its URL first.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token-lifetime", type=int, default=defaults.token_lifetime)
    parser.add_argument("--hour-limit", type=int, default=defaults.hour_call_limit)
    parser.add_argument("--day-limit", type=int, default=defaults.day_call_limit)
    parser.add_argument("--daily-item-limit", type=int, default=defaults.daily_item_limit)
    parser.add_argument("--latency", type=float, default=0.0)
    for name in ("server-error", "timeout", "reset", "lost-response"):
        parser.add_argument(f"--p-{name}", type=float, default=0.0)
    parser.add_argument("--timeout-hang", type=float, default=defaults.timeout_hang)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--record", type=Path, default=None)
    parser.add_argument("--timezone", default=defaults.timezone)
    args = parser.parse_args(argv)
    try:
        options = SandboxOptions(
            token_lifetime=args.token_lifetime,
            hour_call_limit=args.hour_limit,
            day_call_limit=args.day_limit,
            daily_item_limit=args.daily_item_limit,
            latency=args.latency,
            p_server_error=args.p_server_error,
            p_timeout=args.p_timeout,
            p_reset=args.p_reset,
            p_lost_response=args.p_lost_response,
            timeout_hang=args.timeout_hang,
            seed=args.seed,
            record_path=args.record,
            timezone=args.timezone,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return options, args.host, args.port


def main(argv: list[str] | None = None) -> int:
    options, host, port = parse(argv)
    try:
        server = SandboxServer(options, host=host, port=port)
    except OSError as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 1
    serve(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
