"""Key check values (issue 17): one per key and name, telling nothing of the key."""

from __future__ import annotations

import os

import pytest

from baomi.crypto.errors import KeyUnavailable
from baomi.crypto.keycheck import INDEX, check_value, master_name
from baomi.crypto.keys import EnvKeyProvider, KeyProvider


def test_a_check_value_is_bound_to_its_key_and_its_name() -> None:
    key, other = os.urandom(32), os.urandom(32)
    value = check_value(key, master_name(1))
    assert len(value) == 32
    assert check_value(key, master_name(1)) == value  # deterministic: it is compared later
    assert check_value(other, master_name(1)) != value  # another key
    assert check_value(key, master_name(2)) != value  # version 1's key offered as version 2
    assert check_value(key, INDEX) != value
    assert key not in value and value != key


def test_providers_compute_a_master_check_value_without_handing_out_the_key(
    env_provider: EnvKeyProvider, env_keys: dict[int, bytes], file_provider: KeyProvider
) -> None:
    for version, key in env_keys.items():
        assert env_provider.check_value(version) == check_value(key, master_name(version))
    assert file_provider.check_value(1) == file_provider.check_value(1)
    assert file_provider.check_value(1) != env_provider.check_value(1)
    with pytest.raises(KeyUnavailable):
        env_provider.check_value(9)
