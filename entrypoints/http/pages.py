"""Small HTML pages for the people who click the links in Bookly's mails.

A mail client opens a link with a plain GET in a browser: the addresses mails point at
answer a browser (one that asks for `text/html`) with a page, and every other client
with JSON. The pages' forms post to `/account/...` (see `routers/mail_links.py`), so
the JSON API keeps one media type per operation. No script, no style, no outside
resource: the service's strict Content-Security-Policy holds for them too.
"""

from __future__ import annotations

from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

from domain.users import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{title} - Bookly</title></head>
<body><main><h1>{title}</h1>
{body}
</main></body></html>
"""


def wants_html(request: Request) -> bool:
    """A browser following a link asks for text/html by name; API clients do not."""
    return "text/html" in request.headers.get("accept", "")


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """`body` is HTML already: escape what goes into it with `text`."""
    return HTMLResponse(
        _PAGE.format(title=escape(title), body=body),
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def text(*paragraphs: str) -> str:
    return "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)


def link(href: str, label: str) -> str:
    return f'<p><a href="{escape(href)}">{escape(label)}</a></p>'


def email_form(action: str) -> str:
    return (
        f'<form method="post" action="{escape(action)}">\n'
        '<p><label>Your email address <input type="email" name="email" required '
        'maxlength="254" autocomplete="email"></label></p>\n'
        '<p><button type="submit">Send me a link</button></p>\n</form>'
    )


def new_password_form(action: str) -> str:
    field = (
        '<p><label>{label} <input type="password" name="{name}" required '
        f'minlength="{PASSWORD_MIN_LENGTH}" maxlength="{PASSWORD_MAX_LENGTH}" '
        'autocomplete="new-password"></label></p>\n'
    )
    return (
        f'<form method="post" action="{escape(action)}">\n'
        + field.format(label="New password", name="new_password")
        + field.format(label="The same again", name="confirm_new_password")
        + '<p><button type="submit">Set the new password</button></p>\n</form>'
    )
