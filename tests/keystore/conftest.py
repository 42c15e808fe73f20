"""A real SQLite database with the whole schema, and a key file beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

import baomi.audit.models
import baomi.auth.models
import baomi.customers.models
import baomi.grants.models
import baomi.keystore.models
import baomi.users.models  # noqa: F401  (every table must be in the metadata for its FKs)
from baomi.crypto.keys import LocalKeyFileProvider
from baomi.db import make_engine, metadata


@pytest.fixture
def schema_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite file of our own: rotation mutates the provider, so no shared template."""
    engine = make_engine(f"sqlite:///{tmp_path / 'baomi.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def provider(tmp_path: Path) -> LocalKeyFileProvider:
    return LocalKeyFileProvider.create(tmp_path / "master.key")
