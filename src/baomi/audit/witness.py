"""The witness (C2SP tlog-witness): co-signs a log's checkpoints only after checking them.

A witness run by another department or machine keeps, per log, the last size it co-signed. It
co-signs a new checkpoint only if the log's signature is valid and a consistency proof from that
size holds, so the log cannot show one history to the witness and another to an inspector (C6).
State is one JSON file per log, replaced atomically.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baomi.audit import proofcheck
from baomi.audit.checkpoint import (
    COSIGNATURE_V1,
    Checkpoint,
    CheckpointError,
    Ed25519Signer,
    Verifier,
    cosign,
    load_or_create_key,
    open_checkpoint,
)


class WitnessError(Exception):
    """A refusal with the HTTP status the tlog-witness protocol gives it."""

    def __init__(self, status: int, message: str, body: str | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, body or message


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A parsed add-checkpoint request."""

    old: int
    proof: list[bytes]
    note: str


def parse_request(text: str) -> AddCheckpoint:
    """Parse "old N\\n<proof lines>\\n\\n<checkpoint>" (tlog-witness add-checkpoint)."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old ") or not lines[0][4:].isdigit():
        raise WitnessError(400, "malformed add-checkpoint request")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except ValueError as exc:
        raise WitnessError(400, "proof line is not base64") from exc
    return AddCheckpoint(int(lines[0][4:]), proof, note)


def format_request(old: int, proof: list[bytes], note: str) -> str:
    """Build an add-checkpoint request body."""
    lines = [f"old {old}", *(base64.b64encode(p).decode() for p in proof)]
    return "\n".join(lines) + "\n\n" + note


class Witness:
    """Witness state in a directory: its key, the logs it follows, what it last co-signed."""

    def __init__(self, directory: Path, logs: list[Verifier], name: str | None = None) -> None:
        self.dir = directory
        self.signer: Ed25519Signer = load_or_create_key(
            directory / "witness.key", name, alg=COSIGNATURE_V1
        )
        self.logs = {v.name: v for v in logs}
        self._lock = threading.Lock()

    @classmethod
    def existing(cls, directory: Path, logs: list[Verifier]) -> Witness:
        """Open a witness that exists; never make a new one in its place.

        A new witness knows nothing: it would co-sign an older copy of the log as readily as the
        log it replaced, so a missing witness is an error to report, not a gap to fill.
        """
        if not (directory / "witness.key").is_file():
            raise FileNotFoundError(f"no witness in {directory} (witness.key is missing)")
        return cls(directory, logs)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Several processes may hold one witness directory (a server and a CLI command on the
        # same machine): the file lock makes each check-then-save whole across them.
        with self._lock:
            fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing the file releases the lock

    def _state_path(self, origin: str) -> Path:
        return self.dir / "logs" / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".json")

    def state(self, origin: str) -> dict[str, Any] | None:
        """Return the last co-signed checkpoint of a log, as saved."""
        path = self._state_path(origin)
        return json.loads(path.read_text()) if path.exists() else None

    def _log(self, note: str) -> tuple[str, Checkpoint]:
        origin = note.split("\n", 1)[0]
        log = self.logs.get(origin)
        if log is None:
            raise WitnessError(404, f"unknown log {origin!r}")
        try:
            return origin, open_checkpoint(note, log)
        except CheckpointError as exc:
            raise WitnessError(403, str(exc)) from exc

    def _save(self, origin: str, state: dict[str, Any]) -> None:
        path = self._state_path(origin)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: a crash leaves the old state or the new, never half
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def add_checkpoint(self, request: AddCheckpoint) -> str:
        """Check and co-sign a checkpoint; return the cosignature line or raise WitnessError."""
        origin, cp = self._log(request.note)
        with self._locked():
            state = self.state(origin) or {"size": 0, "root": ""}
            size = int(state["size"])
            if request.old != size:
                raise WitnessError(409, f"witness is at size {size}", body=f"{size}\n")
            if cp.size < size:
                raise WitnessError(400, "checkpoint is smaller than the co-signed one")
            root = base64.b64decode(str(state["root"]))
            if size and cp.size == size and cp.root != root:
                raise WitnessError(409, "a different root for the co-signed size", f"{size}\n")
            if size and cp.size > size:
                try:
                    proofcheck.verify_consistency(size, cp.size, request.proof, root, cp.root)
                except proofcheck.Invalid as exc:
                    raise WitnessError(422, f"consistency proof: {exc}") from exc
            line = cosign(self.signer, cp, int(time.time()))
            self._save(origin, _advanced(state, cp, line))
            return line

    def accept_restore(self, note: str) -> dict[str, Any]:
        """Go back to an older checkpoint of a log, on the witness operator's word; return the
        record kept of it.

        The log's own acceptance (an officer's, audited in the log) cannot do this: whoever holds
        the log's database and home could forge that. The witness keeps the size it gives up as
        its high-water mark and the superseded checkpoint as evidence.
        """
        origin, cp = self._log(note)
        with self._locked():
            state = self.state(origin)
            size = int(state["size"]) if state else 0
            if state is None or cp.size >= size:
                raise WitnessError(
                    409, f"the witness is at size {size}: a restore goes back to a smaller one"
                )
            now = int(time.time())
            record: dict[str, Any] = {
                "superseded_size": size,
                "superseded_checkpoint": str(state["note"]) + str(state["cosignature"]),
                "restored_size": cp.size,
                "restored_root": base64.b64encode(cp.root).decode(),
                "accepted_at": now,
            }
            line = cosign(self.signer, cp, now)
            restores = [*state.get("restores", []), record]
            self._save(origin, {**_advanced(state, cp, line), "restores": restores})
            return record

    def restores(self, origin: str) -> list[dict[str, Any]]:
        """Return the restores of a log this witness's operator accepted, oldest first."""
        state = self.state(origin)
        return list(state.get("restores", [])) if state else []

    def latest(self, origin: str) -> str | None:
        """Return the last co-signed checkpoint with the cosignature appended."""
        state = self.state(origin)
        return None if state is None else str(state["note"]) + str(state["cosignature"])


def _advanced(state: dict[str, Any], cp: Checkpoint, line: str) -> dict[str, Any]:
    """Return the state after co-signing `cp`; the high-water mark never goes down."""
    high = max(int(state.get("high_water", 0)), int(state["size"]), cp.size)
    return {
        **state,
        "size": cp.size,
        "root": base64.b64encode(cp.root).decode(),
        "note": cp.note,
        "cosignature": line,
        "high_water": high,
    }
