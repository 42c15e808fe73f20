"""Process-wide resources built once from the settings: the engine, the key provider and the
audit log's settings.

This module and the other edges (the app factory, the CLI, the job catalog) are the only places
that read the environment's settings; they hand the services what they need
(tests/test_settings_at_the_edge.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from baomi.config import Settings, get_settings
from baomi.db import make_engine

if TYPE_CHECKING:
    from baomi.audit.settings import AuditSettings
    from baomi.crypto.keys import KeyProvider

__all__ = ["get_audit_settings", "get_engine", "get_key_provider", "get_settings"]


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Return the engine for the configured database."""
    return make_engine(get_settings().resolved_database_url)


@lru_cache(maxsize=1)
def get_key_provider() -> KeyProvider:
    """Return the configured key provider (key file in BAOMI_HOME or environment)."""
    from baomi.crypto.keys import provider_from_settings

    return provider_from_settings(get_settings())


@lru_cache(maxsize=1)
def get_audit_settings() -> AuditSettings:
    """Return the audit log's settings (BAOMI_AUDIT_*) under the configured BAOMI_HOME."""
    from baomi.audit.settings import AuditSettings

    return AuditSettings(home=get_settings().home)


def mail_on() -> bool:
    """Whether this process's notices go out by mail too (BAOMI_SMTP_HOST is set)."""
    from baomi.notifications.outbox import mail_enabled

    return mail_enabled(get_settings())


def reset() -> None:
    """Forget cached resources (tests and `baomi init` change the settings underneath)."""
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_key_provider.cache_clear()
    get_audit_settings.cache_clear()


def settings() -> Settings:
    return get_settings()
