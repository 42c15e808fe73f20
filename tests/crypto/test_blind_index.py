"""Blind indexes: keyed, per field, truncated to the planned bit budget (C4.2.2)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from baomi.crypto import normalize
from baomi.crypto.blind_index import BITS, DEFAULT_BITS, BlindIndexer

ROOT = os.urandom(32)
INDEXER = BlindIndexer(ROOT)
fields = st.sampled_from([*BITS, "other"])

# The smallest planned population of values per field (see the module docstring).
PLANNED_MIN_ROWS = {"name": 1e5, "phone": 1.5e5, "email": 1e5, "id_number": 5e4}


def test_bit_budgets_follow_the_coincidence_rule() -> None:
    assert set(PLANNED_MIN_ROWS) == set(BITS)
    for field, bits in BITS.items():
        assert PLANNED_MIN_ROWS[field] / 2**bits >= 2, field
        assert bits <= 31
    assert DEFAULT_BITS <= 31


def test_matches_an_independent_hkdf_hmac_computation() -> None:
    field_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"baomi:blind-index:v1:phone"
    ).derive(ROOT)
    mac = HMAC(field_key, hashes.SHA256())
    mac.update(b"+8613800138000")
    expected = int.from_bytes(mac.finalize()[:4], "big") >> (32 - BITS["phone"])
    assert INDEXER.index("phone", "+8613800138000") == expected


@given(field=fields, value=st.text(max_size=40))
def test_values_are_deterministic_and_fit_the_column(field: str, value: str) -> None:
    result = INDEXER.index(field, value)
    assert result == INDEXER.index(field, value)
    assert 0 <= result < 2 ** BITS.get(field, DEFAULT_BITS) <= 2**31 - 1


def test_fields_and_root_keys_give_independent_indexes() -> None:
    values = [f"value-{i}" for i in range(200)]
    # Truncated values collide by chance (1 in 2^15 per pair), never systematically.
    same_field_other_field = sum(
        INDEXER.index("name", v) == INDEXER.index("email", v) for v in values
    )
    other_root = BlindIndexer(os.urandom(32))
    same_other_root = sum(INDEXER.index("name", v) == other_root.index("name", v) for v in values)
    assert same_field_other_field <= 2 and same_other_root <= 2


def test_rejects_a_short_root_key_and_hides_it() -> None:
    with pytest.raises(ValueError):
        BlindIndexer(b"short")
    assert ROOT.hex() not in repr(INDEXER)


@pytest.mark.parametrize(
    ("field", "normalizer", "variants"),
    [
        (
            "phone",
            normalize.phone,
            ["13800138000", "+86 138 0013 8000", "１３８００１３８０００", "0086-138-0013-8000"],
        ),
        (
            "email",
            normalize.email,
            ["Li.Lei@Example.com", " li.lei@example.COM ", "ｌｉ.ｌｅｉ＠example.com"],
        ),
        (
            "id_number",
            normalize.id_number,
            ["11010519491231002x", "110105 19491231 002X", "１１０１０５１９４９１２３１００２Ｘ"],
        ),
        ("name", normalize.name, ["Zhang San", "zhangsan", "ＺＨＡＮＧ　ＳＡＮ", "ZhangSan"]),
        ("name", normalize.name, ["张三", "张　三", " 张三 "]),
    ],
)
def test_equal_inputs_index_equally_after_normalization(
    field: str, normalizer: Callable[[str], str], variants: list[str]
) -> None:
    assert len({INDEXER.index(field, normalizer(v)) for v in variants}) == 1
