"""Customer-test fixtures: a clock the test moves by hand."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from baomi import clock as baomi_clock


@dataclass
class MovableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    """Move baomi's notion of now, also in modules that imported `utcnow` by name."""
    fake = MovableClock(datetime.now(UTC).replace(microsecond=0))
    original = baomi_clock.utcnow
    for name, module in list(sys.modules.items()):
        if name.startswith("baomi") and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", fake)
    return fake
