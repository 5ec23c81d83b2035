"""Reviews, tags and the book figures they move, over memory adapters."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest

from application.ports.books import BookQuery, BookSort
from domain.books import BookDetails
from domain.errors import (
    BookNotFound,
    InsufficientPermissions,
    ReviewExists,
    RuleViolation,
    TagExists,
    TagNotFound,
)
from domain.users import Role
from tests.unit.harness import principal

DETAILS = BookDetails("Dune", "Frank Herbert", "Chilton", date(1965, 8, 1), 412, "en")


@pytest.fixture
async def people(harness):
    return {
        "owner": await principal(harness, "owner@example.com", "owner"),
        "reader": await principal(harness, "reader@example.com", "reader"),
        "admin": await principal(harness, "admin@example.com", "admin", Role.ADMIN),
        "guest": await principal(harness, "guest@example.com", "guest", Role.GUEST),
    }


async def a_book(harness, who, tags=()):
    return (await harness.container.add_book().execute(who, DETAILS, tags)).book


async def test_reviews_move_the_book_figures(harness, people):
    book = await a_book(harness, people["owner"])
    review = harness.container.review_book()
    first = await review.execute(people["reader"], book.uid, 5, "Superb")
    await review.execute(people["owner"], book.uid, 2, "Mine, but meh")
    detail = await harness.container.get_book().execute(book.uid)
    assert (detail.view.review_count, detail.view.average_rating) == (2, 3.5)
    await harness.container.edit_review().execute(people["reader"], first.uid, rating=4)
    assert (await harness.container.get_book().execute(book.uid)).view.average_rating == 3.0
    await harness.container.delete_review().execute(people["admin"], first.uid)
    view = (await harness.container.get_book().execute(book.uid)).view
    assert (view.review_count, view.average_rating) == (1, 2.0)


async def test_one_review_per_user_per_book(harness, people):
    book = await a_book(harness, people["owner"])
    await harness.container.review_book().execute(people["reader"], book.uid, 3, "ok")
    with pytest.raises(ReviewExists):
        await harness.container.review_book().execute(people["reader"], book.uid, 4, "again")


@pytest.mark.parametrize("rating", [0, 6, -1, True])
async def test_ratings_are_one_to_five(harness, people, rating):
    book = await a_book(harness, people["owner"])
    with pytest.raises(RuleViolation):
        await harness.container.review_book().execute(people["reader"], book.uid, rating, "x")


async def test_only_the_author_edits_and_author_or_admin_deletes(harness, people):
    book = await a_book(harness, people["owner"])
    mine = await harness.container.review_book().execute(people["reader"], book.uid, 3, "ok")
    for who in ("owner", "admin"):
        with pytest.raises(InsufficientPermissions):
            await harness.container.edit_review().execute(people[who], mine.uid, rating=1)
    with pytest.raises(InsufficientPermissions):
        await harness.container.delete_review().execute(people["owner"], mine.uid)
    with pytest.raises(InsufficientPermissions):
        await harness.container.review_book().execute(people["guest"], book.uid, 3, "x")
    await harness.container.delete_review().execute(people["reader"], mine.uid)


async def test_deleting_a_book_takes_its_reviews_and_tag_links(harness, people):
    book = await a_book(harness, people["owner"], ["Classics"])
    await harness.container.review_book().execute(people["reader"], book.uid, 3, "ok")
    await harness.container.delete_book().execute(people["owner"], book.uid)
    assert harness.database.reviews == {} and harness.database.book_tags == {}
    assert len(harness.database.tags) == 1
    with pytest.raises(BookNotFound):
        await harness.container.review_book().execute(people["reader"], book.uid, 3, "ok")


async def test_tags_are_unique_without_regard_to_case(harness, people):
    manage = harness.container.manage_tags()
    poetry = await manage.create(people["admin"], "  Poetry  ")
    assert poetry.name == "Poetry"
    with pytest.raises(TagExists):
        await manage.create(people["admin"], "POETRY")
    other = await manage.create(people["admin"], "Prose")
    with pytest.raises(TagExists):
        await manage.rename(people["admin"], other.uid, "poetry")
    with pytest.raises(InsufficientPermissions):
        await manage.create(people["owner"], "Drama")
    with pytest.raises(TagNotFound):
        await manage.delete(people["admin"], uuid.uuid4())


async def test_attaching_makes_unknown_tags_and_twice_is_harmless(harness, people):
    book = await a_book(harness, people["owner"])
    tag = harness.container.tag_book()
    view = await tag.attach(people["owner"], book.uid, ["sci-fi", "Classics", "SCI-FI"])
    assert [t.name for t in view.tags] == ["Classics", "sci-fi"]
    view = await tag.attach(people["admin"], book.uid, ["classics"])
    assert [t.name for t in view.tags] == ["Classics", "sci-fi"]
    with pytest.raises(InsufficientPermissions):
        await tag.attach(people["reader"], book.uid, ["mine"])
    await tag.detach(people["owner"], book.uid, view.tags[0].uid)
    with pytest.raises(TagNotFound):
        await tag.detach(people["owner"], book.uid, view.tags[0].uid)


async def test_deleting_a_tag_takes_it_off_every_book(harness, people):
    book = await a_book(harness, people["owner"], ["Classics"])
    (classics,) = (await harness.container.get_book().execute(book.uid)).view.tags
    await harness.container.manage_tags().delete(people["admin"], classics.uid)
    assert (await harness.container.get_book().execute(book.uid)).view.tags == []


async def test_tag_filter_and_rating_sort_agree_with_brute_force(harness, people):
    rng = random.Random(7)
    readers = [await principal(harness, f"r{i}@example.com", f"reader{i}") for i in range(6)]
    expected = {}
    for _ in range(30):
        names = rng.sample(["a", "b", "c"], rng.randint(0, 2))
        book = await a_book(harness, people["owner"], names)
        ratings = [rng.randint(1, 5) for _ in range(rng.randint(0, 4))]
        for reader, rating in zip(readers, ratings, strict=False):
            await harness.container.review_book().execute(reader, book.uid, rating, "r")
        expected[book.uid] = sum(ratings) / len(ratings) if ratings else None
    page = await harness.container.list_books().execute(
        BookQuery(tag="B", sort=BookSort.RATING_DESC, limit=100)
    )
    get_book = harness.container.get_book().execute
    tagged = {uid for uid in expected if "b" in [t.name for t in (await get_book(uid)).view.tags]}
    rated = sorted(
        (uid for uid in tagged if expected[uid] is not None),
        key=lambda uid: (expected[uid], uid),
        reverse=True,
    )
    unrated = sorted((uid for uid in tagged if expected[uid] is None), reverse=True)
    assert [v.book.uid for v in page.items] == rated + unrated
    assert [v.average_rating for v in page.items] == [expected[u] for u in rated + unrated]
