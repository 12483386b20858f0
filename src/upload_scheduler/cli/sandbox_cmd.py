"""`upload-scheduler sandbox serve`: a local marketplace-compatible server for rehearsals,
the demo and the tests: BASE by default, eBay with `--platform ebay`, Yahoo!ショッピング
with `--platform yahoo`. Point the platform's `api_base_url` (and, for eBay and Yahoo!,
`auth_base_url`) at the URL it prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from upload_scheduler import defaults
from upload_scheduler.cli.context import fail

PLATFORMS = ("base", "ebay", "yahoo")
USAGE_ERROR = 2
BASE_PANEL = "BASE only (--platform base)"
EBAY_PANEL = "eBay only (--platform ebay)"
APP_PANEL = "eBay and Yahoo! (--platform ebay or yahoo)"
YAHOO_PANEL = "Yahoo! only (--platform yahoo)"
SANDBOX_NAMES = {
    "base": "the BASE sandbox",
    "ebay": "the eBay sandbox",
    "yahoo": "the Yahoo! sandbox",
}
EBAY_TOKEN_LIFETIME = 7200
BASE_TOKEN_LIFETIME = 3600
YAHOO_TOKEN_LIFETIME = 3600


def register(app: typer.Typer) -> None:
    sandbox = typer.Typer(
        help="A local BASE-, eBay- or Yahoo!-compatible server (no config file needed).",
        no_args_is_help=True,
    )
    sandbox.command("serve")(serve)
    app.add_typer(sandbox, name="sandbox")


def serve(
    platform: Annotated[
        str,
        typer.Option(
            "--platform",
            help="Which marketplace to imitate: base, ebay or yahoo.",
            metavar="NAME",
        ),
    ] = "base",
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, help="Port; 0 picks a free one.")] = 0,
    token_lifetime: Annotated[
        int | None,
        typer.Option(
            "--token-lifetime",
            min=1,
            help=f"Seconds an access token lives (default {BASE_TOKEN_LIFETIME} for BASE, "
            f"{EBAY_TOKEN_LIFETIME} for eBay, {YAHOO_TOKEN_LIFETIME} for Yahoo!).",
            show_default=False,
        ),
    ] = None,
    hour_limit: Annotated[
        int | None,
        typer.Option(
            "--hour-limit",
            min=0,
            help=f"API calls per shop and clock hour (default {defaults.HOUR_CALL_LIMIT}).",
            rich_help_panel=BASE_PANEL,
        ),
    ] = None,
    day_limit: Annotated[
        int | None,
        typer.Option(
            "--day-limit",
            min=0,
            help=f"API calls per shop and day (default {defaults.DAY_CALL_LIMIT}).",
            rich_help_panel=BASE_PANEL,
        ),
    ] = None,
    daily_item_limit: Annotated[
        int | None,
        typer.Option(
            "--daily-item-limit",
            min=0,
            help=f"items/add per shop and day (default {defaults.DAILY_LIMIT}).",
            rich_help_panel=BASE_PANEL,
        ),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            help="The secret every client_id must send to the token endpoint "
            "(default sandbox-secret).",
            rich_help_panel=APP_PANEL,
        ),
    ] = None,
    app_day_limit: Annotated[
        int | None,
        typer.Option(
            "--app-day-limit",
            min=0,
            help="API calls per application (client_id) and day, shared by its sellers or "
            "stores; then eBay answers 429/2001 (default "
            f"{defaults.EBAY_DAY_CALL_LIMIT}: Inventory and Account API calls), Yahoo! 403 "
            f"Forbidden (default {defaults.YAHOO_DAY_CALL_LIMIT}, days end in Japan).",
            rich_help_panel=APP_PANEL,
        ),
    ] = None,
    account_day_limit: Annotated[
        int | None,
        typer.Option(
            "--account-day-limit",
            min=0,
            help="Account API calls per application and day (default 25000).",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    sellers_without_location: Annotated[
        str | None,
        typer.Option(
            "--sellers-without-location",
            help="Comma-separated sellers who start without the JP_LOCATION inventory "
            "location (every other seller has it).",
            metavar="NAMES",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    sellers_not_opted_in: Annotated[
        str | None,
        typer.Option(
            "--sellers-not-opted-in",
            help="Comma-separated sellers who start outside business policies "
            "(SELLING_POLICY_MANAGEMENT); the others are opted in with one fulfillment, "
            "payment and return policy for EBAY_US.",
            metavar="NAMES",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    sellers_with_extra_policies: Annotated[
        str | None,
        typer.Option(
            "--sellers-with-extra-policies",
            help="Comma-separated sellers who have two fulfillment policies.",
            metavar="NAMES",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    opt_in_delay: Annotated[
        float | None,
        typer.Option(
            "--opt-in-delay",
            min=0.0,
            help="Seconds until an opt-in to business policies is processed (default 0).",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    empty_offer_list: Annotated[
        bool,
        typer.Option(
            "--empty-offer-list",
            help="Answer GET offer?sku= for a SKU without offers with 200 and an empty "
            "list instead of 404/25713.",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = False,
    required_aspects: Annotated[
        str | None,
        typer.Option(
            "--required-aspects",
            help="Comma-separated item aspects (e.g. Brand) a publish requires (25029).",
            metavar="NAMES",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    selling_limit: Annotated[
        int | None,
        typer.Option(
            "--selling-limit",
            min=0,
            help="Live listings per seller before a publish gets 25026; 0: no limit (default 0).",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    p_concurrency: Annotated[
        float | None,
        typer.Option(
            "--p-concurrency",
            min=0.0,
            max=1.0,
            help="Probability of a 500/25025 'concurrent access' (no action) (default 0).",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = None,
    token_faults: Annotated[
        bool,
        typer.Option(
            "--token-faults",
            help="Let the random faults hit the token endpoint too (by default it is fault-free).",
            rich_help_panel=EBAY_PANEL,
        ),
    ] = False,
    refresh_lifetime: Annotated[
        int | None,
        typer.Option(
            "--refresh-lifetime",
            min=1,
            help="Seconds a refresh token lives, counted from the login and never extended "
            "by refreshing; then invalid_grant (default 2419200, four weeks).",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    url_interval: Annotated[
        float | None,
        typer.Option(
            "--url-interval",
            min=0.0,
            help="Seconds between two requests to one API for one store (seller_id), "
            "measured between arrivals with 5 ms tolerance; sooner: 429 (default "
            f"{defaults.YAHOO_URL_INTERVAL_SECONDS}).",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    image_hour_limit: Annotated[
        int | None,
        typer.Option(
            "--image-hour-limit",
            min=0,
            help="uploadItemImage calls per store and hour; then 503 (default 10000).",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    image_max_bytes: Annotated[
        int | None,
        typer.Option(
            "--image-max-bytes",
            min=1,
            help="Largest image uploadItemImage takes; larger: 400 ed-00006 (default 2000000).",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    publish_delay: Annotated[
        float | None,
        typer.Option(
            "--publish-delay",
            min=0.0,
            help="Seconds from submitItem or reservePublish until the snapshot taken then "
            "is published (default 0.5).",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    foreign_stores: Annotated[
        str | None,
        typer.Option(
            "--foreign-stores",
            help="Comma-separated stores (seller_id) no login may act for: 403 px-04003 "
            "(every other store is the token's).",
            metavar="NAMES",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    p_unavailable: Annotated[
        float | None,
        typer.Option(
            "--p-unavailable",
            "--p-error503",
            min=0.0,
            max=1.0,
            help="Probability of an HTTP 503 (no action) (default 0).",
            rich_help_panel=YAHOO_PANEL,
        ),
    ] = None,
    latency: Annotated[
        float, typer.Option("--latency", min=0.0, help="Seconds added to every API request.")
    ] = 0.0,
    p_server_error: Annotated[
        float,
        typer.Option(
            "--p-server-error",
            "--p-error500",
            min=0.0,
            max=1.0,
            help="Probability of an HTTP 500 (no action).",
        ),
    ] = 0.0,
    p_timeout: Annotated[
        float,
        typer.Option(
            "--p-timeout",
            "--p-hang",
            min=0.0,
            max=1.0,
            help="Probability of no answer at all (no action).",
        ),
    ] = 0.0,
    p_reset: Annotated[
        float,
        typer.Option(
            "--p-reset", min=0.0, max=1.0, help="Probability of a connection reset (no action)."
        ),
    ] = 0.0,
    p_lost_response: Annotated[
        float,
        typer.Option(
            "--p-lost-response",
            "--p-lost",
            min=0.0,
            max=1.0,
            help="Probability that a request is carried out and its answer lost.",
        ),
    ] = 0.0,
    timeout_hang: Annotated[
        float,
        typer.Option("--timeout-hang", min=0.0, help="Seconds a timeout fault keeps silent."),
    ] = 35.0,
    seed: Annotated[
        int | None, typer.Option("--seed", "--fault-seed", help="Seed for the random faults.")
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Append every request to this JSONL file.", metavar="FILE"),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help=f"Where the day limits' day ends (default {defaults.TIMEZONE} for BASE, "
            f"{defaults.EBAY_RESET_TIMEZONE} for eBay, "
            f"{defaults.APPLICATION_RESET_TIMEZONES['yahoo']} for Yahoo!).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve a marketplace's OAuth and API locally until Ctrl+C. Prints its URL first.

    BASE (default): BASE's OAuth and items API. eBay (--platform ebay): the consent page
    (GET /oauth2/authorize; the sandbox-only `seller` parameter agrees at once), the
    token endpoint, the Account API's set-up calls and the Inventory API, on one URL.
    Yahoo! (--platform yahoo): YConnect v2 (GET /yconnect/v2/authorization; the
    sandbox-only `user` parameter agrees at once), the store API under
    /ShoppingWebService/V1/ and an image origin under /images/, on one URL.
    """
    base_only = {
        "--hour-limit": hour_limit,
        "--day-limit": day_limit,
        "--daily-item-limit": daily_item_limit,
    }
    app_options = {"--client-secret": client_secret, "--app-day-limit": app_day_limit}
    ebay_only = {
        "--account-day-limit": account_day_limit,
        "--sellers-without-location": sellers_without_location,
        "--sellers-not-opted-in": sellers_not_opted_in,
        "--sellers-with-extra-policies": sellers_with_extra_policies,
        "--opt-in-delay": opt_in_delay,
        "--empty-offer-list": empty_offer_list or None,
        "--required-aspects": required_aspects,
        "--selling-limit": selling_limit,
        "--p-concurrency": p_concurrency,
        "--token-faults": token_faults or None,
    }
    yahoo_only = {
        "--refresh-lifetime": refresh_lifetime,
        "--url-interval": url_interval,
        "--image-hour-limit": image_hour_limit,
        "--image-max-bytes": image_max_bytes,
        "--publish-delay": publish_delay,
        "--foreign-stores": foreign_stores,
        "--p-unavailable": p_unavailable,
    }
    if platform not in PLATFORMS:
        fail(f"--platform must be one of {', '.join(PLATFORMS)}, not {platform!r}", USAGE_ERROR)
    accepted: dict[str, dict[str, Any]] = {
        "base": base_only,
        "ebay": {**app_options, **ebay_only},
        "yahoo": {**app_options, **yahoo_only},
    }
    _refuse_foreign_options(platform, accepted)
    shared: dict[str, Any] = {
        "latency": latency,
        "p_server_error": p_server_error,
        "p_timeout": p_timeout,
        "p_reset": p_reset,
        "p_lost_response": p_lost_response,
        "timeout_hang": timeout_hang,
        "seed": seed,
        "record_path": record,
    }
    if platform == "ebay":
        _serve_ebay(host, port, token_lifetime, timezone, shared, {**app_options, **ebay_only})
        return
    if platform == "yahoo":
        given = {"--token-lifetime": token_lifetime, "--timezone": timezone}
        given.update(app_options, **yahoo_only)
        fields = {flag.removeprefix("--").replace("-", "_"): v for flag, v in given.items()}
        _serve_yahoo(host, port, {**shared, **fields})
        return
    from upload_scheduler.platforms.thebase.sandbox import SandboxOptions, SandboxServer
    from upload_scheduler.platforms.thebase.sandbox import serve as run

    try:
        options = SandboxOptions(
            token_lifetime=token_lifetime or BASE_TOKEN_LIFETIME,
            hour_call_limit=defaults.HOUR_CALL_LIMIT if hour_limit is None else hour_limit,
            day_call_limit=defaults.DAY_CALL_LIMIT if day_limit is None else day_limit,
            daily_item_limit=(
                defaults.DAILY_LIMIT if daily_item_limit is None else daily_item_limit
            ),
            timezone=timezone or defaults.TIMEZONE,
            **shared,
        )
        server = SandboxServer(options, host=host, port=port)
    except (ValueError, OSError) as exc:
        fail(f"cannot start the sandbox: {exc}")
    run(server)


