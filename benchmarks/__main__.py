"""`make bench`: run every benchmark; each prints its figure beside its floor and the ratio."""

from __future__ import annotations

import importlib
import pkgutil

import benchmarks


def main() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)):
        if module.startswith("bench_"):
            print(f"== {module}")
            importlib.import_module(f"benchmarks.{module}").run()


if __name__ == "__main__":
    main()
