"""Make a file or directory truly read-only for the process running the tests, root included.

Issue 18: a database that cannot be written must be caught by `baomi doctor` and answer its own
problem code. `chmod 0444` is what an operator would do, but root (the tests often run as root in
CI containers) writes through any mode: CAP_DAC_OVERRIDE. So as root the file gets the immutable
attribute (`chattr +i`, what the issue's "immutable database" is), which refuses writes to root
too; the test is skipped where the file system or the container forbids it (no
CAP_LINUX_IMMUTABLE, tmpfs). A mount option (`ro`) would do as well but needs CAP_SYS_ADMIN.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest


def _chattr(flag: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)


@contextmanager
def _one(path: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only for root")
    made = _chattr("+i", path)
    if made.returncode != 0:
        pytest.skip(f"chattr +i refused here ({made.stderr.strip()}): needs CAP_LINUX_IMMUTABLE")
    try:
        yield
    finally:
        # Always undone: pytest could not delete an immutable file from tmp_path.
        _chattr("-i", path)


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Refuse writes to each path (file or directory) for the duration, then restore it."""
    with ExitStack() as stack:
        for path in paths:
            stack.enter_context(_one(path))
        yield
