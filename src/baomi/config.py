"""Settings read once from the environment (BAOMI_*)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the product reads from its environment, with safe defaults."""

    model_config = SettingsConfigDict(env_prefix="BAOMI_", extra="ignore")

    home: Path = Field(default=Path(".baomi"))
    database_url: str | None = None
    # Passphrase that wraps the local key file (optional; C4.2.2 keys are kept apart from data).
    key_passphrase: str | None = None
    # "file" (key file in BAOMI_HOME) or "env" (BAOMI_MASTER_KEYS / BAOMI_INDEX_KEY).
    key_provider: str = "file"
    master_keys: str | None = None
    index_key: str | None = None
    token_ttl_minutes: int = 8 * 60
    demo: bool = False
    # C2.2: the classification levels in use, lowest first (绝密 "top_secret" is available).
    levels: str = "normal,secret,confidential"
    # Reveals allowed per user per hour (C4.3.2: bulk viewing is throttled).
    reveal_limit_per_hour: int = 120
    # OWASP ASVS V6.3 / C4.2.4: failed logins back off exponentially, then lock the account.
    login_free_failures: int = 5
    login_lockout_failures: int = 10
    login_backoff_cap_seconds: int = 900
    # A client address's failures are forgotten after this long without one.
    login_address_window_seconds: int = 3600
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file in BAOMI_HOME."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'baomi.db').resolve()}"

    @property
    def key_file(self) -> Path:
        return self.home / "master.key"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read on first use."""
    return Settings()
