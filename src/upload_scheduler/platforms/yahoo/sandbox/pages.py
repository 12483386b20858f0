"""The sandbox's browser pages: YConnect's consent page (its form comes back to the
authorization endpoint with the sandbox-only `user`, which agrees) and a 404."""

from __future__ import annotations

from html import escape

from upload_scheduler.platforms.yahoo.sandbox.options import DEFAULT_USER

AUTHORIZE_PATH = "/yconnect/v2/authorization"
_FORWARDED = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "bail")


def consent_page(params: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in _FORWARDED
        if name in params
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        "<title>Yahoo! JAPAN sandbox: 同意</title></head><body>"
        f"<h1>情報提供への同意</h1><p>Application {escape(params.get('client_id', ''))} asks "
        f"for: {escape(params.get('scope', ''))}</p>"
        f'<form method="get" action="{AUTHORIZE_PATH}">{hidden}'
        f'<label>Yahoo! JAPAN ID <input name="user" value="{DEFAULT_USER}"></label> '
        '<button type="submit" name="agree" value="1">同意する (agree)</button> '
        '<button type="submit" name="deny" value="1">同意しない</button>'
        "</form></body></html>\n"
    )


def error_page(status: int, text: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status}</title></head>"
        f"<body><h1>{status}</h1><p>{escape(text)}</p></body></html>\n"
    )
