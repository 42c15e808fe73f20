"""Checkpoints kept beyond the database's reach: append-only files in a directory (C1.3).

Each signed checkpoint is written once, as `checkpoint.<size>`; a witnessed one also as
`witnessed.<size>` with the witness cosignature appended. A file appears whole (written aside,
synced, then linked to its name) and is never rewritten, so the directory (on another disk, a
share, or WORM storage) keeps every size the log ever signed: a database restored to an older
copy cannot hide behind it. The disk must support hard links (every POSIX file system does).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from baomi.audit.checkpoint import Checkpoint, CheckpointError, Verifier, open_checkpoint


class ForkDetected(RuntimeError):
    """Two different checkpoints were signed for the same size: the log was forked."""


def _write_once(path: Path, text: str) -> None:
    """Create `path` holding `text`, whole or not at all, and never replace what is there.

    The text goes to a hidden temporary file first, is synced, and is then hard-linked to its
    name: the link either appears with the whole content or fails because the name is taken, so
    no reader (another instance, `doctor`, a start after a crash) ever sees a half-written or
    empty checkpoint, and a kept file is never overwritten.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            if path.read_text(encoding="utf-8") != text:
                raise ForkDetected(f"{path} already holds a different checkpoint") from None
            return
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the new name durable: a crash after this keeps the file (POSIX fsync on the dir)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def kept_files(directory: Path) -> list[tuple[int, Path]]:
    """Return (size, path) of every kept file, checkpoints and witnessed ones, smallest first."""
    if not directory.is_dir():
        return []
    found = [
        (int(p.name.split(".")[1]), p)
        for kind in ("checkpoint", "witnessed")
        for p in directory.glob(f"{kind}.*")
    ]
    return sorted(found)
