"""Key providers: the key file's safety and the wrap/unwrap contract (C4.2.2 managed keys)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baomi.config import Settings
from baomi.crypto.errors import DecryptionError, KeyFileError, KeyProviderReadOnly, KeyUnavailable
from baomi.crypto.keys import (
    EnvKeyProvider,
    KeyProvider,
    LocalKeyFileProvider,
    provider_from_settings,
)

AAD = b"context"


def env_spec(keys: dict[int, bytes]) -> str:
    return ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in sorted(keys.items()))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_writes_a_0600_file_that_loads(file_provider: LocalKeyFileProvider) -> None:
    assert mode_of(file_provider.path) == 0o600
    assert isinstance(file_provider, KeyProvider)
    wrapped = file_provider.wrap(version=1, plaintext=b"k" * 32, aad=AAD)
    loaded = LocalKeyFileProvider.load(file_provider.path)
    assert loaded.unwrap(version=1, wrapped=wrapped, aad=AAD) == b"k" * 32
    assert loaded.index_root_key() == file_provider.index_root_key()
    assert len(loaded.index_root_key()) == 32
    assert loaded.versions() == [1]
    assert loaded.active_version() == 1


def test_create_refuses_to_overwrite(file_provider: LocalKeyFileProvider) -> None:
    before = file_provider.path.read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        LocalKeyFileProvider.create(file_provider.path)
    assert file_provider.path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_load_refuses_a_file_others_can_access(
    file_provider: LocalKeyFileProvider, mode: int
) -> None:
    os.chmod(file_provider.path, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        LocalKeyFileProvider.load(file_provider.path)


def test_load_reports_a_missing_file(key_path: Path) -> None:
    with pytest.raises(KeyFileError, match="baomi init"):
        LocalKeyFileProvider.load(key_path)


def test_passphrase_round_trip_seals_the_keys(key_path: Path) -> None:
    created = LocalKeyFileProvider.create(key_path, "correct horse battery staple")
    raw = key_path.read_bytes()
    assert base64.b64encode(created.index_root_key()) not in raw
    assert json.loads(raw)["protection"] == "passphrase"
    wrapped = created.wrap(version=1, plaintext=b"secret", aad=AAD)
    loaded = LocalKeyFileProvider.load(key_path, "correct horse battery staple")
    assert loaded.unwrap(version=1, wrapped=wrapped, aad=AAD) == b"secret"


def test_wrong_or_missing_passphrase_is_refused_without_echoing_it(key_path: Path) -> None:
    LocalKeyFileProvider.create(key_path, "right-zebra-42")
    with pytest.raises(KeyFileError, match="wrong passphrase") as error:
        LocalKeyFileProvider.load(key_path, "guess-zebra-43")
    assert "zebra" not in str(error.value)
    with pytest.raises(KeyFileError, match="BAOMI_KEY_PASSPHRASE"):
        LocalKeyFileProvider.load(key_path, None)


def test_passphrase_given_for_an_unsealed_file_is_refused(
    file_provider: LocalKeyFileProvider,
) -> None:
    with pytest.raises(KeyFileError, match="not passphrase-protected"):
        LocalKeyFileProvider.load(file_provider.path, "a passphrase")


def test_add_version_activates_a_new_key_and_keeps_the_old(
    file_provider: LocalKeyFileProvider,
) -> None:
    old = file_provider.wrap(version=1, plaintext=b"x", aad=AAD)
    assert file_provider.add_version() == 2
    assert file_provider.active_version() == 2
    assert mode_of(file_provider.path) == 0o600
    assert not list(file_provider.path.parent.glob(".*.tmp"))
    reloaded = LocalKeyFileProvider.load(file_provider.path)
    assert reloaded.versions() == [1, 2]
    assert reloaded.unwrap(version=1, wrapped=old, aad=AAD) == b"x"


def test_another_process_sees_a_new_version_without_restarting(
    file_provider: LocalKeyFileProvider,
) -> None:
    # The web server loaded the file before `baomi keys rotate` ran in another process.
    server = LocalKeyFileProvider.load(file_provider.path)
    file_provider.add_version()
    wrapped = file_provider.wrap(version=2, plaintext=b"x", aad=AAD)
    assert server.unwrap(version=2, wrapped=wrapped, aad=AAD) == b"x"
    assert server.active_version() == 2


def test_retire_erases_the_key_and_never_reuses_its_number(
    file_provider: LocalKeyFileProvider,
) -> None:
    wrapped = file_provider.wrap(version=1, plaintext=b"x", aad=AAD)
    with pytest.raises(KeyUnavailable, match="active"):
        file_provider.retire_version(1)
    file_provider.add_version()
    file_provider.retire_version(1)
    with pytest.raises(KeyUnavailable):
        file_provider.unwrap(version=1, wrapped=wrapped, aad=AAD)
    stored = json.loads(file_provider.path.read_text())["keyset"]
    assert "1" not in stored["master"]
    assert stored["retired"] == [1]
    assert mode_of(file_provider.path) == 0o600
    assert file_provider.add_version() == 3
    with pytest.raises(KeyUnavailable):
        LocalKeyFileProvider.load(file_provider.path).unwrap(version=1, wrapped=wrapped, aad=AAD)


def test_unknown_version_is_unavailable(env_provider: EnvKeyProvider) -> None:
    with pytest.raises(KeyUnavailable):
        env_provider.wrap(version=9, plaintext=b"x", aad=AAD)
    with pytest.raises(KeyUnavailable):
        env_provider.unwrap(version=9, wrapped=b"\x01" + bytes(40), aad=AAD)


@given(plaintext=st.binary(max_size=64), data=st.data())
def test_any_flipped_byte_in_a_wrapped_key_is_rejected(
    env_provider: EnvKeyProvider, plaintext: bytes, data: st.DataObject
) -> None:
    wrapped = env_provider.wrap(version=2, plaintext=plaintext, aad=AAD)
    position = data.draw(st.integers(0, len(wrapped) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(wrapped)
    tampered[position] ^= flip
    with pytest.raises(DecryptionError):
        env_provider.unwrap(version=2, wrapped=bytes(tampered), aad=AAD)


def test_wrong_aad_or_version_is_rejected(env_provider: EnvKeyProvider) -> None:
    wrapped = env_provider.wrap(version=1, plaintext=b"x", aad=AAD)
    with pytest.raises(DecryptionError):
        env_provider.unwrap(version=1, wrapped=wrapped, aad=b"other")
    with pytest.raises(DecryptionError):
        env_provider.unwrap(version=2, wrapped=wrapped, aad=AAD)


def test_env_provider_uses_the_highest_version_and_is_read_only(
    env_provider: EnvKeyProvider,
) -> None:
    assert env_provider.active_version() == 2
    assert env_provider.versions() == [1, 2]
    with pytest.raises(KeyProviderReadOnly):
        env_provider.add_version()
    with pytest.raises(KeyProviderReadOnly):
        env_provider.retire_version(1)


@pytest.mark.parametrize(
    ("master", "message"),
    [
        ("", "not set"),
        ("1", "<version>:<base64 key>"),
        ("x:AAAA", "<version>:<base64 key>"),
        (f"1:{base64.b64encode(b'short-key-material').decode()}", "32 bytes"),
        ("1:not*base64", "not valid base64"),
    ],
)
def test_env_provider_rejects_bad_keys_without_echoing_them(master: str, message: str) -> None:
    index = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(KeyFileError, match=message.replace("*", r"\*")) as error:
        EnvKeyProvider(master_keys=master, index_key=index)
    secret_part = master.partition(":")[2]
    if secret_part:
        assert secret_part not in str(error.value)


def test_env_provider_rejects_duplicate_versions() -> None:
    key = os.urandom(32)
    index = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(KeyFileError, match="twice"):
        EnvKeyProvider(master_keys=env_spec({1: key}) + "," + env_spec({1: key}), index_key=index)


def test_provider_from_settings(tmp_path: Path, env_keys: dict[int, bytes]) -> None:
    LocalKeyFileProvider.create(tmp_path / "master.key", "pass")
    from_file = provider_from_settings(
        Settings(home=tmp_path, key_provider="file", key_passphrase="pass")
    )
    assert isinstance(from_file, LocalKeyFileProvider)
    index = base64.b64encode(os.urandom(32)).decode()
    from_env = provider_from_settings(
        Settings(key_provider="env", master_keys=env_spec(env_keys), index_key=index)
    )
    assert isinstance(from_env, EnvKeyProvider)
    with pytest.raises(KeyFileError, match="unknown BAOMI_KEY_PROVIDER"):
        provider_from_settings(Settings(key_provider="vault"))
