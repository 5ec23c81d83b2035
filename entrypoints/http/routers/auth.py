"""/api/v1/auth: accounts and sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from application.accounts.profile import ProfileChanges
from application.accounts.registration import SignUpCommand
from application.accounts.sessions import TokenPair
from entrypoints.http.conditional import IfMatch, last_modified
from entrypoints.http.deps import PrincipalDep, bearer_token, limit_per_ip
from entrypoints.http.documents import JSONDocument, user_document
from entrypoints.http.idempotency import IDEMPOTENT, IdempotentRoute
from entrypoints.http.responses import errors, link, linked
from entrypoints.http.schemas import (
    EmailIn,
    LoginIn,
    MessageOut,
    PasswordChangeIn,
    PasswordResetIn,
    ProfileIn,
    SignUpIn,
    TokenPairOut,
    UserOut,
)
from entrypoints.http.use_cases import (
    ChangePasswordDep,
    ConfirmPasswordResetDep,
    LogInDep,
    LogOutDep,
    LogOutEverywhereDep,
    RefreshSessionDep,
    RequestPasswordResetDep,
    ResendVerificationDep,
    SignUpDep,
    UpdateProfileDep,
)
from entrypoints.links import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"], route_class=IdempotentRoute)
LinkToken = Annotated[str, Path(max_length=1024)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
USER = f"{API_PREFIX}/users/{{uid}}"
ME_LINKS = {
    "GetUser": link("GET", USER, "Your account", uid="$response.body#/uid"),
    "ChangeUser": link("PATCH", USER, "Admins only", uid="$response.body#/uid"),
    "UserBooks": link("GET", f"{USER}/books", "Your books", uid="$response.body#/uid"),
    "UserReviews": link("GET", f"{USER}/reviews", "Your reviews", uid="$response.body#/uid"),
}


def token_response(pair: TokenPair, response: Response) -> TokenPairOut:
    response.headers.update(NO_STORE)
    return TokenPairOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post(
    "/signup",
    status_code=202,
    response_model=MessageOut,
    dependencies=[limit_per_ip("signup"), IDEMPOTENT],
    responses=errors(409, 422, 429),
)
async def signup(body: SignUpIn, use_case: SignUpDep) -> MessageOut:
    """Create an account. The answer is the same whether or not the email is registered:
    a new account gets a verification mail, an existing one a notice."""
    await use_case.execute(SignUpCommand(**body.model_dump()))
    return MessageOut(message="Check your inbox to finish signing up.")


@router.post(
    "/verify/resend",
    status_code=202,
    response_model=MessageOut,
    dependencies=[limit_per_ip("resend")],
    responses=errors(422, 429),
)
async def resend_verification(body: EmailIn, use_case: ResendVerificationDep) -> MessageOut:
    await use_case.execute(body.email)
    return MessageOut(message="If the account needs verifying, a new link is on its way.")


@router.post(
    "/login",
    response_model=TokenPairOut,
    dependencies=[limit_per_ip("login")],
    responses=errors(401, 403, 422, 429),
)
async def login(body: LoginIn, response: Response, use_case: LogInDep) -> TokenPairOut:
    pair = await use_case.execute(body.email, body.password)
    return token_response(pair, response)


@router.post(
    "/token",
    response_model=TokenPairOut,
    dependencies=[limit_per_ip("login")],
    responses=errors(401, 403, 422, 429),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], response: Response, use_case: LogInDep
) -> TokenPairOut:
    """OAuth2 password flow for Swagger UI and OAuth2 clients: `username` is the email."""
    pair = await use_case.execute(form.username, form.password)
    return token_response(pair, response)


@router.post("/refresh", response_model=TokenPairOut, responses=errors(401))
async def refresh(
    refresh_token: Annotated[str, Depends(bearer_token)],
    response: Response,
    use_case: RefreshSessionDep,
) -> TokenPairOut:
    """Send the refresh token as the Bearer token. Each refresh token works once."""
    pair = await use_case.execute(refresh_token)
    return token_response(pair, response)


@router.post("/logout", status_code=204, responses=errors(401))
async def logout(principal: PrincipalDep, use_case: LogOutDep) -> Response:
    await use_case.execute(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", status_code=204, responses=errors(401))
async def logout_all(principal: PrincipalDep, use_case: LogOutEverywhereDep) -> Response:
    await use_case.execute(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me",
    response_model=UserOut,
    responses={**errors(401), **linked(200, "Your account", **ME_LINKS)},
)
async def me(principal: PrincipalDep) -> JSONDocument:
    user = principal.user
    return JSONDocument(user_document(user), headers=last_modified(user.updated_at))


@router.patch("/me", response_model=UserOut, responses=errors(401, 409, 412, 422, 428))
async def update_me(
    body: ProfileIn, principal: PrincipalDep, use_case: UpdateProfileDep, expected: IfMatch
) -> JSONDocument:
    changes = ProfileChanges(**body.model_dump(exclude_none=True))
    check = None if expected is None else lambda user: expected(user_document(user))
    return JSONDocument(user_document(await use_case.execute(principal, changes, check)))


@router.post("/password-change", status_code=204, responses=errors(401, 403, 422))
async def password_change(
    body: PasswordChangeIn, principal: PrincipalDep, use_case: ChangePasswordDep
) -> Response:
    await use_case.execute(principal, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-reset-request",
    status_code=202,
    response_model=MessageOut,
    dependencies=[limit_per_ip("reset")],
    responses=errors(422, 429),
)
async def password_reset_request(body: EmailIn, use_case: RequestPasswordResetDep) -> MessageOut:
    await use_case.execute(body.email)
    return MessageOut(message="If the account exists, a reset link is on its way.")


@router.post(
    "/password-reset-confirm/{token}", response_model=MessageOut, responses=errors(400, 422)
)
async def password_reset_confirm(
    token: LinkToken, body: PasswordResetIn, use_case: ConfirmPasswordResetDep
) -> MessageOut:
    await use_case.execute(token, body.new_password)
    return MessageOut(message="Your password is changed; log in with the new one.")
