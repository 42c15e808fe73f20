"""New passwords (ASVS V6.2): at least 12 characters, not a common password, zxcvbn score ≥ 3."""

from __future__ import annotations

import pytest

from baomi.users.passwords import password_problem


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pw", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "too repetitive"),
        ("password1234", "commonly used"),
        ("qwertyuiop123", "commonly used"),
        ("1234567890123", "too easy to guess"),
        ("zhangsan2026", "too easy to guess"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, why: str) -> None:
    problem = password_problem(password, ["zhangsan", "张三"])
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "password", ["baomi-test-2026-pw", "correct-horse-2026", "紫禁城-夜雨-茶馆-2026"]
)
def test_strong_passwords_pass(password: str) -> None:
    assert password_problem(password) is None
