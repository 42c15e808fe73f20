"""Fixtures for the crypto tests: real providers on a temporary key file or generated env keys."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from baomi.crypto.keys import EnvKeyProvider, LocalKeyFileProvider


def env_spec(keys: dict[int, bytes]) -> str:
    """Render master keys in the BAOMI_MASTER_KEYS format."""
    return ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in sorted(keys.items()))


@pytest.fixture(scope="session")
def env_keys() -> dict[int, bytes]:
    return {1: os.urandom(32), 2: os.urandom(32)}


@pytest.fixture(scope="session")
def env_provider(env_keys: dict[int, bytes]) -> EnvKeyProvider:
    """A two-version provider, session-scoped so hypothesis tests can share it."""
    index = base64.b64encode(os.urandom(32)).decode()
    return EnvKeyProvider(master_keys=env_spec(env_keys), index_key=index)


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "master.key"


@pytest.fixture
def file_provider(key_path: Path) -> LocalKeyFileProvider:
    return LocalKeyFileProvider.create(key_path)
