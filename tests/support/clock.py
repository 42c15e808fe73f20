"""The one way tests move time: replace `baomi.clock.utcnow`, which every module calls by that
path (`from baomi import clock; clock.utcnow()`, checked by tests/test_one_clock.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from baomi import clock as baomi_clock


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        self.now += timedelta(seconds=seconds, **delta)
        return self.now

    def hour(self) -> int:
        """Whole simulated hours since the start."""
        return int((self.now - self.start).total_seconds() // 3600)


def move_clock(monkeypatch: pytest.MonkeyPatch, start: datetime) -> FakeClock:
    """Make `baomi.clock.utcnow` answer what the returned clock says, for this test."""
    fake = FakeClock(start)
    monkeypatch.setattr(baomi_clock, "utcnow", fake)
    return fake
