"""Sampling of refusals anyone can cause without an account, so they cannot flood the log.

A refused unknown token is evidence worth keeping (C1.3: someone probes), but a script can send
a million of them; each would be an audit event, sealed and kept for years. So, per source (the
client address), the first `burst` refusals in a window are recorded one by one, and the rest
only counted: the next one recorded carries how many were left out (`suppressed`), so the count
survives where the copies do not (short of a flood from more than `max_sources` addresses at
once, when the oldest windows are forgotten to bound the memory).

The state is per process: several instances each record their own first `burst`, which bounds
the log's growth by the number of instances, not by the attacker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Window:
    started: float
    recorded: int = 0
    suppressed: int = 0


class RefusalSampler:
    """Decide, per source, whether a refusal is recorded now; count the ones that are not."""

    def __init__(
        self,
        *,
        burst: int = 10,
        window_seconds: float = 60.0,
        max_sources: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.window_seconds, self.max_sources = burst, window_seconds, max_sources
        self._monotonic = monotonic
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def admit(self, source: str) -> int | None:
        """Return None to leave this refusal out, or the number left out before it to record."""
        now = self._monotonic()
        with self._lock:
            window = self._windows.get(source)
            if window is None or now - window.started >= self.window_seconds:
                carried = window.suppressed if window is not None else 0
                if window is None and len(self._windows) >= self.max_sources:
                    self._forget_old(now)
                window = self._windows[source] = _Window(started=now, suppressed=carried)
            if window.recorded >= self.burst:
                window.suppressed += 1
                return None
            window.recorded += 1
            suppressed, window.suppressed = window.suppressed, 0
            return suppressed

    def _forget_old(self, now: float) -> None:
        """Drop windows that have ended (their left-out counts with them: a bounded memory)."""
        ended = [k for k, w in self._windows.items() if now - w.started >= self.window_seconds]
        for key in ended or list(self._windows)[: self.max_sources // 10]:
            del self._windows[key]
