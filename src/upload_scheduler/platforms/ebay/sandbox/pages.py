"""The sandbox's browser pages: eBay's consent page, and the accept and decline pages
that stand in for the RuName's URLs (the user copies the accept page's address, or
the code it shows, into `token login`)."""

from __future__ import annotations

from html import escape

from upload_scheduler.platforms.ebay.sandbox.options import DEFAULT_SELLER

_FORWARDED = ("client_id", "redirect_uri", "response_type", "scope", "state")


def consent_page(params: dict[str, str]) -> str:
    """Ask which seller agrees; the form comes back to /oauth2/authorize with `seller`."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in _FORWARDED
        if name in params
    )
    scopes = "".join(f"<li>{escape(s)}</li>" for s in params.get("scope", "").split())
    return (
        "<!DOCTYPE html>\n<html><head><title>eBay sandbox: grant access</title></head><body>"
        f"<h1>Grant application access</h1><p>Application {escape(params.get('client_id', ''))}"
        f" asks for:</p><ul>{scopes}</ul>"
        f'<form method="get" action="/oauth2/authorize">{hidden}'
        f'<label>Seller <input name="seller" value="{DEFAULT_SELLER}"></label> '
        '<button type="submit">I agree</button> '
        '<button type="submit" name="deny" value="1">No thanks</button>'
        "</form></body></html>\n"
    )


def accepted_page(code: str, state: str) -> str:
    """The code in plain text, as the address bar of eBay's accept URL would show it."""
    return (
        "<!DOCTYPE html>\n<html><head><title>eBay sandbox: access granted</title></head><body>"
        "<h1>Access granted</h1><p>Copy this page's address, or the code below, into "
        "<code>upload-scheduler token login</code>.</p>"
        f'<p>Authorization code:</p>\n<pre id="code">{escape(code)}</pre>\n'
        f'<p>State: <span id="state">{escape(state)}</span></p></body></html>\n'
    )


def declined_page(error: str, state: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>eBay sandbox: access declined</title></head>"
        f'<body><h1>Access declined</h1><p id="error">{escape(error)}</p>'
        f'<p>State: <span id="state">{escape(state)}</span></p></body></html>\n'
    )


NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
    "<body><h1>Not Found</h1></body></html>\n"
)
LENGTH_REQUIRED_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>411 Length Required</title></head>"
    "<body><h1>Length Required</h1></body></html>\n"
)
