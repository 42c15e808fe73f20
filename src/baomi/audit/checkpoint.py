"""Signed checkpoints in the C2SP tlog-checkpoint format, with Ed25519 note signatures.

A checkpoint is a signed note whose body is three lines: origin, tree size, base64 root hash.
The signature line is "— <name> <base64(key id || signature)>", key id being the first four bytes
of SHA-256(name || 0x0A || 0x01 || public key) (C2SP signed-note). Witness cosignatures use
type 0x04 and sign "cosignature/v1\\ntime <t>\\n" + body (C2SP tlog-cosignature).

The signing key lives outside the database (C1.3: an administrator with database access must not
be able to re-sign a rewritten log): a key file in BAOMI_HOME, mode 0600, or anything else that
implements `Signer` (a KMS).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from baomi.audit.proofcheck import Malformed, parse_checkpoint_body

ED25519, COSIGNATURE_V1 = 0x01, 0x04
DASH = "\u2014"


class CheckpointError(ValueError):
    """A checkpoint or key that cannot be trusted."""


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, alg: int, public: bytes) -> bytes:
    """Return the 4-byte C2SP key id of a note key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public note key: name, algorithm and Ed25519 key."""

    name: str
    alg: int
    public: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, _raw(self.public))

    @property
    def vkey(self) -> str:
        """Return the key as a C2SP verifier-key string: name+hexid+base64(alg || key)."""
        blob = base64.b64encode(bytes([self.alg]) + _raw(self.public)).decode()
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Read a verifier-key string."""
        try:
            name, hex_id, blob = vkey.strip().split("+", 2)
            raw = base64.b64decode(blob, validate=True)
            verifier = cls(name, raw[0], Ed25519PublicKey.from_public_bytes(raw[1:]))
        except (ValueError, IndexError) as exc:
            raise CheckpointError(f"not a verifier key: {vkey!r}") from exc
        if verifier.alg not in (ED25519, COSIGNATURE_V1) or verifier.key_id.hex() != hex_id:
            raise CheckpointError("verifier key id or algorithm does not match")
        return verifier


