"""The log's side of its witness: which one is configured, how to reach it, what it holds.

Two kinds, one interface: a witness served over HTTP by another machine or account
(BAOMI_AUDIT_WITNESS_URL, `baomi witness serve`), or a local witness whose directory lies outside
BAOMI_HOME and the database (BAOMI_AUDIT_WITNESS_DIR, or the one `baomi demo` makes beside its
home), run inside each baomi process. Either way the witness's state is out of reach of whoever
holds only the database and BAOMI_HOME, so an older copy of both is caught (issue 17.6).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from baomi.audit.checkpoint import Checkpoint, Verifier, check_cosignature, open_checkpoint
from baomi.audit.settings import AuditSettings
from baomi.audit.witness import Witness, WitnessError, parse_request

TIMEOUT = 10.0
PINNED_LOG_KEY = "log.vkey"


class WitnessUnavailable(OSError):
    """The configured witness cannot be asked: unreachable, or its directory is gone."""


class WitnessClient(Protocol):
    """What the log asks of its witness."""

    where: str
    key: Verifier | None

    def post(self, body: str) -> tuple[int, str]: ...

    def latest(self, origin: str) -> str | None: ...

    def restores(self, origin: str) -> list[dict[str, Any]]: ...


class HttpWitness:
    """A witness served over HTTP (tlog-witness add-checkpoint; GET /checkpoint, /restores)."""

    def __init__(self, url: str, key: Verifier | None) -> None:
        self.url, self.key = url.rstrip("/"), key
        self.where = url

    def post(self, body: str) -> tuple[int, str]:
        req = urllib.request.Request(  # noqa: S310 - the configured witness URL
            self.url + "/add-checkpoint", data=body.encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
                return int(resp.status), resp.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode()
        except OSError as exc:
            raise WitnessUnavailable(f"cannot reach the witness at {self.url}: {exc}") from exc

    def _get(self, path: str, origin: str) -> str | None:
        query = urllib.parse.urlencode({"origin": origin})
        try:
            with urllib.request.urlopen(  # noqa: S310 - the configured witness URL
                f"{self.url}/{path}?{query}", timeout=TIMEOUT
            ) as resp:
                return str(resp.read().decode())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise WitnessUnavailable(f"the witness at {self.url} answered {exc.code}") from exc
        except OSError as exc:
            raise WitnessUnavailable(f"cannot reach the witness at {self.url}: {exc}") from exc

    def latest(self, origin: str) -> str | None:
        return self._get("checkpoint", origin)

    def restores(self, origin: str) -> list[dict[str, Any]]:
        # A witness from before accepted restores has no such route: it accepted none.
        text = self._get("restores", origin)
        return list(json.loads(text)) if text else []


class LocalWitness:
    """A witness in a directory on this machine, run in this process."""

    def __init__(self, witness: Witness) -> None:
        self.witness = witness
        self.key: Verifier | None = witness.signer.verifier
        self.where = f"local witness in {witness.dir}"

    def post(self, body: str) -> tuple[int, str]:
        try:
            return 200, self.witness.add_checkpoint(parse_request(body))
        except WitnessError as exc:
            return exc.status, exc.body

    def latest(self, origin: str) -> str | None:
        return self.witness.latest(origin)

    def restores(self, origin: str) -> list[dict[str, Any]]:
        return self.witness.restores(origin)


def _outside(directory: Path, settings: AuditSettings) -> None:
    """Refuse a local witness inside BAOMI_HOME or the export directory."""
    where = directory.resolve()
    for name, inside in (
        ("BAOMI_HOME", settings.home),
        ("the export directory", settings.resolved_export_dir),
    ):
        if where.is_relative_to(inside.resolve()):
            raise WitnessUnavailable(
                f"the witness directory {directory} is inside {name}: an older copy of it would "
                "take the witness back too; put it outside (BAOMI_AUDIT_WITNESS_DIR)"
            )


def open_local(directory: Path, log_key: Verifier, settings: AuditSettings) -> LocalWitness:
    """Open the local witness, which follows only the log key pinned in it when it was made."""
    _outside(directory, settings)
    if not (directory / "witness.key").is_file():
        raise WitnessUnavailable(
            f"no witness in {directory}: `baomi init` (or `baomi demo`) makes it for a log never "
            "witnessed; a log already witnessed needs its witness back"
        )
    if not (directory / PINNED_LOG_KEY).is_file():
        raise WitnessUnavailable(
            f"the witness in {directory} pins no log (is it one `baomi witness serve` runs?): "
            "reach that one by BAOMI_AUDIT_WITNESS_URL"
        )
    pinned = Verifier.parse((directory / PINNED_LOG_KEY).read_text())
    witness = Witness.existing(directory, [pinned])
    if pinned.vkey != log_key.vkey:
        raise WitnessUnavailable(
            f"the witness in {directory} follows the log {pinned.name}, not {log_key.name}: "
            "the log's key was replaced"
        )
    return LocalWitness(witness)


def create_local(directory: Path, log_key: Verifier, settings: AuditSettings) -> LocalWitness:
    """Make a local witness following this log (its key, 0600, and the pinned log key)."""
    _outside(directory, settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    witness = Witness(directory, [log_key], f"witness.local/{directory.resolve().name}")
    (directory / PINNED_LOG_KEY).write_text(log_key.vkey + "\n")
    return LocalWitness(witness)


def client(settings: AuditSettings, log_key: Verifier) -> WitnessClient | None:
    """Return the configured witness, or None when the log has none."""
    if settings.witness_url:
        key = Verifier.parse(settings.witness_key) if settings.witness_key else None
        return HttpWitness(settings.witness_url, key)
    directory = settings.resolved_witness_dir
    return None if directory is None else open_local(directory, log_key, settings)


def latest_checkpoint(witness: WitnessClient, log_key: Verifier) -> Checkpoint | None:
    """Return the witness's last co-signed checkpoint of the log, both signatures checked."""
    text = witness.latest(log_key.name)
    if text is None:
        return None
    cp = open_checkpoint(text, log_key)
    if witness.key is not None:
        check_cosignature(text.partition("\n\n")[2], cp, witness.key)
    return cp
