"""Patterns and value types that make the OpenAPI schema say what the domain accepts.

The patterns are read alike by JSON Schema (ECMA 262), Python's `re` (which schema-driven
test generators use) and pydantic-core's Rust engine, which enforces them: only explicit
character classes, no `\\s` (whose members differ between the three).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

# What `str.strip()` removes, less the C0 controls (below U+0020) that are refused anyway.
SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
CONTROL = r"\x00-\x1f"
# White space that is not a control character: what single-line texts may start or end with.
BLANK = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Printable text: something besides white space, and no control character anywhere: no C0
# control, DEL or C1 control, leading and trailing ones included (domain.text's rule of
# titles, authors, publishers and people's names).
PRINTABLE_TEXT = rf"^[^{CONTROL}\x7f-\x9f]*[^{CONTROL}\x7f-\x9f{BLANK}][^{CONTROL}\x7f-\x9f]*$"
# Tag names: as above, and no C1 control either (other unprintable characters, such as
# unassigned code points, are refused by the server with 422).
TAG_NAME_TEXT = (
    rf"^[{SPACE}]*[^{CONTROL}\x7f-\x9f{SPACE}]"
    rf"(?:[^{CONTROL}\x7f-\x84\x86-\x9f]*[^{CONTROL}\x7f-\x9f{SPACE}])?[{SPACE}]*$"
)
# Free text (reviews): something besides white space, and no NUL.
NON_BLANK_TEXT = rf"^[^\x00]*[^\x00{SPACE}\x1c-\x1f][^\x00]*$"
NO_NUL = r"^[^\x00]*$"
# An address whose domain is not special-use (RFC 6761: .test, .local, ...), in any case.
SPECIAL_USE_DOMAINS = (
    r"^(?!.*\.(?:[aA][rR][pP][aA]|[iI][nN][vV][aA][lL][iI][dD]|[lL][oO][cC][aA][lL]"
    r"|[lL][oO][cC][aA][lL][hH][oO][sS][tT]|[oO][nN][iI][oO][nN]|[tT][eE][sS][tT])$).*$"
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _integral(value: Any) -> Any:
    """JSON Schema counts 5.0 as an integer; so do we. Strings and booleans stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _iso_date(value: Any) -> Any:
    """Only `YYYY-MM-DD` (JSON Schema's `date`), not the numbers pydantic would take as
    Unix times."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)
    raise ValueError("A calendar date, YYYY-MM-DD.")


# A whole number in [ge, le] is `Annotated[int, Field(ge=ge, le=le, strict=True), INTEGRAL]`:
# 5.0 passes as 5, strings and booleans do not. Written out in each alias (not returned by a
# function) so that type checkers take the alias for the type it is.
INTEGRAL = BeforeValidator(_integral)

CalendarDate = Annotated[date, BeforeValidator(_iso_date)]