def _serve_ebay(
    host: str,
    port: int,
    token_lifetime: int | None,
    timezone: str | None,
    shared: dict[str, Any],
    given: dict[str, Any],
) -> None:
    from upload_scheduler.platforms.ebay.sandbox import EbaySandboxOptions, EbaySandboxServer
    from upload_scheduler.platforms.ebay.sandbox import serve as run
    from upload_scheduler.platforms.ebay.sandbox.options import seller_names

    names = {
        "sellers_without_location": "--sellers-without-location",
        "sellers_not_opted_in": "--sellers-not-opted-in",
        "sellers_with_extra_policies": "--sellers-with-extra-policies",
        "required_aspects": "--required-aspects",
    }
    values = {
        "client_secret": given["--client-secret"],
        "app_day_limit": given["--app-day-limit"],
        "account_day_limit": given["--account-day-limit"],
        "opt_in_delay": given["--opt-in-delay"],
        "selling_limit": given["--selling-limit"],
        "p_concurrency": given["--p-concurrency"],
        "empty_offer_list": given["--empty-offer-list"],
        "token_faults": given["--token-faults"],
        "token_lifetime": token_lifetime,
        "timezone": timezone,
        **{field: seller_names(given[flag]) for field, flag in names.items()},
    }
    _start(EbaySandboxOptions, EbaySandboxServer, run, host, port, {**shared, **values})


