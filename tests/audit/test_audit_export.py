"""Checkpoints kept outside the database are written whole, once, and never replaced (C1.3).

Issue 18: another instance once read a half-written checkpoint file, and an empty one left by a
crash stopped `serve`. A kept file now appears with its whole content or not at all.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from baomi.audit import export, runner
from baomi.audit.checkpoint import Ed25519Signer, load_or_create_key, sign_checkpoint
from baomi.audit.settings import AuditSettings


@pytest.fixture
def signer(tmp_path: Path) -> Ed25519Signer:
    return load_or_create_key(tmp_path / "keys" / "audit_log.key", "baomi.test/audit")


def _note(signer: Ed25519Signer, size: int) -> str:
    return sign_checkpoint(signer, size, bytes([size % 256]) * 32)


def test_a_checkpoint_is_kept_whole_read_only_and_without_leftovers(
    tmp_path: Path, signer: Ed25519Signer
) -> None:
    directory = tmp_path / "kept"
    export.write_checkpoint(directory, 7, _note(signer, 7))
    [kept] = list(directory.iterdir())  # no temporary file is left beside it
    assert kept.name == f"checkpoint.{7:020d}"
    assert kept.read_text(encoding="utf-8") == _note(signer, 7)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o444
    cp = export.latest(directory, signer.verifier)
    assert cp is not None and cp.size == 7


def test_the_same_checkpoint_again_is_a_no_op_and_another_is_a_fork(
    tmp_path: Path, signer: Ed25519Signer
) -> None:
    directory = tmp_path / "kept"
    note = _note(signer, 3)
    export.write_checkpoint(directory, 3, note)
    export.write_checkpoint(directory, 3, note)
    forged = sign_checkpoint(signer, 3, b"\xff" * 32)
    with pytest.raises(export.ForkDetected):
        export.write_checkpoint(directory, 3, forged)
    assert (directory / f"checkpoint.{3:020d}").read_text(encoding="utf-8") == note
    assert len(list(directory.iterdir())) == 1


def test_instances_writing_one_checkpoint_at_once_keep_one_whole_file(
    tmp_path: Path, signer: Ed25519Signer
) -> None:
    directory = tmp_path / "kept"
    note = _note(signer, 12)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            export.write_checkpoint(directory, 12, note)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    writers = [threading.Thread(target=write) for _ in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    assert [p.read_text(encoding="utf-8") for p in directory.iterdir()] == [note]


def test_the_name_appears_only_once_the_content_is_on_disk(
    tmp_path: Path, signer: Ed25519Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader (or a start after a crash) never finds the name with less than all of it."""
    directory = tmp_path / "kept"
    final = directory / f"checkpoint.{9:020d}"
    seen_at_sync: list[bool] = []
    real_fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen_at_sync.append(final.exists())
        real_fsync(fd)

    monkeypatch.setattr(export.os, "fsync", watching_fsync)
    export.write_checkpoint(directory, 9, _note(signer, 9))
    assert seen_at_sync == [False]
    assert final.read_text(encoding="utf-8") == _note(signer, 9)


def test_what_a_crash_mid_write_leaves_is_not_a_kept_checkpoint(
    tmp_path: Path, signer: Ed25519Signer
) -> None:
    directory = tmp_path / "kept"
    export.write_checkpoint(directory, 5, _note(signer, 5))
    (directory / f".checkpoint.{9:020d}.0123456789ab.tmp").write_text("baomi.test/audit\n9\n")
    cp = export.latest(directory, signer.verifier)
    assert cp is not None and cp.size == 5
    assert export.kept_sizes(directory) == {5}


def test_kept_checkpoints_are_named_so_messages_read_once(
    tmp_path: Path, signer: Ed25519Signer
) -> None:
    """Issue 19: messages said "exported checkpoint checkpoint 830"; the source is "exported"."""
    settings = AuditSettings(home=tmp_path)
    export.write_checkpoint(settings.resolved_export_dir, 7, _note(signer, 7))
    kept = runner.external_checkpoints(signer.verifier, settings)
    assert [(source, cp.size) for source, cp in kept] == [("exported", 7)]