class Signer(Protocol):
    """Something that signs note bodies under a name: the key file here, or a KMS."""

    @property
    def verifier(self) -> Verifier: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    """An Ed25519 key held in memory (read from a key file)."""

    name: str
    private: Ed25519PrivateKey
    alg: int = ED25519

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.alg, self.private.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def skey(self) -> str:
        """Return the key as a C2SP signer-key string (PRIVATE+KEY+name+hexid+b64(alg||seed))."""
        seed = self.private.private_bytes_raw()
        blob = base64.b64encode(bytes([self.alg]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{blob}"


def parse_skey(text: str) -> Ed25519Signer:
    """Read a signer-key string."""
    try:
        p1, p2, name, hex_id, blob = text.strip().split("+", 4)
        raw = base64.b64decode(blob, validate=True)
        signer = Ed25519Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
    except ValueError as exc:
        raise CheckpointError("the key file is not a signer key") from exc
    if (p1, p2) != ("PRIVATE", "KEY") or signer.verifier.key_id.hex() != hex_id:
        raise CheckpointError("the key file's key id does not match its key")
    return signer


class MissingSigningKey(CheckpointError):
    """The log's signing key is not where it should be. It is never silently replaced: a new key
    would sign checkpoints that no verifier of the existing log trusts (issue 18)."""


def load_key(path: Path) -> Ed25519Signer:
    """Read the signing key file (owner-only); refuse, never create, when it is missing."""
    if not path.exists():
        raise MissingSigningKey(
            f"no audit log signing key at {path}: `baomi init` creates one for a new "
            "installation; an existing one restores it from the key backup"
        )
    if path.stat().st_mode & 0o077:
        raise CheckpointError(f"{path} must be readable by its owner only (chmod 600)")
    return parse_skey(path.read_text())


def create_key(path: Path, name: str | None = None, alg: int = ED25519) -> Ed25519Signer:
    """Create a new signing key file (mode 0600) and its `.vkey`; never overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Ed25519Signer(
        name or f"baomi.audit/{secrets.token_hex(6)}", Ed25519PrivateKey.generate(), alg
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer.skey() + "\n")
    path.with_suffix(".vkey").write_text(signer.verifier.vkey + "\n")
    return signer


def load_or_create_key(path: Path, name: str | None = None, alg: int = ED25519) -> Ed25519Signer:
    """Read the key file, creating it if absent: for a witness's own key and for tests, never
    for the log's key once it exists somewhere (`baomi init` creates that one)."""
    return load_key(path) if path.exists() else create_key(path, name, alg)


def body(origin: str, size: int, root: bytes) -> str:
    """Return the checkpoint note body (each line ends with a newline)."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_checkpoint(signer: Signer, size: int, root: bytes) -> str:
    """Return a checkpoint of (size, root) signed by `signer`, whose name is the log's origin."""
    text = body(signer.verifier.name, size, root)
    sig = signer.sign(text.encode())
    line = (
        f"{DASH} {signer.verifier.name} {base64.b64encode(signer.verifier.key_id + sig).decode()}"
    )
    return f"{text}\n{line}\n"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint whose log signature has been verified."""

    origin: str
    size: int
    root: bytes
    note: str

    @property
    def body(self) -> str:
        return self.note.partition("\n\n")[0] + "\n"


def signatures(note: str) -> list[tuple[str, bytes]]:
    """Return the (name, payload) of each signature line of a note."""
    _body, sep, sigs = note.partition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise CheckpointError("not a signed note")
    out = []
    for line in sigs[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, blob = rest.partition(" ")
        if dash != DASH or not name or not blob:
            raise CheckpointError("malformed signature line")
        try:
            out.append((name, base64.b64decode(blob, validate=True)))
        except ValueError as exc:
            raise CheckpointError("signature is not base64") from exc
    return out


def open_checkpoint(note: str, log: Verifier) -> Checkpoint:
    """Verify the log's signature on a checkpoint and return its contents."""
    try:
        origin, size, root = parse_checkpoint_body(note)
    except Malformed as exc:
        raise CheckpointError(str(exc)) from exc
    if origin != log.name:
        raise CheckpointError(f"checkpoint origin {origin!r} is not the log {log.name!r}")
    cp = Checkpoint(origin, size, root, note)
    for name, payload in signatures(note):
        if name == log.name and payload[:4] == log.key_id:
            try:
                log.public.verify(payload[4:], cp.body.encode())
            except InvalidSignature as exc:
                raise CheckpointError(f"bad log signature on checkpoint {size}") from exc
            return cp
    raise CheckpointError(f"checkpoint {size} carries no signature by {log.name}")


def cosign(witness: Signer, cp: Checkpoint, timestamp: int) -> str:
    """Return a witness cosignature line (tlog-cosignature v1) for a verified checkpoint."""
    message = f"cosignature/v1\ntime {timestamp}\n{cp.body}".encode()
    v = witness.verifier
    payload = v.key_id + struct.pack(">Q", timestamp) + witness.sign(message)
    return f"{DASH} {v.name} {base64.b64encode(payload).decode()}\n"


def check_cosignature(line: str, cp: Checkpoint, witness: Verifier) -> int:
    """Verify a witness cosignature line on a checkpoint; return its timestamp."""
    for name, payload in signatures("x\n\n" + line):
        if name == witness.name and payload[:4] == witness.key_id and len(payload) == 76:
            (timestamp,) = struct.unpack(">Q", payload[4:12])
            message = f"cosignature/v1\ntime {timestamp}\n{cp.body}".encode()
            try:
                witness.public.verify(payload[12:], message)
            except InvalidSignature as exc:
                raise CheckpointError("bad witness cosignature") from exc
            return int(timestamp)
    raise CheckpointError(f"no cosignature by witness {witness.name}")