def _refuse_foreign_options(platform: str, accepted: dict[str, dict[str, Any]]) -> None:
    """A usage error naming the options given that `platform`'s sandbox does not take,
    and the sandboxes that do."""
    given = [
        name
        for other in PLATFORMS
        for name, value in accepted[other].items()
        if value is not None and name not in accepted[platform]
    ]
    if not given:
        return
    messages = []
    for name in dict.fromkeys(given):
        owners = [SANDBOX_NAMES[p] for p in PLATFORMS if name in accepted[p]]
        messages.append(f"{name} is for {' and '.join(owners)}")
    fail(f"{'; '.join(messages)}, not --platform {platform}", USAGE_ERROR)


def _serve_yahoo(host: str, port: int, values: dict[str, Any]) -> None:
    """`values`: the options' fields, each named as its flag (None: the default)."""
    from upload_scheduler.platforms.yahoo.sandbox import YahooSandboxOptions, YahooSandboxServer
    from upload_scheduler.platforms.yahoo.sandbox import serve as run
    from upload_scheduler.platforms.yahoo.sandbox.options import store_names

    if values["foreign_stores"] is not None:
        values["foreign_stores"] = store_names(values["foreign_stores"])
    _start(YahooSandboxOptions, YahooSandboxServer, run, host, port, values)


def _start(
    options_class: Callable[..., Any],
    server_class: Callable[..., Any],
    run: Callable[[Any], None],
    host: str,
    port: int,
    values: dict[str, Any],
) -> None:
    """Build a sandbox's options from the values given (None: its default) and serve."""
    try:
        options = options_class(**{k: v for k, v in values.items() if v is not None})
        server = server_class(options, host=host, port=port)
    except (ValueError, OSError) as exc:
        fail(f"cannot start the sandbox: {exc}")
    run(server)
