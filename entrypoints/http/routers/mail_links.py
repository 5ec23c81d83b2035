"""The addresses Bookly's mails link to, and the forms their pages post.

Every link in a mail works when clicked: a GET answers a browser with a page (and any
other client with JSON) saying what happens next. The pages' forms post to `/account/...`
(HTML in, HTML out; not part of the JSON API and not in its schema), which run the same
use cases as the API's JSON operations, under the same per-client limits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ValidationError

from domain.errors import DomainError, ErrorKind, ServiceUnavailable
from entrypoints.http import pages
from entrypoints.http.deps import limit_per_ip
from entrypoints.http.documents import JSONDocument
from entrypoints.http.problems import STATUS_BY_KIND
from entrypoints.http.responses import errors
from entrypoints.http.schemas import EmailIn, MessageOut, PasswordResetIn
from entrypoints.http.use_cases import (
    CheckResetLinkDep,
    ConfirmPasswordResetDep,
    RequestPasswordResetDep,
    VerifyEmailDep,
)
from entrypoints.links import API_PREFIX, CONFIRM_PASSWORD_RESET, REQUEST_PASSWORD_RESET

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])
forms = APIRouter(prefix="/account", include_in_schema=False)
LinkToken = Annotated[str, Path(max_length=1024)]
OR_A_PAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON, or an HTML page for a browser (`Accept: text/html`)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


def message(text: str) -> JSONDocument:
    return JSONDocument({"message": text})


def failure_page(error: DomainError, again: str) -> Response:
    """A link that no longer works leads to asking for a new one; anything else back to
    the form `again`."""
    follow = (
        pages.link(REQUEST_PASSWORD_RESET, "Ask for a new link")
        if error.kind is ErrorKind.BAD_LINK
        else pages.link(again, "Try again")
    )
    return pages.page(
        "That did not work", pages.text(error.detail) + follow, STATUS_BY_KIND[error.kind]
    )


@router.get(
    "/verify/{token}", response_model=MessageOut, responses={**OR_A_PAGE, **errors(400, 422)}
)
async def verify_email(token: LinkToken, request: Request, use_case: VerifyEmailDep) -> Response:
    """The link of the verification mail. Verifying ends every session opened before."""
    try:
        await use_case.execute(token)
    except DomainError as error:
        if isinstance(error, ServiceUnavailable) or not pages.wants_html(request):
            raise
        return pages.page(
            "This link does not work",
            pages.text(
                error.detail,
                ("If your address is not verified yet, log in and ask for a new link."),
            ),
            STATUS_BY_KIND[error.kind],
        )
    if pages.wants_html(request):
        return pages.page(
            "Email address verified",
            pages.text(
                "Your email address is verified. Log in (again, if you were logged in) to "
                "add books and reviews."
            ),
        )
    return message("Your email address is verified.")


@router.get("/password-reset-request", response_model=MessageOut, responses=OR_A_PAGE)
async def password_reset_form(request: Request) -> Response:
    """Where the mail about a repeated sign-up points: how to get a reset link."""
    if pages.wants_html(request):
        return pages.page(
            "Reset your password",
            pages.text(
                "Enter the email address of your Bookly account; a link to choose a new "
                "password will be mailed to it."
            )
            + pages.email_form("/account/password-reset-request"),
        )
    return message('To get a link that resets your password, POST {"email": ...} to this address.')


@router.get(
    "/password-reset-confirm/{token}",
    response_model=MessageOut,
    responses={**OR_A_PAGE, **errors(400, 422)},
)
async def password_reset_page(
    token: LinkToken, request: Request, use_case: CheckResetLinkDep
) -> Response:
    """The link of the reset mail. Tells whether the link still works, and how to use it;
    the link is used only by the POST (or the page's form)."""
    try:
        await use_case.execute(token)
    except DomainError as error:
        if isinstance(error, ServiceUnavailable) or not pages.wants_html(request):
            raise
        return failure_page(error, REQUEST_PASSWORD_RESET)
    if pages.wants_html(request):
        return pages.page(
            "Choose a new password", pages.new_password_form(f"/account/password-reset/{token}")
        )
    return message(
        'This link works: POST {"new_password", "confirm_new_password"} to '
        "this address to set a new password."
    )


async def form_of(request: Request, model: type[BaseModel]) -> BaseModel | Response:
    """The form posted, read by the API's own request model; a page when it is not valid
    (naming what is wrong, never echoing what was typed)."""
    fields = {
        name: value for name, value in (await request.form()).items() if isinstance(value, str)
    }
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        return pages.page("Please check the form", pages.text(*problems), 422)


@forms.post("/password-reset-request", dependencies=[limit_per_ip("reset")])
async def password_reset_request_form(
    request: Request, use_case: RequestPasswordResetDep
) -> Response:
    body = await form_of(request, EmailIn)
    if isinstance(body, Response):
        return body
    assert isinstance(body, EmailIn)
    await use_case.execute(body.email)
    return pages.page(
        "Check your inbox",
        pages.text(
            "If an account has this address, a link to choose a new password is on its way."
        ),
    )


@forms.post("/password-reset/{token}")
async def password_reset_confirm_form(
    token: LinkToken, request: Request, use_case: ConfirmPasswordResetDep
) -> Response:
    body = await form_of(request, PasswordResetIn)
    if isinstance(body, Response):
        return body
    assert isinstance(body, PasswordResetIn)
    try:
        await use_case.execute(token, body.new_password)
    except DomainError as error:
        return failure_page(error, CONFIRM_PASSWORD_RESET.format(token=token))
    return pages.page(
        "Password changed",
        pages.text(
            "Your password is changed, and every session of your account has ended: log in "
            "with the new password."
        ),
    )
