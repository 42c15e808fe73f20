"""The local key file on disk: JSON, mode 0600, optionally sealed under a passphrase.

Plain layout: ``{"format", "version", "protection": "none", "keyset": {...}}``. With a passphrase
the keyset is sealed with AES-256-GCM under a Scrypt-derived key: ``"protection": "passphrase"``,
``"kdf"`` (salt and cost parameters), ``"nonce"`` and ``"ciphertext"``; the header is the AAD so
the parameters cannot be swapped. Keeping the keys outside the database, and optionally under a
passphrase, is what C4.2.2 asks of managed keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from baomi.crypto.errors import KeyFileError, KeyFileMissing

FORMAT = "baomi-keyfile"
FORMAT_VERSION = 1
# ~32 MiB and ~0.1 s per unlock: costly to brute-force, tolerable at start-up (RFC 7914 §2).
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_NONCE_BYTES = 12

Stamp = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class KeySet:
    """Master keys by version, the active version, retired versions and the index root key."""

    active: int
    # repr=False: a key set printed in a traceback or a log must not show key material.
    master: dict[int, bytes] = field(repr=False)
    index: bytes = field(repr=False)
    retired: frozenset[int] = field(default_factory=frozenset)

    def highest_version(self) -> int:
        """Return the highest version ever issued, so that a version number is never reused."""
        return max([*self.master, *self.retired, 0])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyFileError(f"key file: {what} is missing or not a string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"key file: {what} is not valid base64") from None


def _keyset_to_json(keys: KeySet) -> dict[str, Any]:
    return {
        "active": keys.active,
        "master": {str(v): _b64(k) for v, k in sorted(keys.master.items())},
        "retired": sorted(keys.retired),
        "index": _b64(keys.index),
    }


def _keyset_from_json(data: Any) -> KeySet:
    try:
        master = {int(v): _unb64(k, f"master key {v}") for v, k in data["master"].items()}
        keys = KeySet(
            active=int(data["active"]),
            master=master,
            index=_unb64(data["index"], "index key"),
            retired=frozenset(int(v) for v in data.get("retired", [])),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise KeyFileError("key file: the key set is malformed") from None
    if keys.active not in keys.master or any(len(k) != 32 for k in keys.master.values()):
        raise KeyFileError("key file: the active key is missing or a key is not 32 bytes")
    if len(keys.index) != 32:
        raise KeyFileError("key file: the index key is not 32 bytes")
    return keys


def _passphrase_key(passphrase: str, kdf: dict[str, Any]) -> bytes:
    salt = _unb64(kdf.get("salt"), "kdf salt")
    try:
        scrypt = Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"]))
    except (KeyError, TypeError, ValueError):
        raise KeyFileError("key file: the passphrase parameters are malformed") from None
    return scrypt.derive(passphrase.encode("utf-8"))


def _header_aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def encode(keys: KeySet, *, passphrase: str | None) -> bytes:
    """Serialise a key set, sealing it when a passphrase is given."""
    header: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION}
    if not passphrase:
        doc = {**header, "protection": "none", "keyset": _keyset_to_json(keys)}
        return json.dumps(doc, indent=2).encode("utf-8")
    header["protection"] = "passphrase"
    header["kdf"] = {
        "name": "scrypt",
        "salt": _b64(os.urandom(_SALT_BYTES)),
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
    }
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(_keyset_to_json(keys)).encode("utf-8")
    sealed = AESGCM(_passphrase_key(passphrase, header["kdf"])).encrypt(
        nonce, plain, _header_aad(header)
    )
    doc = {**header, "nonce": _b64(nonce), "ciphertext": _b64(sealed)}
    return json.dumps(doc, indent=2).encode("utf-8")


def decode(raw: bytes, *, passphrase: str | None) -> KeySet:
    """Parse a key file's bytes, unsealing them with the passphrase when protected."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise KeyFileError("key file: not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise KeyFileError("key file: not a baomi key file")
    if doc.get("version") != FORMAT_VERSION:
        raise KeyFileError("key file: unsupported format version")
    protection = doc.get("protection")
    if protection == "none":
        if passphrase:
            # Refuse rather than ignore: the operator believes the keys are protected and are not.
            raise KeyFileError("key file is not passphrase-protected, but a passphrase is set")
        return _keyset_from_json(doc.get("keyset"))
    if protection != "passphrase":
        raise KeyFileError("key file: unknown protection")
    if not passphrase:
        raise KeyFileError("key file is passphrase-protected: set BAOMI_KEY_PASSPHRASE")
    header = {k: doc.get(k) for k in ("format", "version", "protection", "kdf")}
    if not isinstance(header["kdf"], dict):
        raise KeyFileError("key file: the passphrase parameters are malformed")
    key = _passphrase_key(passphrase, header["kdf"])
    nonce = _unb64(doc.get("nonce"), "nonce")
    sealed = _unb64(doc.get("ciphertext"), "ciphertext")
    try:
        plain = AESGCM(key).decrypt(nonce, sealed, _header_aad(header))
    except (InvalidTag, ValueError):
        raise KeyFileError("key file: wrong passphrase, or the file is damaged") from None
    return _keyset_from_json(json.loads(plain))


def check_permissions(path: Path) -> os.stat_result:
    """Refuse a key file that group or others may read or write; return its stat."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyFileMissing(f"key file {path} does not exist: run `baomi init`") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if st.st_mode & 0o077:
        mode = stat.S_IMODE(st.st_mode)
        raise KeyFileError(f"key file {path} has mode {mode:04o}; run `chmod 600 {path}`")
    return st


def stamp_of(st: os.stat_result) -> Stamp:
    """Identify one version of the file; os.replace gives a new inode, so a rewrite changes it."""
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def read(path: Path, *, passphrase: str | None) -> tuple[KeySet, Stamp]:
    """Load the key set after checking the file's permissions."""
    st = check_permissions(path)
    return decode(path.read_bytes(), passphrase=passphrase), stamp_of(st)


def _write_fd(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create(path: Path, keys: KeySet, *, passphrase: str | None) -> Stamp:
    """Write a new key file with mode 0600; never overwrite one that exists."""
    data = encode(keys, passphrase=passphrase)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    try:
        _write_fd(fd, data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return stamp_of(path.stat())


def replace(path: Path, keys: KeySet, *, passphrase: str | None) -> Stamp:
    """Rewrite the key file atomically (temp file + os.replace), keeping mode 0600."""
    data = encode(keys, passphrase=passphrase)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write_fd(fd, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return stamp_of(path.stat())
