"""Settings of the sealed audit log (BAOMI_AUDIT_*), beside the product's own Settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from baomi.config import get_settings


class AuditSettings(BaseSettings):
    """When to sign checkpoints, where the key is, and where checkpoints are sent."""

    model_config = SettingsConfigDict(env_prefix="BAOMI_AUDIT_", extra="ignore")

    # Defaults to the product's BAOMI_HOME; an app built with its own Settings passes its home.
    home: Path | None = None
    # A checkpoint is signed once this many events wait, or once the oldest waits this long.
    # This bounds the window in which someone holding the database file could rewrite an event
    # unseen (C1.3): about 1.25 x checkpoint_seconds while the server runs (the sealer polls at
    # a quarter of it); a graceful stop, a start after a crash and `baomi audit verify` seal
    # whatever waits. benchmarks/bench_audit_verify.py measures the sealing rate under load.
    checkpoint_events: int = 1000
    checkpoint_seconds: float = 1.0
    # Default: BAOMI_HOME/audit_log.key (0600). A KMS would implement checkpoint.Signer instead.
    key_file: Path | None = None
    # Append-only copies of every checkpoint, out of the database's reach. Default:
    # BAOMI_HOME/audit/checkpoints. Point it at another disk or a mounted share.
    export_dir: Path | None = None
    # A witness (`baomi witness serve`) and its verifier key, to check its cosignatures.
    witness_url: str | None = None
    witness_key: str | None = None

    @property
    def resolved_home(self) -> Path:
        return self.home or get_settings().home

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.resolved_home / "audit_log.key"

    @property
    def resolved_export_dir(self) -> Path:
        return self.export_dir or self.resolved_home / "audit" / "checkpoints"


@lru_cache(maxsize=1)
def get_audit_settings() -> AuditSettings:
    """Return the audit settings, read on first use."""
    return AuditSettings()
