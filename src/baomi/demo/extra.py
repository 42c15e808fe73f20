"""The demo's optional dependency: faker invents the demo company's customers (`baomi[demo]`).

A production install needs no fake-data generator, so faker is an extra. Without it, `baomi demo`
answers with how to install it (a user error, exit code 1) rather than a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from baomi.errors import BaomiError

if TYPE_CHECKING:
    from faker import Faker

INSTALL = (
    "the demo company is invented with faker, an optional package that is not installed: "
    "install the demo extra with `uv sync --extra demo` (or `pip install 'baomi[demo]'`), "
    "or start the demo with `make run`, which does"
)


class DemoExtraMissing(BaomiError):
    status = 500
    code = "demo_extra_missing"
    title = "The demo extra is not installed"


def _faker() -> ModuleType:
    try:
        return importlib.import_module("faker")
    except ImportError:
        raise DemoExtraMissing(INSTALL) from None


def require_faker() -> None:
    """Refuse, saying how to install it, when faker is not installed."""
    _faker()


def faker_for(locale: str) -> Faker:
    """A Faker for `locale`, or DemoExtraMissing."""
    fake: Faker = _faker().Faker(locale)
    return fake
