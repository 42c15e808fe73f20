"""The product's scheduled jobs, one registration each.

A new job is one line: `registry.every("name", timedelta(...), function)` where the function
takes `(conn, *, now)` and returns counts for the audit log. This is an edge, like the app
factory and the CLI: what a job needs from the settings (the level rules, whether mail is on) is
read here once and bound to it, so the jobs themselves never read the settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Connection

from baomi.auth import lockout
from baomi.config import Settings

# fields: the customer record's field catalog, which the level rules refer to (load_levels).
from baomi.customers import fields as _fields  # noqa: F401
from baomi.customers import periods
from baomi.customers.vault import Vault
from baomi.grants import expiry
from baomi.jobs.registry import Job, JobRegistry
from baomi.notifications import outbox
from baomi.subject_requests import reminders


def default_registry(settings: Settings, vault: Vault) -> JobRegistry:
    """Return the registry of every job the server and `baomi jobs` run; `vault` is the
    process's (its level rules and row tags for the lapse of confidentiality periods)."""
    registry = JobRegistry()
    mail = outbox.mail_enabled(settings)
    registry.every(
        expiry.REMIND_JOB, timedelta(minutes=10), partial(expiry.remind_expiring, mail=mail)
    )
    registry.every(
        expiry.EXPIRE_JOB, timedelta(minutes=5), partial(expiry.notify_expired, mail=mail)
    )
    registry.add(
        Job(
            name="mail.send",
            every=timedelta(minutes=1),
            outside_transaction=partial(outbox.send_due, settings=settings),
        )
    )
    # C2.2: a confidentiality period that has ended lowers the level as its rule says (the
    # vault's rules: a bad levels.toml stopped the vault being built, as it stops the app).
    lapse = partial(periods.lapse_confidentiality_periods, vault=vault)
    registry.every("levels.lapse", timedelta(hours=1), lapse)
    # Issue 12 item 4: overdue data-subject requests, to their handler and officer.
    registry.every(reminders.JOB, timedelta(hours=1), partial(reminders.remind_overdue, mail=mail))
    registry.every("auth.purge_throttles", timedelta(hours=1), partial(_purge, settings=settings))
    return registry


def _purge(conn: Connection, *, now: datetime, settings: Settings) -> dict[str, int]:
    policy = lockout.Policy.from_settings(settings)
    return {"deleted": lockout.purge_forgotten_addresses(conn, policy=policy, now=now)}
