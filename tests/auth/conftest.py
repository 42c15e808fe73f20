"""Auth fixtures: a simulated clock and a count of real password verifications."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from baomi.users import service as users_service
from tests.support.clock import FakeClock, move_clock

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@dataclass
class Verifications:
    """How many argon2 password verifications ran, per simulated hour."""

    clock: FakeClock
    per_hour: Counter[int] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.per_hour.values())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Move auth's notion of now by hand (baomi.clock.utcnow)."""
    return move_clock(monkeypatch, START)


@pytest.fixture
def verifications(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Verifications:
    seen = Verifications(clock)
    real = users_service.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        seen.per_hour[clock.hour()] += 1
        return real(password_hash, password)

    monkeypatch.setattr(users_service, "verify_password", counting)
    return seen
