"""Checkpoints kept beyond the database's reach: append-only files in a directory (C1.3).

Each signed checkpoint is written once, as `checkpoint.<size>`; a witnessed one also as
`witnessed.<size>` with the witness cosignature appended. A file is created exclusively and never
rewritten, so the directory (on another disk, a share, or WORM storage) keeps every size the log
ever signed: a database restored to an older copy cannot hide behind it.
"""

from __future__ import annotations

import os
from pathlib import Path

from baomi.audit.checkpoint import Checkpoint, CheckpointError, Verifier, open_checkpoint


class ForkDetected(RuntimeError):
    """Two different checkpoints were signed for the same size: the log was forked."""


def _write_once(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        if path.read_text() != text:
            raise ForkDetected(f"{path} already holds a different checkpoint") from None
        return
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def write_checkpoint(directory: Path, size: int, note: str) -> None:
    """Keep a signed checkpoint, once."""
    _write_once(directory / f"checkpoint.{size:020d}", note)


def write_witnessed(directory: Path, size: int, note: str, cosignature: str) -> None:
    """Keep a checkpoint with a witness cosignature appended to its signatures."""
    _write_once(directory / f"witnessed.{size:020d}", note + cosignature)


def latest(directory: Path, log: Verifier, kind: str = "checkpoint") -> Checkpoint | None:
    """Return the largest kept checkpoint of `kind` ("checkpoint" or "witnessed"), verified."""
    if not directory.is_dir():
        return None
    names = sorted(p.name for p in directory.glob(f"{kind}.*"))
    if not names:
        return None
    try:
        return open_checkpoint((directory / names[-1]).read_text(), log)
    except CheckpointError as exc:
        raise CheckpointError(f"{directory / names[-1]}: {exc}") from exc


def kept_sizes(directory: Path) -> set[int]:
    """Return the sizes already kept as checkpoint files."""
    if not directory.is_dir():
        return set()
    return {int(p.name.split(".")[1]) for p in directory.glob("checkpoint.*")}
