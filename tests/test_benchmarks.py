"""`make bench` runs every benchmarks/bench_*.py through its `run()`: each one must have it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted(p.stem for p in (Path(__file__).parents[1] / "benchmarks").glob("bench_*.py"))


def test_there_are_benchmarks() -> None:
    assert "bench_http" in BENCHMARKS


@pytest.mark.parametrize("name", BENCHMARKS)
def test_every_benchmark_exposes_run(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(getattr(module, "run", None)), f"benchmarks/{name}.py has no run()"
