"""Cursors: positions survive the trip to a client and back, and nothing else does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.itsdangerous.cursor_signer import ItsdangerousCursorSigner
from application.paging import Cursors
from application.ports.pages import Page, PageRequest
from domain.errors import InvalidCursor

CURSORS = Cursors(ItsdangerousCursorSigner("k" * 40))
values = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.uuids(),
    st.text(max_size=60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**12), 10**12),
)


@given(st.lists(values, min_size=1, max_size=3))
def test_a_position_comes_back_as_it_went(position):
    page = CURSORS.continued(
        "books", {"sort": "title"}, Page([], 0, 20, 0, next_position=tuple(position))
    )
    filters, resumed = CURSORS.resume("books", PageRequest(5, 0, page.next_cursor), {})
    assert (filters, resumed) == ({"sort": "title"}, tuple(position))


def test_a_position_among_books_without_reviews_keeps_its_none():
    uid = uuid.uuid4()
    page = CURSORS.continued("books", {}, Page([], 0, 20, 0, next_position=(None, uid)))
    assert CURSORS.resume("books", PageRequest(cursor=page.next_cursor), {})[1] == (None, uid)


def test_the_last_page_has_no_cursor():
    assert CURSORS.continued("books", {}, Page([], 0, 20, 0)).next_cursor is None


@pytest.mark.parametrize(
    "request_",
    [PageRequest(cursor="x"), PageRequest(cursor="a" * 2000), PageRequest(cursor="e30.AAAA")],
)
def test_what_this_service_did_not_sign_is_invalid(request_):
    with pytest.raises(InvalidCursor):
        CURSORS.resume("books", request_, {})


def test_a_cursor_names_its_list_and_keeps_its_filters():
    when = datetime(2026, 1, 1, tzinfo=UTC)
    page = CURSORS.continued(
        "tags", {"q": "x"}, Page([], 0, 20, 0, next_position=(when, uuid.uuid4()))
    )
    for name, sent, offset in [("books", {}, 0), ("tags", {"q": "y"}, 0), ("tags", {}, 3)]:
        with pytest.raises(InvalidCursor):
            CURSORS.resume(name, PageRequest(20, offset, page.next_cursor), sent)
    assert CURSORS.resume("tags", PageRequest(7, 0, page.next_cursor), {"q": "x"})[0] == {"q": "x"}
