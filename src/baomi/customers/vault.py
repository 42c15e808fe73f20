"""How customer fields become ciphertext and blind-index entries.

Values are serialised as compact UTF-8 JSON, then sealed with the customer's own data key
(AES-256-GCM; AAD binds table, field, record and data-key id: see crypto/envelope.py). Opening
them again is customers/decrypt.py, which only the customers room may import; the `Vault` here
is what the app hands to the door: the key provider and the blind indexer, and the door's
configuration (the company's level rules, C2.2, and the limits on revealing, C4.3.2 / C4.2.4).
It is built once per process from the settings (`Vault.from_settings`), so the door itself never
reads them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from baomi.config import Settings
from baomi.consent.purposes import DEFAULT_PURPOSES, PurposeCatalog, load_purposes
from baomi.crypto import normalize
from baomi.crypto.blind_index import BlindIndexer
from baomi.crypto.envelope import FieldCipher
from baomi.crypto.keys import KeyProvider
from baomi.crypto.row_tags import RowTagger
from baomi.customers.decrypt import TABLE, open_fields
from baomi.customers.fields import FIELDS
from baomi.customers.models import customer_index, customers
from baomi.notifications.outbox import mail_enabled
from baomi.security.level_file import load_levels
from baomi.security.levels import Levels, build_levels

__all__ = [
    "TABLE",
    "RevealLimits",
    "Vault",
    "index_rows",
    "index_terms",
    "normalized_for",
    "reindex",
    "seal",
]


# The settings' own defaults, never the environment: what a vault built without settings uses.
_DEFAULTS = Settings.model_construct()


@dataclass(frozen=True, slots=True)
class RevealLimits:
    """How revealing is held back (C4.3.2): reveals per person per hour, and how recent the
    second factor must be at levels that ask for one (C4.2.4); and how often one person may ask
    查重 (issue 17.4: a phone list run through 查重 maps customers to their handlers)."""

    per_hour: int
    step_up_window: timedelta
    checks_per_hour: int = 60
    checks_per_day: int = 300

    @classmethod
    def from_settings(cls, settings: Settings) -> RevealLimits:
        return cls(
            per_hour=settings.reveal_limit_per_hour,
            step_up_window=timedelta(minutes=settings.step_up_window_minutes),
            checks_per_hour=settings.check_limit_per_hour,
            checks_per_day=settings.check_limit_per_day,
        )


@dataclass(frozen=True, slots=True)
class Vault:
    """What the customer door works with: keys, blind indexer, row tagger (issue 17.5), level
    rules and reveal limits, and whether the security officers' notices of damaged records also
    go out by mail."""

    provider: KeyProvider
    indexer: BlindIndexer
    tags: RowTagger
    levels: Levels
    limits: RevealLimits
    mail: bool = False
    # The company's processing purposes (C4.1.2, BAOMI_HOME/purposes.toml).
    purposes: PurposeCatalog = DEFAULT_PURPOSES

    @classmethod
    def from_settings(cls, settings: Settings, provider: KeyProvider) -> Vault:
        """The process's vault: BAOMI_LEVELS and BAOMI_HOME/levels.toml (a bad file is an
        error), the reveal limits and whether mail is on, read from `settings` once at start."""
        vault = cls.from_provider(
            provider, levels=load_levels(settings), limits=RevealLimits.from_settings(settings)
        )
        return replace(vault, mail=mail_enabled(settings), purposes=load_purposes(settings.home))

    @classmethod
    def from_provider(
        cls,
        provider: KeyProvider,
        *,
        levels: Levels | None = None,
        limits: RevealLimits | None = None,
    ) -> Vault:
        """A vault around `provider`; what is not given is the settings' defaults (the default
        level template, the default limits), never the environment: for tests and benchmarks."""
        return cls(
            provider=provider,
            indexer=BlindIndexer(provider.index_root_key()),
            tags=RowTagger(provider.index_root_key()),
            levels=levels if levels is not None else build_levels(_DEFAULTS.levels),
            limits=limits if limits is not None else RevealLimits.from_settings(_DEFAULTS),
        )


def seal(
    cipher: FieldCipher, *, record_id: str, field: str, value: Any, revision: int
) -> bytes | None:
    """Seal one field's value for revision `revision` of the record (issue 17.9)."""
    if value is None:
        return None
    plaintext = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return cipher.encrypt(
        table=TABLE, field=field, record_id=record_id, plaintext=plaintext, revision=revision
    )


def index_terms(values: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (index name, normalised value) for every indexed value, contacts' included."""
    for name, value in values.items():
        spec = FIELDS.get(name)
        if spec is None or spec.index is None or value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            yield spec.index, normalized_for(spec.index, item)
    for contact in values.get("contacts") or []:
        for phone in contact.get("phones", []):
            yield "phone", normalized_for("phone", phone)
        for email in contact.get("emails", []):
            yield "email", normalized_for("email", email)


NORMALIZERS = {
    "name": normalize.name,
    "phone": normalize.phone,
    "email": normalize.email,
    "id_number": normalize.id_number,
}


_E164 = re.compile(r"\+[1-9]\d{6,14}")


def normalized_for(index: str, value: str) -> str:
    # Stored phones are already E.164 (validation normalises them), and parsing one again costs
    # more than the whole decryption of a 查重 candidate.
    if index == "phone" and _E164.fullmatch(value):
        return value
    return NORMALIZERS[index](value)


def index_rows(
    indexer: BlindIndexer, customer_id: str, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the distinct customer_index rows for these values."""
    keys = {(index, indexer.index(index, term)) for index, term in index_terms(values)}
    return [{"customer_id": customer_id, "field": f, "value": v} for f, v in sorted(keys)]


def reindex(conn: Connection, vault: Vault, cipher: FieldCipher, customer_id: str) -> None:
    """Rebuild a customer's blind-index entries from its current encrypted values."""
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).one()
    indexed = [name for name, spec in FIELDS.items() if spec.index] + ["contacts"]
    values = open_fields(cipher, dict(row._mapping), customer_id, indexed)
    conn.execute(delete(customer_index).where(customer_index.c.customer_id == customer_id))
    if rows := index_rows(vault.indexer, customer_id, values):
        conn.execute(insert(customer_index), rows)
