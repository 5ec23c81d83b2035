"""The use cases routes declare in their signatures: `use_case: GetBookDep` is a
`GetBook`, resolved per request from the app's container (`deps.Use`)."""

from __future__ import annotations

from typing import Annotated

from application.accounts.login import LogIn
from application.accounts.passwords import (
    ChangePassword,
    CheckResetLink,
    ConfirmPasswordReset,
    RequestPasswordReset,
)
from application.accounts.profile import UpdateProfile
from application.accounts.registration import ResendVerification, SignUp, VerifyEmail
from application.accounts.sessions import LogOut, LogOutEverywhere, RefreshSession
from application.books.catalogue import (
    AddBook,
    DeleteBook,
    GetBook,
    ListBooks,
    ListUserBooks,
    UpdateBook,
)
from application.books.reviews import DeleteReview, EditReview, GetReview, ListReviews, ReviewBook
from application.books.tags import ManageTags, TagBook
from application.users.administration import ChangeUser, GetUser, ListUsers
from entrypoints.container import Container
from entrypoints.http.deps import Use

AddBookDep = Annotated[AddBook, Use(Container.add_book)]
ChangePasswordDep = Annotated[ChangePassword, Use(Container.change_password)]
ChangeUserDep = Annotated[ChangeUser, Use(Container.change_user)]
CheckResetLinkDep = Annotated[CheckResetLink, Use(Container.check_reset_link)]
ConfirmPasswordResetDep = Annotated[ConfirmPasswordReset, Use(Container.confirm_password_reset)]
DeleteBookDep = Annotated[DeleteBook, Use(Container.delete_book)]
DeleteReviewDep = Annotated[DeleteReview, Use(Container.delete_review)]
EditReviewDep = Annotated[EditReview, Use(Container.edit_review)]
GetBookDep = Annotated[GetBook, Use(Container.get_book)]
GetReviewDep = Annotated[GetReview, Use(Container.get_review)]
GetUserDep = Annotated[GetUser, Use(Container.get_user)]
ListBooksDep = Annotated[ListBooks, Use(Container.list_books)]
ListReviewsDep = Annotated[ListReviews, Use(Container.list_reviews)]
ListUserBooksDep = Annotated[ListUserBooks, Use(Container.list_user_books)]
ListUsersDep = Annotated[ListUsers, Use(Container.list_users)]
LogInDep = Annotated[LogIn, Use(Container.log_in)]
LogOutDep = Annotated[LogOut, Use(Container.log_out)]
LogOutEverywhereDep = Annotated[LogOutEverywhere, Use(Container.log_out_everywhere)]
ManageTagsDep = Annotated[ManageTags, Use(Container.manage_tags)]
RefreshSessionDep = Annotated[RefreshSession, Use(Container.refresh_session)]
RequestPasswordResetDep = Annotated[RequestPasswordReset, Use(Container.request_password_reset)]
ResendVerificationDep = Annotated[ResendVerification, Use(Container.resend_verification)]
ReviewBookDep = Annotated[ReviewBook, Use(Container.review_book)]
SignUpDep = Annotated[SignUp, Use(Container.sign_up)]
TagBookDep = Annotated[TagBook, Use(Container.tag_book)]
UpdateBookDep = Annotated[UpdateBook, Use(Container.update_book)]
UpdateProfileDep = Annotated[UpdateProfile, Use(Container.update_profile)]
VerifyEmailDep = Annotated[VerifyEmail, Use(Container.verify_email)]
