"""Refusing the most common passwords, from the frequency list zxcvbn ships."""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS


@cache
def _most_common(top_n: int) -> frozenset[str]:
    """The first `top_n` entries of zxcvbn's password list (most frequent first)."""
    return frozenset(entry.lower() for entry in FREQUENCY_LISTS["passwords"][:top_n])


class ZxcvbnCommonPasswords:
    """`CommonPasswords`: a password is common when, lower-cased, it is one of the
    `top_n` most frequent passwords. The list is built once per `top_n` and shared."""

    def __init__(self, top_n: int = 10000) -> None:
        if top_n < 0:
            raise ValueError("top_n must be >= 0")
        self._common = _most_common(top_n)

    def is_common(self, password: str) -> bool:
        return password.lower() in self._common
