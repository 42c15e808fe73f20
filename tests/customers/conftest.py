"""Customer-test fixtures: a clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.clock import FakeClock, move_clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Move baomi's notion of now by hand, from the present."""
    return move_clock(monkeypatch, datetime.now(UTC).replace(microsecond=0))
