"""Demo identifiers pass the same check-digit rules the customer service enforces (C4.1.1)."""

from __future__ import annotations

import random

from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from baomi.crypto import normalize
from baomi.demo import identifiers


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=2**32))
def test_generated_identifiers_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    person = identifiers.resident_id(rng)
    assert ric.validate(person) == person
    company = identifiers.credit_code(rng)
    assert uscc.validate(company) == company
    card = identifiers.bank_card(rng)
    assert luhn.is_valid(card) and card.startswith("62") and len(card) in (16, 19)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digits_agree_with_stdnum(first17: str) -> None:
    assert identifiers.ric_check_digit(first17) == ric.calc_check_digit(first17 + "0")
    assert identifiers.uscc_check_char(first17) == uscc.calc_check_digit(first17)
    assert luhn.is_valid(first17 + identifiers.luhn_digit(first17))


def test_mobile_numbers_are_valid_and_distinct() -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    taken = {normalize.phone("13912345678")}
    drawn = [identifiers.mobile(fake, taken) for _ in range(300)]
    canonical = [normalize.phone(p) for p in drawn]
    assert len(set(canonical)) == 300
    assert "+8613912345678" not in canonical
