"""Settings of the sealed audit log (BAOMI_AUDIT_*), beside the product's own Settings.

Built at the edge (the app factory, the CLI: runtime.get_audit_settings) under the product's
BAOMI_HOME and handed to the sealer and the verifier; the audit room never reads the product's
settings itself.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    """When to sign checkpoints, where the key is, and where checkpoints are sent."""

    model_config = SettingsConfigDict(env_prefix="BAOMI_AUDIT_", extra="ignore")

    # The product's BAOMI_HOME, given by whoever builds these settings.
    home: Path
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
    # A witness on this machine, run inside each baomi process: its key and state live in this
    # directory, which must be outside BAOMI_HOME and the export directory (an older copy of the
    # home must not take the witness back with it). Ignored when witness_url is set.
    witness_dir: Path | None = None

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "audit_log.key"

    @property
    def resolved_export_dir(self) -> Path:
        return self.export_dir or self.home / "audit" / "checkpoints"

    @property
    def demo_witness_dir(self) -> Path:
        """Where `baomi demo` keeps its local witness: beside BAOMI_HOME, never inside it."""
        home = self.home.resolve()
        return home.parent / f"{home.name}-witness"

    @property
    def resolved_witness_dir(self) -> Path | None:
        """The local witness's directory: BAOMI_AUDIT_WITNESS_DIR, else the demo's if it exists.

        The demo's is found by its pinned log key, so every command on the demo's home uses the
        witness the demo made, while a witness served from a neighbouring directory is not taken
        for it.
        """
        if self.witness_url:
            return None
        if self.witness_dir is not None:
            return self.witness_dir
        demo = self.demo_witness_dir
        return demo if (demo / "log.vkey").is_file() else None

    @property
    def witness_configured(self) -> bool:
        return bool(self.witness_url) or self.resolved_witness_dir is not None
