"""Crypto failures. Messages name versions, paths and causes, never key material (C4.2.2)."""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every failure raised by `baomi.crypto`."""


class DecryptionError(CryptoError):
    """A ciphertext or wrapped key failed authentication: tampered, moved or under another key."""


class KeyUnavailable(CryptoError):
    """The requested master-key version is unknown to the provider or has been retired."""


class KeyFileError(CryptoError):
    """The key file or key configuration is missing, malformed, unsafe or locked."""


class KeyFileMissing(KeyFileError):
    """The key file is not there: never created, or deleted or moved since."""


class KeyProviderReadOnly(CryptoError):
    """The provider cannot create or erase master keys itself (rotate it where its keys live)."""
