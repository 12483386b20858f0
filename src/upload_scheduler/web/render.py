"""What every page shares: the dashboard's state, the language, the CSRF cookie and
token, the time formats, and rendering a template with all of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from upload_scheduler import __version__
from upload_scheduler.clock import Clock
from upload_scheduler.config import Settings
from upload_scheduler.web import i18n
from upload_scheduler.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CsrfKey,
    is_read_only,
    new_cookie_value,
)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
# How often the overview refreshes itself while its tab is visible.
REFRESH_SECONDS = 5


@dataclass
class Dashboard:
    """The one object every route reads: config, database, clock and keys."""

    settings: Settings
    engine: Engine
    clock: Clock
    read_only: bool = False
    refresh_seconds: float = REFRESH_SECONDS
    csrf: CsrfKey = field(default_factory=CsrfKey)
    jinja: Environment = field(init=False)

    def __post_init__(self) -> None:
        # Autoescaping on for every template: titles and errors come from shops and APIs.
        self.jinja = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def zone_of(self, platform: str, account_id: str) -> ZoneInfo:
        """The account's time zone, or the file's for an account no longer configured."""
        try:
            return self.settings.account(platform, account_id).zone
        except KeyError:
            return self.settings.zone


def dashboard_of(request: Request) -> Dashboard:
    found: Dashboard = request.app.state.dashboard
    return found


def language_of(request: Request) -> str:
    board = dashboard_of(request)
    return i18n.choose(
        board.settings.file.dashboard.language,
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
    )


def local(moment: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime(fmt)


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """The page, with the CSRF cookie set when the browser has none yet; the token in
    every form is tied to that cookie."""
    board = dashboard_of(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    fresh = cookie is None
    if cookie is None:
        cookie = new_cookie_value()
    language = language_of(request)
    other = "ja" if language == "en" else "en"
    # The same page in the other language; an action's notice is not shown again. A
    # page answering a POST (a confirmation, a refusal) has no address of its own: its
    # link leads to the overview, or where the page says (`lang_switch_href`).
    switch = {
        k: v for k, v in request.query_params.items() if k not in ("lang", "fragment", "done", "n")
    }
    switch["lang"] = other
    if request.method == "GET":
        switch_href = "?" + urlencode(switch)
    else:
        switch_href = f"/?lang={other}"
    explicit = lang_query(request)
    values = {
        "request": request,
        "t": i18n.translator(language),
        "lang": language,
        "other_lang": other,
        "lang_switch_href": switch_href,
        # `?lang=` is carried along the navigation only when the address chose it.
        "lang_param": explicit,
        "lang_suffix": f"?{explicit}" if explicit else "",
        "read_only": is_read_only(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": board.csrf.token_for(cookie),
        "local": local,
        "version": __version__,
        "refresh_ms": int(board.refresh_seconds * 1000),
        "path": request.url.path,
        **context,
    }
    html = board.jinja.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE, cookie, httponly=True, samesite="strict", path="/", max_age=86400 * 30
        )
    return response


def lang_query(request: Request) -> str:
    """`lang=xx` to carry an explicit `?lang=` over a redirect, or ""."""
    chosen = request.query_params.get("lang")
    return f"lang={chosen}" if chosen in i18n.LANGUAGES else ""
