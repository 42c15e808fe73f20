"""Key bookkeeping: master-key versions, per-customer data keys, rotation progress.

Key material is never stored here in the clear: master keys live with a key provider outside the
database, data keys only wrapped under a master-key version (C4.2.2).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table

from baomi.db import UTCDateTime, metadata

master_key_versions = Table(
    "master_key_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    # active: wraps new data keys; previous: still unwraps; retired: refused.
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("retired_at", UTCDateTime(), nullable=True),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=False, unique=True),
    Column(
        "master_version",
        Integer,
        ForeignKey("master_key_versions.version"),
        nullable=False,
        index=True,
    ),
    Column("wrapped", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("rewrapped_at", UTCDateTime(), nullable=True),
    # C4.5.1 crypto-shredding: the wrapped key is erased and this stamp set.
    Column("shredded_at", UTCDateTime(), nullable=True),
)

key_rotations = Table(
    "key_rotations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("target_version", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("rewrapped", Integer, nullable=False, default=0),
)
