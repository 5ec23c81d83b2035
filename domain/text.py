"""The rule of single-line text fields: book titles, authors, publishers, people's names."""

from __future__ import annotations

import re
import unicodedata

from domain.errors import RuleViolation

# C0 controls, DEL and C1 controls. They are refused wherever they stand, not trimmed:
# a field that arrived as "\t=x" and was kept as "=x" would turn into a formula when an
# operator's CSV export is opened in a spreadsheet (and trimming hides that it happened).
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def check_single_line(field: str, raw: str, max_length: int) -> str:
    """NFC, trimmed of white space, 1 to `max_length` characters, no control character."""
    text = unicodedata.normalize("NFC", raw).strip()
    if not text or len(text) > max_length or CONTROL_CHARACTERS.search(raw):
        raise RuleViolation(field, f"1 to {max_length} printable characters.")
    return text
