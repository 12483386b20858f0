"""`upload-scheduler token login|status|refresh` (seed check_token_status.py and
refresh_tokens.py), for BASE, eBay and Yahoo!. Tokens live in the database only; output shows
their last 4 characters at most.

BASE redirects the browser to `redirect_uri`, which a loopback listener here can receive;
eBay sends it to the RuName's page on eBay's side, so the user pastes the address the
browser ended on (or the bare code), or gives it with `--code`. Yahoo! redirects like
BASE; its login ends four weeks after it is made, which `token status` counts down."""

from __future__ import annotations

import json
import sys
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, unquote, urlsplit

import typer
from rich.table import Table

from upload_scheduler import defaults
from upload_scheduler.cli.context import AppContext, app_context, console, err_console, fail
from upload_scheduler.cli.render import local_time

if TYPE_CHECKING:
    from upload_scheduler.config import AccountSettings
    from upload_scheduler.platforms.token_manager import TokenManager

PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        help="Platform name: base, ebay or yahoo (those with OAuth tokens). Default: base, "
        "or the one token platform the config has accounts on.",
    ),
]
OAUTH_PLATFORMS = defaults.TOKEN_PLATFORMS
_NAMES = {"base": "BASE", "ebay": "eBay", "yahoo": "Yahoo!"}
LOGIN_TIMEOUT = 300.0


def register(app: typer.Typer) -> None:
    token = typer.Typer(help="OAuth tokens: log in, check, refresh.", no_args_is_help=True)
    token.command("login")(login)
    token.command("status")(status)
    token.command("refresh")(refresh)
    app.add_typer(token, name="token")


@contextmanager
def _manager(context: AppContext, platform: str) -> Iterator[TokenManager]:
    from upload_scheduler.clock import SystemClock

    if platform == "ebay":
        from upload_scheduler.platforms.ebay.client import EbayClient
        from upload_scheduler.platforms.ebay.tokens import token_manager

        ebay_client = EbayClient()
        try:
            yield token_manager(context.settings, context.engine, SystemClock(), ebay_client)
        finally:
            ebay_client.close()
        return
    if platform == "yahoo":
        from upload_scheduler.platforms.yahoo.client import YahooClient
        from upload_scheduler.platforms.yahoo.tokens import token_manager as yahoo_tokens

        yahoo_client = YahooClient()
        try:
            yield yahoo_tokens(context.settings, context.engine, SystemClock(), yahoo_client)
        finally:
            yahoo_client.close()
        return
    if platform != "base":
        fail(f"token management is for platforms {', '.join(OAUTH_PLATFORMS)}; got {platform!r}")
    from upload_scheduler.platforms.thebase.client import BaseClient
    from upload_scheduler.platforms.thebase.tokens import TokenManager

    client = BaseClient()
    try:
        yield TokenManager(
            context.settings, context.engine, SystemClock(), client, platform=platform
        )
    finally:
        client.close()


def login(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="The account to log in.")],
    platform: PlatformOpt = None,
    code: Annotated[
        str | None,
        typer.Option(
            "--code",
            help="An authorization code, or the address the browser ended on: no browser, no "
            "input, no state check.",
        ),
    ] = None,
    listen: Annotated[
        str | None,
        typer.Option(
            "--listen",
            help="Receive the redirect here (default: the host:port of redirect_uri when it is "
            "a loopback address).",
            metavar="HOST:PORT",
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Let --listen use an address other computers can reach (default: loopback only).",
        ),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL only; do not open a browser.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds to wait for the redirect.")
    ] = LOGIN_TIMEOUT,
) -> None:
    """Authorize upload-scheduler for one shop (or eBay seller) and store its tokens in
    the database. eBay: open the consent URL, then paste the address the browser ended on."""
    from upload_scheduler.platforms.errors import PlatformError
    from upload_scheduler.platforms.thebase import oauth
    from upload_scheduler.platforms.thebase.loopback import LoginError, LoopbackReceiver

    if code is not None and listen is not None:
        fail("--code and --listen cannot be used together")
    context = app_context(ctx)
    platform = _platform(context, platform)
    if listen is not None and platform == "ebay":
        fail(
            "--listen is for BASE: eBay sends the browser to the RuName's page, not to this "
            "computer; paste the address the browser ends on, or give it with --code"
        )
    if listen is not None:
        _check_listen_host(listen, allow_remote)
    with _manager(context, platform) as manager:
        try:
            settings = manager.account_settings(account)
            manager.client_secret(account)  # fail before the browser opens, not after
        except PlatformError as exc:
            fail(exc.message)
        if code is not None:
            code = _code_from(code, None, platform)
        elif platform == "ebay":
            code = _ebay_consent(settings, account, no_browser)
        else:
            state = oauth.new_state()
            url = _authorize_url(platform, settings, state, account)
            address = _listen_address(listen, settings.redirect_uri)
            if address is None:
                code = _paste_code(url, state)
            else:
                try:
                    receiver = LoopbackReceiver(
                        *address, urlsplit(settings.redirect_uri).path, state
                    )
                except LoginError as exc:
                    fail(str(exc))
                with receiver:
                    _show_url(url, no_browser)
                    typer.echo(
                        f"Waiting up to {timeout:g} s for the redirect on "
                        f"http://{address[0]}:{receiver.address[1]} …"
                    )
                    sys.stdout.flush()
                    try:
                        code = receiver.wait(timeout)
                    except LoginError as exc:
                        fail(str(exc))
        try:
            record = manager.login_with_code(account, code)
        except PlatformError as exc:
            fail(exc.message)
    zone = context.settings.zone
    refresh_end = (
        f", refresh token until {local_time(record.refresh_expires_at, zone)}"
        if record.refresh_expires_at is not None
        else ""
    )
    console.print(
        f"Logged in {platform}/{account}: access token valid until "
        f"{local_time(record.expires_at, zone)}{refresh_end}; tokens stored in the database."
    )


