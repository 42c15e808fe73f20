"""The real app under uvicorn in a process of its own, for what only a separate process shows:
its peak memory (/proc/PID/status VmHWM) and how it treats a connection over real HTTP.

Run as `python -m tests.support.server_process HOME DATABASE_URL KEY_FILE PORT`; the parent
(`start`) waits until it answers, `stop` ends it. BAOMI_* variables in the environment are read
as `baomi serve` reads them (the limits under test, for instance).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def status(self, field: str) -> int:
        """A memory figure of the server from /proc (VmRSS, VmHWM …), in kB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
        raise KeyError(field)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    home: Path, database_url: str, key_file: Path, env: dict[str, str] | None = None
) -> ServerProcess:
    """Start the server process and wait until it accepts connections."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "tests.support.server_process",
        str(home),
        database_url,
        str(key_file),
        str(port),
    ]
    environment = {**os.environ, **(env or {})}
    with open(home / "server.err", "wb") as err:
        process = subprocess.Popen(command, env=environment, stderr=err, cwd=ROOT)
    server = ServerProcess(process, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((home / "server.err").read_text())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.05)
    stop(server)
    raise RuntimeError("the server process did not start")


def stop(server: ServerProcess) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


def _serve(home: Path, database_url: str, key_file: Path, port: int) -> None:
    import uvicorn

    from baomi.app import create_app
    from baomi.audit.runner import create_log_key
    from baomi.audit.settings import AuditSettings
    from baomi.cli.server import freeze_startup_heap
    from baomi.config import Settings
    from baomi.crypto.keys import LocalKeyFileProvider
    from baomi.customers.vault import Vault
    from baomi.db import make_engine

    settings = Settings(home=home, database_url=database_url)
    create_log_key(AuditSettings(home=settings.home))
    engine = make_engine(database_url)
    vault = Vault.from_provider(LocalKeyFileProvider.load(key_file))
    app = create_app(settings=settings, engine=engine, vault=vault)
    freeze_startup_heap()  # as `baomi serve` does
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
