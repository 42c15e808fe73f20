"""Process-wide resources built once from the settings: the engine and the key provider."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from baomi.config import Settings, get_settings
from baomi.db import make_engine

if TYPE_CHECKING:
    from baomi.crypto.keys import KeyProvider

__all__ = ["get_engine", "get_key_provider", "get_settings"]


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Return the engine for the configured database."""
    return make_engine(get_settings().resolved_database_url)


@lru_cache(maxsize=1)
def get_key_provider() -> KeyProvider:
    """Return the configured key provider (key file in BAOMI_HOME or environment)."""
    from baomi.crypto.keys import provider_from_settings

    return provider_from_settings(get_settings())


def reset() -> None:
    """Forget cached resources (tests and `baomi init` change the settings underneath)."""
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_key_provider.cache_clear()


def settings() -> Settings:
    return get_settings()
