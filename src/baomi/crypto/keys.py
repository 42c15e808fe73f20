"""Master-key providers: wrap and unwrap data keys without handing out the master keys.

The interface is wrap/unwrap rather than "give me key N" so that a KMS (for example Vault
transit) can implement it while the master keys never leave it (C4.2.2: managed keys, kept apart
from the data they protect). Versions only grow; a retired version's material is erased and
every later unwrap under it raises `KeyUnavailable`.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from baomi.config import Settings
from baomi.crypto import keycheck, keyfile
from baomi.crypto.errors import (
    DecryptionError,
    KeyFileError,
    KeyFileMissing,
    KeyProviderReadOnly,
    KeyUnavailable,
)
from baomi.crypto.keyfile import KeySet

KEY_BYTES = 32
_WRAP_FORMAT = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16


@runtime_checkable
class KeyProvider(Protocol):
    """Where master keys live; callers bind context (owner, version) through the AAD."""

    def active_version(self) -> int:
        """Return the version that wraps new data keys."""
        ...

    def versions(self) -> list[int]:
        """Return the usable (not retired) versions, ascending."""
        ...

    def wrap(self, *, version: int, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt and authenticate `plaintext` under master-key `version`."""
        ...

    def unwrap(self, *, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Reverse `wrap`: KeyUnavailable for an unknown version, DecryptionError on tamper."""
        ...

    def index_root_key(self) -> bytes:
        """Return the 32-byte root key of the blind indexes (separate from the master keys)."""
        ...

    def check_value(self, version: int) -> bytes:
        """Return master `version`'s key check value (crypto/keycheck.py), not the key itself.

        A KMS computes it where the key lives (an HMAC of a fixed label under a sub-key).
        """
        ...

    def add_version(self) -> int:
        """Create a new random master key, make it active and persist it; return its version."""
        ...

    def retire_version(self, version: int) -> None:
        """Erase the material of a version that is not active."""
        ...


def random_key() -> bytes:
    """Return 32 bytes from the OS CSPRNG."""
    return os.urandom(KEY_BYTES)


class _KeyRing:
    """AES-256-GCM wrapping shared by the local providers; one AESGCM per version, built once."""

    def __init__(self, keys: KeySet) -> None:
        self._set_keys(keys)

    def _set_keys(self, keys: KeySet) -> None:
        self._keys = keys
        self._aead = {v: AESGCM(k) for v, k in keys.master.items()}

    def _refresh(self) -> None:
        """Pick up keys written by another process; a no-op for providers that cannot change."""

    def active_version(self) -> int:
        self._refresh()
        return self._keys.active

    def versions(self) -> list[int]:
        self._refresh()
        return sorted(self._keys.master)

    def index_root_key(self) -> bytes:
        return self._keys.index

    def check_value(self, version: int) -> bytes:
        key = self._keys.master.get(version)
        if key is None:
            self._refresh()
            key = self._keys.master.get(version)
        if key is None:
            raise KeyUnavailable(f"master key version {version} is unknown or retired")
        return keycheck.check_value(key, keycheck.master_name(version))

    def _aead_for(self, version: int) -> AESGCM:
        aead = self._aead.get(version)
        if aead is None:
            # Another process (`baomi keys rotate`) may have added it since we loaded.
            self._refresh()
            aead = self._aead.get(version)
        if aead is None:
            raise KeyUnavailable(f"master key version {version} is unknown or retired")
        return aead

    def wrap(self, *, version: int, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _WRAP_FORMAT + nonce + self._aead_for(version).encrypt(nonce, plaintext, aad)

    def unwrap(self, *, version: int, wrapped: bytes, aad: bytes) -> bytes:
        aead = self._aead_for(version)
        if len(wrapped) < 1 + _NONCE_BYTES + _TAG_BYTES or wrapped[:1] != _WRAP_FORMAT:
            raise DecryptionError("wrapped key is malformed")
        try:
            return aead.decrypt(wrapped[1 : 1 + _NONCE_BYTES], wrapped[1 + _NONCE_BYTES :], aad)
        except InvalidTag:
            raise DecryptionError("wrapped key failed authentication") from None


class LocalKeyFileProvider(_KeyRing):
    """Master keys in a 0600 JSON file in BAOMI_HOME, optionally sealed under a passphrase."""

    def __init__(
        self, *, path: Path, passphrase: str | None, keys: KeySet, stamp: keyfile.Stamp
    ) -> None:
        super().__init__(keys)
        self._path = path
        self._passphrase = passphrase
        self._stamp = stamp

    @classmethod
    def create(cls, path: Path, passphrase: str | None = None) -> LocalKeyFileProvider:
        """Generate master key 1 and an index root key into a new file; never overwrite."""
        keys = KeySet(active=1, master={1: random_key()}, index=random_key())
        stamp = keyfile.create(path, keys, passphrase=passphrase)
        return cls(path=path, passphrase=passphrase, keys=keys, stamp=stamp)

    @classmethod
    def load(cls, path: Path, passphrase: str | None = None) -> LocalKeyFileProvider:
        """Open an existing key file; refuse it if group or others have any access to it."""
        keys, stamp = keyfile.read(path, passphrase=passphrase)
        return cls(path=path, passphrase=passphrase, keys=keys, stamp=stamp)

    @property
    def path(self) -> Path:
        return self._path

    def _refresh(self) -> None:
        # A stat is cheap; only a changed file is read (and, with a passphrase, re-derived).
        try:
            st = keyfile.check_permissions(self._path)
        except KeyFileMissing:
            # Issue 18: gone since start. Not tampering with stored data, and not a case for
            # `baomi init` either (it refuses to make new keys for a database that has some).
            raise KeyFileMissing(
                f"key file {self._path} was deleted or moved after this process loaded it: "
                "restore it from the key backup (the keys in memory still open stored data, "
                "but no new data key is made without the file)"
            ) from None
        if keyfile.stamp_of(st) != self._stamp:
            keys, self._stamp = keyfile.read(self._path, passphrase=self._passphrase)
            self._set_keys(keys)

    def _save(self, keys: KeySet) -> None:
        self._stamp = keyfile.replace(self._path, keys, passphrase=self._passphrase)
        self._set_keys(keys)

    def add_version(self) -> int:
        self._refresh()
        current = self._keys
        version = current.highest_version() + 1
        self._save(
            KeySet(
                active=version,
                master={**current.master, version: random_key()},
                index=current.index,
                retired=current.retired,
            )
        )
        return version

    def retire_version(self, version: int) -> None:
        self._refresh()
        current = self._keys
        if version == current.active:
            raise KeyUnavailable(f"master key version {version} is active and cannot be retired")
        if version not in current.master:
            raise KeyUnavailable(f"master key version {version} is unknown or already retired")
        self._save(
            KeySet(
                active=current.active,
                master={v: k for v, k in current.master.items() if v != version},
                index=current.index,
                retired=current.retired | {version},
            )
        )


def _decode_env_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{what} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{what} must decode to {KEY_BYTES} bytes")
    return key


def parse_master_keys(spec: str) -> dict[int, bytes]:
    """Parse "1:<base64>,2:<base64>" (the BAOMI_MASTER_KEYS format)."""
    keys: dict[int, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        version_text, sep, key_text = item.partition(":")
        if not sep or not version_text.strip().isdigit() or int(version_text) < 1:
            raise KeyFileError("BAOMI_MASTER_KEYS entries must look like <version>:<base64 key>")
        version = int(version_text)
        if version in keys:
            raise KeyFileError(f"BAOMI_MASTER_KEYS lists version {version} twice")
        keys[version] = _decode_env_key(key_text, f"BAOMI_MASTER_KEYS version {version}")
    if not keys:
        raise KeyFileError("BAOMI_MASTER_KEYS is empty")
    return keys


class EnvKeyProvider(_KeyRing):
    """Master keys from BAOMI_MASTER_KEYS (active = highest) and BAOMI_INDEX_KEY; read-only."""

    def __init__(self, *, master_keys: str | None, index_key: str | None) -> None:
        if not master_keys:
            raise KeyFileError("BAOMI_MASTER_KEYS is not set")
        if not index_key:
            raise KeyFileError("BAOMI_INDEX_KEY is not set")
        master = parse_master_keys(master_keys)
        index = _decode_env_key(index_key, "BAOMI_INDEX_KEY")
        super().__init__(KeySet(active=max(master), master=master, index=index))

    def add_version(self) -> int:
        raise KeyProviderReadOnly(
            "the env key provider is read-only: add a new version to BAOMI_MASTER_KEYS, "
            "restart, then run `baomi keys rotate` to rewrap the data keys"
        )

    def retire_version(self, version: int) -> None:
        raise KeyProviderReadOnly(
            f"the env key provider is read-only: remove version {version} from "
            "BAOMI_MASTER_KEYS once `baomi keys status` shows no data keys under it"
        )


def provider_from_settings(settings: Settings) -> KeyProvider:
    """Build the provider named by BAOMI_KEY_PROVIDER ("file" or "env")."""
    if settings.key_provider == "file":
        return LocalKeyFileProvider.load(settings.key_file, settings.key_passphrase)
    if settings.key_provider == "env":
        return EnvKeyProvider(master_keys=settings.master_keys, index_key=settings.index_key)
    raise KeyFileError(f"unknown BAOMI_KEY_PROVIDER {settings.key_provider!r}: use file or env")
