"""CSV cells a spreadsheet would run as formulas get a leading `'`; reading takes it off."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from entrypoints.cli.csv_cells import escape_cell, unescape_cell

STARTS = "=+-@\t\r'"
cells = st.text(st.one_of(st.sampled_from(STARTS), st.characters(codec="utf-8")), max_size=8)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("'=x", "''=x"),
        ("''", "'''"),
        ("'\t", "''\t"),
        ("'Salem's Lot", "'Salem's Lot"),
        ("'", "'"),
        ("Dune", "Dune"),
        ("", ""),
        ("a=b", "a=b"),
        (" =x", " =x"),
    ],
)
def test_formula_cells_are_written_as_text(text, written):
    assert escape_cell(text) == written
    assert unescape_cell(written) == text


def test_reading_takes_one_quote_off_only_where_writing_adds_one():
    assert unescape_cell("'=x") == "=x"
    assert unescape_cell("''=x") == "'=x"
    assert unescape_cell("'Salem's Lot") == "'Salem's Lot"
    assert unescape_cell("'x") == "'x"


@settings(max_examples=500, deadline=None, database=None)
@given(cells)
@example("'")
@example("''")
def test_every_text_comes_back_as_it_was_written(text):
    written = escape_cell(text)
    assert unescape_cell(written) == text
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
