"""Cells of the catalogue's CSV files that a spreadsheet cannot take for formulas.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or
a carriage return before one) as a formula: a book titled `=HYPERLINK(...)` would run on
the machine of whoever opens an export. As OWASP's CSV-injection guidance advises, such a
cell is written with a leading `'`, which spreadsheets show as text. A cell that starts
with `'` followed by one of those characters or by another `'` gets one too, so reading a
file takes exactly one `'` off exactly the cells that writing gave one: every text comes
back as it was written (`'Salem's Lot` is left alone both ways).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
AFTER_QUOTE = (*FORMULA_STARTS, QUOTE)  # what a `'` that escaping added stands before


def escape_cell(text: str) -> str:
    """The cell as written to a file: with a leading `'` where a spreadsheet would run it,
    or where reading would otherwise take a `'` of its own off."""
    if text.startswith(FORMULA_STARTS) or looks_escaped(text):
        return QUOTE + text
    return text


def unescape_cell(text: str) -> str:
    """The cell as read from a file: the `'` that `escape_cell` added, taken off."""
    return text[1:] if looks_escaped(text) else text


def looks_escaped(text: str) -> bool:
    return text[:1] == QUOTE and text[1:2] in AFTER_QUOTE
