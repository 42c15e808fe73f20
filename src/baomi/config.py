"""Settings read once from the environment (BAOMI_*)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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
    # C4.2.4 (screen lock): a session untouched this long is over; ASVS V7.3.1.
    session_idle_minutes: int = 15
    # ASVS V7.3.2: however active, a session ends this long after login.
    session_absolute_minutes: int = 12 * 60
    demo: bool = False
    # C2.2: the classification levels in use, lowest first (绝密 "top_secret" is available).
    levels: str = "normal,secret,confidential"
    # Reveals allowed per user per hour (C4.3.2: bulk viewing is throttled).
    reveal_limit_per_hour: int = 120
    # 查重 lookups allowed per user per hour and per day (issue 17.4, C4.1.3): the check names
    # a customer's handler, so an unthrottled run of a phone list maps customers to people.
    check_limit_per_hour: int = Field(default=60, ge=1)
    check_limit_per_day: int = Field(default=300, ge=1)
    # C4.2.4 / C4.3.2: revealing at levels that require it needs a second factor this recent.
    step_up_window_minutes: int = 10
    # C4.3.1: a grant given outside the approval process (an emergency grant) lasts at most this.
    emergency_grant_max_hours: int = 24
    # OWASP ASVS V6.3 / C4.2.4: failed logins back off exponentially, then lock the account.
    login_free_failures: int = 5
    login_lockout_failures: int = 10
    login_backoff_cap_seconds: int = 900
    # A client address's failures are forgotten after this long without one.
    login_address_window_seconds: int = 3600
    # Issue 17.7: a login that passed every factor makes its client a known device of the
    # account for this long (a cookie, or the API's device_token); others' failures never hold
    # a known device back.
    login_device_days: int = Field(default=180, ge=1)
    # Issue 17.1: request bodies (api/intake.py). A body larger than its route takes is refused
    # (413) before it is read; a request with a file (an attachment) may be larger. A body that
    # sends nothing for body_stall_seconds, or is not complete after body_total_seconds
    # (upload_total_seconds with a file), is cut off (408).
    body_max_bytes: int = Field(default=1024 * 1024, ge=1)
    upload_max_bytes: int = Field(default=51 * 1024 * 1024, ge=1)
    body_stall_seconds: float = Field(default=10.0, gt=0)
    body_total_seconds: float = Field(default=60.0, gt=0)
    upload_total_seconds: float = Field(default=900.0, gt=0)
    # C4.2.4: the web UI locks the screen after this many seconds without input (less than
    # the server's session idle time, which ends the session itself).
    web_idle_lock_seconds: int = 5 * 60
    host: str = "127.0.0.1"
    port: int = 8000
    # Where people open the app; notification mails link here (C4.3.1).
    public_url: str = "http://127.0.0.1:8000"
    # Outgoing mail for notifications; off while no host is set. Never customer data (C4.4.2).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "baomi@localhost"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0
    # A mail that fails is retried after 1, 2, 4 … minutes (capped) and given up after this many.
    mail_max_attempts: int = 6
    mail_retry_base_seconds: int = 60
    # Scheduled jobs: how often the server's runner looks for due jobs, and how long a runner's
    # lease on a job lasts (a crashed runner's job is taken over after that). BAOMI_RUN_JOBS=false
    # leaves the jobs to cron (`baomi jobs run --once`).
    run_jobs: bool = True
    job_poll_seconds: float = 30.0
    job_lease_seconds: int = 300

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
