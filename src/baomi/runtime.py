"""Process-wide resources built once from the settings: the engine, the key provider and the
audit log's settings.

This module and the other edges (the app factory, the CLI, the job catalog) are the only places
that read the environment's settings; they hand the services what they need
(tests/test_settings_at_the_edge.py).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from baomi.config import Settings, get_settings
from baomi.db import make_engine, sqlite_file
from baomi.errors import BaomiError

if TYPE_CHECKING:
    from baomi.audit.settings import AuditSettings
    from baomi.crypto.keys import KeyProvider

__all__ = ["get_audit_settings", "get_engine", "get_key_provider", "get_settings"]


class DatabaseMissing(BaomiError):
    """The SQLite database file does not exist: only `baomi init` (or the demo) creates it."""

    status = 503
    code = "database_missing"
    title = "No database"


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Return the engine for the configured database; a SQLite file must exist already.

    Connecting would create an empty file: a read-only command (`user list`, `audit status`)
    on a wrong BAOMI_HOME then left state behind and failed further on (issue 19).
    """
    settings = get_settings()
    path = sqlite_file(settings.resolved_database_url)
    if path is not None and not path.exists():
        raise DatabaseMissing(
            f"no database at {path}: run `baomi init` first, or set BAOMI_HOME "
            f"(now {settings.home.resolve()}) to the installation's directory"
        )
    return make_engine(settings.resolved_database_url)


def create_database() -> Engine:
    """`baomi init` and `baomi demo`: create the SQLite file if it is missing, then its engine."""
    path = sqlite_file(get_settings().resolved_database_url)
    if path is not None and not path.exists():
        with closing(sqlite3.connect(path)):
            pass
    return get_engine()


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
