"""Normalization: every way of typing a value reduces to one canonical string (C4.1.1)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from baomi.crypto import normalize

FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


@given(
    suffix=st.integers(0, 99_999_999),
    prefix=st.sampled_from(["", "+86", "+86 ", "0086"]),
    separator=st.sampled_from(["", " ", "-", "　"]),
    full_width=st.booleans(),
)
def test_mobile_numbers_normalize_to_one_e164_form(
    suffix: int, prefix: str, separator: str, full_width: bool
) -> None:
    digits = f"138{suffix:08d}"
    typed = prefix + separator.join([digits[:3], digits[3:7], digits[7:]])
    if full_width:
        typed = typed.translate(FULL_WIDTH)
    assert normalize.phone(typed) == f"+86{digits}"


def test_landlines_and_other_regions() -> None:
    assert normalize.phone("010 6552 9988") == "+861065529988"
    assert normalize.phone("+1 650-253-0000") == "+16502530000"
    assert normalize.phone("(650) 253-0000", default_region="US") == "+16502530000"


@pytest.mark.parametrize("value", ["", "abc", "12", "138001380001234", "+86 100"])
def test_invalid_phone_numbers_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        normalize.phone(value)


def test_email_is_stripped_and_lower_cased() -> None:
    assert normalize.email("  Li.Lei@Example.COM\n") == "li.lei@example.com"
    assert normalize.email("ｌｉ＠ｅｘａｍｐｌｅ.com") == "li@example.com"


def test_id_number_loses_spaces_and_upper_cases_the_check_digit() -> None:
    assert normalize.id_number(" 110105 1949 1231 002x ") == "11010519491231002X"
    assert normalize.id_number("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


def test_name_folds_width_whitespace_and_case() -> None:
    assert normalize.name("ＺＨＡＮＧ　Ｓａｎ") == "zhangsan"
    assert normalize.name(" 张 三\t") == "张三"
    assert normalize.name("STRASSE") == normalize.name("straße")


@given(value=st.text(max_size=30))
@example(value="A´")  # NFKC gives "A" + space + U+0301; casefolded, NFKC composes it to "á"
@example(value="ΐ")  # upper() of U+0390 is not NFKC-stable
def test_text_normalizers_are_idempotent(value: str) -> None:
    for fn in (normalize.name, normalize.email, normalize.id_number):
        once = fn(value)
        assert fn(once) == once