def _authorize_url(platform: str, settings: AccountSettings, state: str, account: str) -> str:
    """Where the browser goes to log in (BASE's or Yahoo!'s page, which redirect back)."""
    if platform == "yahoo":
        from upload_scheduler.platforms.yahoo import oauth as yahoo_oauth

        return yahoo_oauth.authorize_url(settings, state, user=account)
    from upload_scheduler.platforms.thebase import oauth

    return oauth.authorize_url(
        settings.api_base_url, settings.client_id, settings.redirect_uri, state, shop=account
    )


def status(
    ctx: typer.Context,
    platform: PlatformOpt = None,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Each account's tokens: valid until, the refresh token's age and end (for Yahoo!, the
    day the four-week login ends and the days left), and what needs a login. Exits 1 when
    any account needs a login."""
    from upload_scheduler.clock import SystemClock
    from upload_scheduler.platforms.token_health import assess, days_left
    from upload_scheduler.platforms.token_store import TokenStore, tail

    context = app_context(ctx)
    platform = _platform(context, platform)
    accounts = _accounts(context, platform, account)
    records = TokenStore(context.read_engine(), platform).all()
    now = SystemClock().now()
    zone = context.settings.zone
    rows: list[dict[str, Any]] = []
    refresh_ends = []
    for account_id in accounts:
        record = records.get(account_id)
        health = assess(record, now)
        refresh_ends.append(health.refresh_expires_at)
        rows.append(
            {
                "platform": platform,
                "account_id": account_id,
                "status": health.status,
                "message": health.message,
                "access_token": tail(record.access_token) if record else None,
                "expires_at": record.expires_at.isoformat() if record else None,
                "access_token_valid": health.access_valid,
                "refresh_token_age_days": (
                    round(health.refresh_age.total_seconds() / 86400, 1)
                    if health.refresh_age is not None
                    else None
                ),
                "refresh_token_expires_at": (
                    health.refresh_expires_at.isoformat() if health.refresh_expires_at else None
                ),
                # The day the login ends (the refresh token's end) and the whole days left.
                "login_ends_at": (
                    health.refresh_expires_at.isoformat() if health.refresh_expires_at else None
                ),
                "login_days_left": days_left(health.refresh_expires_at, now),
            }
        )
    needs_login = [r["account_id"] for r in rows if r["status"] == "login_required"]
    if as_json:
        typer.echo(
            json.dumps({"accounts": rows, "login_required": needs_login}, ensure_ascii=False)
        )
    else:
        table = Table(
            "account",
            "status",
            "access token",
            "valid until",
            "refresh token age",
            "refresh token ends",
            "note",
        )
        for row, account_id, refresh_end in zip(rows, accounts, refresh_ends, strict=True):
            record = records.get(account_id)
            table.add_row(
                account_id,
                row["status"],
                row["access_token"] or "-",
                local_time(record.expires_at, zone) if record else "-",
                "-"
                if row["refresh_token_age_days"] is None
                else f"{row['refresh_token_age_days']} d",
                local_time(refresh_end, zone)
                + ("" if row["login_days_left"] is None else f" ({row['login_days_left']} d left)"),
                row["message"],
            )
        console.print(table)
        for account_id in needs_login:
            err_console.print(
                f"{platform}/{account_id} needs a login: upload-scheduler token login "
                f"--platform {platform} --account {account_id}",
                markup=False,
                soft_wrap=True,
            )
    if needs_login:
        raise typer.Exit(1)


def refresh(
    ctx: typer.Context,
    platform: PlatformOpt = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account (default: all).")
    ] = None,
) -> None:
    """Refresh access tokens now (seed refresh_tokens.py). Exits 1 if any refresh fails."""
    from upload_scheduler.platforms.errors import PlatformError

    context = app_context(ctx)
    platform = _platform(context, platform)
    accounts = _accounts(context, platform, account)
    failed = 0
    zone = context.settings.zone
    with _manager(context, platform) as manager:
        for account_id in accounts:
            try:
                record = manager.refresh(account_id)
            except PlatformError as exc:
                failed += 1
                err_console.print(
                    f"{platform}/{account_id}: {exc.message}", markup=False, soft_wrap=True
                )
                continue
            manager.store.clear_auth_pause(account_id, manager.clock.now())
            console.print(
                f"{platform}/{account_id}: refreshed, valid until "
                f"{local_time(record.expires_at, zone)}"
            )
    if failed:
        raise typer.Exit(1)


def _platform(context: AppContext, given: str | None) -> str:
    """`--platform`, or by default BASE (the seed's), unless the config has no BASE
    accounts and exactly one other platform with tokens has some (a Yahoo!-only shop)."""
    if given is not None:
        return given
    with_accounts = [p for p in OAUTH_PLATFORMS if context.settings.account_ids(p)]
    if defaults.DEFAULT_PLATFORM not in with_accounts and len(with_accounts) == 1:
        return with_accounts[0]
    return defaults.DEFAULT_PLATFORM


def _accounts(context: AppContext, platform: str, account: str | None) -> list[str]:
    configured = context.settings.account_ids(platform)
    if account is not None:
        if account not in configured:
            fail(
                f"account {account!r} is not configured for platform {platform!r} "
                f"(configured: {', '.join(configured) or 'none'})"
            )
        return [account]
    if not configured:
        fail(f"no accounts are configured for platform {platform!r} under [accounts]")
    return configured


def _ebay_consent(settings: AccountSettings, account: str, no_browser: bool) -> str:
    """Show eBay's consent page and read the code off the address the browser ends on
    (eBay's RuName page is not on this machine, so no listener can receive it)."""
    from upload_scheduler.platforms.ebay import oauth as ebay_oauth
    from upload_scheduler.platforms.oauth import new_state

    problem = ebay_oauth.login_problem(settings)
    if problem:
        fail(problem)
    state = new_state()
    _show_url(ebay_oauth.authorize_url(settings, state, seller=account), no_browser)
    pasted = typer.prompt("Paste the address the browser ended on (or just the code)")
    return _code_from(pasted, state, "ebay")


def _code_from(
    pasted: str, state: str | None, platform: str, *, state_required: bool = False
) -> str:
    """The authorization code in what the user pasted: a bare code, or the address the
    browser was sent to. That address's `state` must be this login's when it has one (or
    always, `state_required`) and `state` is known (--code gives none to compare with)."""
    text = pasted.strip()
    if not text:
        fail("no code was given")
    if "?" not in text and not text.startswith(("http://", "https://")):
        return unquote(text) if "%" in text else text  # a code copied still URL-encoded
    query = parse_qs(urlsplit(text).query)
    given = query.get("state", [None if state_required else state])[0]
    if state is not None and given != state:
        fail("the pasted address carries a different state: it is not from this login")
    if query.get("error"):
        name = _NAMES.get(platform, platform)
        fail(f"{name} refused the authorization ({query['error'][0]})")
    if not query.get("code"):
        fail("the pasted address carries no code")
    return query["code"][0]


def _check_listen_host(listen: str, allow_remote: bool) -> None:
    """The listener receives an authorization code: on an address other computers reach,
    anyone on the network could race the browser for it, so that takes --allow-remote.
    Checked before the database is opened, so a refusal changes nothing."""
    from upload_scheduler.platforms.oauth import is_loopback_host

    host = listen.rpartition(":")[0].strip("[]")
    if host and not allow_remote and not is_loopback_host(host):
        fail(
            f"--listen {listen}: {host} is not a loopback address, so other computers could "
            "reach the listener; use 127.0.0.1 (or localhost), or add --allow-remote",
            code=2,
        )


def _listen_address(listen: str | None, redirect_uri: str) -> tuple[str, int] | None:
    from upload_scheduler.platforms.oauth import is_loopback_url

    if listen is None:
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or not is_loopback_url(redirect_uri):
            return None
        return parts.hostname or "127.0.0.1", parts.port or 80
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--listen takes HOST:PORT such as 127.0.0.1:8765, got {listen!r}")
    redirect = urlsplit(redirect_uri)
    if redirect.port is not None and redirect.port != int(port):
        err_console.print(
            f"warning: redirect_uri {redirect_uri} uses port {redirect.port}, but the listener "
            f"is on {port}: BASE redirects to redirect_uri",
            markup=False,
            soft_wrap=True,
        )
    return host.strip("[]"), int(port)


def _show_url(url: str, no_browser: bool) -> None:
    typer.echo("Open this URL in a browser and approve access:")
    typer.echo(url)
    sys.stdout.flush()
    if not no_browser:
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass


def _paste_code(url: str, state: str) -> str:
    """redirect_uri is not on this machine: the user pastes where the browser landed."""
    _show_url(url, no_browser=True)
    pasted = typer.prompt("Paste the address the browser was sent to (or just the code)")
    return _code_from(pasted, state, "base", state_required=True)
