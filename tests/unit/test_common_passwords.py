from __future__ import annotations

import pytest

from adapters.zxcvbn.common_passwords import ZxcvbnCommonPasswords


@pytest.fixture(scope="module")
def common() -> ZxcvbnCommonPasswords:
    return ZxcvbnCommonPasswords()


@pytest.mark.parametrize("password", ["password", "12345678", "qwertyuiop", "iloveyou"])
def test_common_passwords_are_refused(common: ZxcvbnCommonPasswords, password: str) -> None:
    assert common.is_common(password)


@pytest.mark.parametrize("password", ["PASSWORD", "PassWord", "QwertyUIOP"])
def test_case_does_not_matter(common: ZxcvbnCommonPasswords, password: str) -> None:
    assert common.is_common(password)


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "vL9#q2!xTz", " password", "password "]
)
def test_uncommon_passwords_pass(common: ZxcvbnCommonPasswords, password: str) -> None:
    assert not common.is_common(password)


def test_top_n_bounds_the_list() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    rare = FREQUENCY_LISTS["passwords"][20000]
    assert ZxcvbnCommonPasswords(top_n=30000).is_common(rare)
    assert not ZxcvbnCommonPasswords(top_n=10000).is_common(rare)
    assert not ZxcvbnCommonPasswords(top_n=0).is_common("password")


def test_the_list_is_loaded_once() -> None:
    assert ZxcvbnCommonPasswords()._common is ZxcvbnCommonPasswords()._common  # type: ignore[attr-defined]
